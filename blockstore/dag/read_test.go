package dag

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

func TestStatAndLs(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := sampleTree()
	res := importNode(t, bs, tr.node())

	st, err := Stat(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Type != TypeDir || st.Size != tr.size() || st.Cid != res.Root {
		t.Errorf("Stat = %+v, want dir of %d bytes", st, tr.size())
	}

	ents, err := Ls(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, typ string
		size      uint64 // 0: not checked (folder Tsize)
	}{
		{"binary.bin", TypeFile, 3<<20 + 12345},
		{"empty", TypeFile, 0},
		{"emptydir", TypeDir, 0},
		{"hello.txt", TypeFile, 11},
		{"hello2.txt", TypeFile, 11},
		{"sub", TypeDir, 0},
		{"with space ", TypeFile, 4},
	}
	if len(ents) != len(want) {
		t.Fatalf("Ls gave %d entries, want %d: %+v", len(ents), len(want), ents)
	}
	for i, w := range want {
		e := ents[i]
		if e.Name != w.name || e.Type != w.typ || (w.typ == TypeFile && e.Size != w.size) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
		// Each entry Stats to the same thing (a folder's exact size).
		st, err := Stat(ctx, bs, e.Cid)
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != e.Type || (e.Type == TypeFile && st.Size != e.Size) {
			t.Errorf("Stat(%s) = %+v, Ls said %+v", e.Name, st, e)
		}
	}
	sub := tr["sub"].(tree)
	if st, _ := Stat(ctx, bs, ents[5].Cid); st.Size != sub.size() {
		t.Errorf("Stat(sub).Size = %d, want %d", st.Size, sub.size())
	}
	if ents[5].Size <= sub.size() {
		t.Errorf("Ls(sub).Size = %d, want the Tsize (> content %d)", ents[5].Size, sub.size())
	}

	if _, err := Ls(ctx, bs, ents[0].Cid); !errors.Is(err, ErrNotDir) {
		t.Errorf("Ls(file) err = %v, want ErrNotDir", err)
	}
	if _, _, err := Open(ctx, bs, res.Root); !errors.Is(err, ErrIsDir) {
		t.Errorf("Open(dir) err = %v, want ErrIsDir", err)
	}

	subEnts, err := Ls(ctx, bs, ents[5].Cid)
	if err != nil || len(subEnts) == 0 {
		t.Fatalf("Ls(sub): %v, %d entries", err, len(subEnts))
	}
	firsts := []struct {
		name string
		c    cid.Cid
		want string
		err  error
	}{
		{"folder", res.Root, "binary.bin", nil},
		{"sub-folder", ents[5].Cid, subEnts[0].Name, nil},
		{"empty folder", ents[2].Cid, "", nil},
		{"file", ents[0].Cid, "", ErrNotDir},
	}
	for _, tt := range firsts {
		got, err := FirstName(ctx, bs, tt.c)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("FirstName(%s) = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestLsHAMT(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := hamtTree(5000)
	res := importNode(t, bs, tr.node())
	ents, err := Ls(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(tr) {
		t.Fatalf("Ls gave %d entries, want %d", len(ents), len(tr))
	}
	for i, e := range ents {
		if i > 0 && ents[i-1].Name >= e.Name {
			t.Fatalf("Ls not sorted at %d", i)
		}
		data, ok := tr[e.Name].([]byte)
		if !ok || e.Type != TypeFile || e.Size != uint64(len(data)) {
			t.Fatalf("entry %+v does not match", e)
		}
	}
	st, err := Stat(ctx, bs, res.Root)
	if err != nil || st.Size != tr.size() || st.Type != TypeDir {
		t.Errorf("Stat = %+v, %v; want dir of %d", st, err, tr.size())
	}
	// A sharded folder enumerates in hash order: its first name is still
	// the first by name.
	if first, err := FirstName(ctx, bs, res.Root); err != nil || first != ents[0].Name {
		t.Errorf("FirstName = %q, %v; want %q", first, err, ents[0].Name)
	}
}

func TestOpenSeek(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	data := detBytes(21, 3<<20+777)
	res := importNode(t, bs, files.NewBytesFile(data))
	r, size, err := Open(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if size != uint64(len(data)) {
		t.Fatalf("size = %d", size)
	}
	n := int64(len(data))
	tests := []struct {
		name   string
		offset int64
		whence int
		length int
		at     int64 // expected absolute position
	}{
		{"start", 0, io.SeekStart, 100, 0},
		{"across first chunk boundary", 1<<20 - 10, io.SeekStart, 20, 1<<20 - 10},
		{"middle of second chunk", 1<<20 + 12345, io.SeekStart, 4096, 1<<20 + 12345},
		{"whole third chunk", 2 << 20, io.SeekStart, 1 << 20, 2 << 20},
		{"tail from end", -777, io.SeekEnd, 777, n - 777},
		{"backwards from current", -(1 << 20), io.SeekCurrent, 50, n - (1 << 20)},
	}
	for _, tt := range tests {
		pos, err := r.Seek(tt.offset, tt.whence)
		if err != nil || pos != tt.at {
			t.Fatalf("%s: Seek = %d, %v; want %d", tt.name, pos, err, tt.at)
		}
		buf := make([]byte, tt.length)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("%s: read: %v", tt.name, err)
		}
		if !bytes.Equal(buf, data[tt.at:tt.at+int64(tt.length)]) {
			t.Errorf("%s: wrong bytes", tt.name)
		}
	}
	// At the end, Read reports EOF.
	if _, err := r.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if k, err := r.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Errorf("read at end = %d, %v", k, err)
	}
}

// Every read path reports a missing block as blockstore.ErrNotFound.
func TestMissingBlockIsNotFound(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := sampleTree()
	res := importNode(t, bs, tr.node())
	ents, err := Ls(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	bin := ents[0] // binary.bin: dag-pb root over raw leaves
	pn, _ := rootNode(t, bs, bin.Cid)
	if err := bs.Delete(ctx, pn.Links()[1].Cid); err != nil { // second leaf
		t.Fatal(err)
	}
	sub := ents[5]
	if err := bs.Delete(ctx, sub.Cid); err != nil {
		t.Fatal(err)
	}

	hbs := blockstore.NewMemStore()
	hres := importNode(t, hbs, hamtTree(5000).node())
	hroot, _ := rootNode(t, hbs, hres.Root)
	if err := hbs.Delete(ctx, hroot.Links()[0].Cid); err != nil { // a shard or entry
		t.Fatal(err)
	}

	readAll := func() error {
		r, _, err := Open(ctx, bs, bin.Cid)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(io.Discard, r)
		return err
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"Open missing root", func() error { _, _, err := Open(ctx, bs, sub.Cid); return err }},
		{"read missing leaf", readAll},
		{"Stat folder with missing subfolder", func() error { _, err := Stat(ctx, bs, res.Root); return err }},
		{"Ls missing folder", func() error { _, err := Ls(ctx, bs, sub.Cid); return err }},
		{"Ls HAMT with missing shard", func() error { _, err := Ls(ctx, hbs, hres.Root); return err }},
		{"WriteTo with missing leaf", func() error { return WriteTo(ctx, bs, res.Root, t.TempDir()+"/out", nil) }},
		{"ExportCAR with missing leaf", func() error { return ExportCAR(ctx, bs, res.Root, io.Discard) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, blockstore.ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	}
}
