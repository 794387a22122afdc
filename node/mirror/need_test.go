package mirror

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// TestApplyFetchesWhatItWrites: following a folder as it is, Apply asks
// whole only the files it writes (missing here) or must compare byte for
// byte (the version's size, another hash); a copy of the version's bytes
// is known by its hash, a file of another size is kept unread, and nothing
// below a folder replaced here by a link is looked at through it.
// Progress goes compare, fetch, write, and ends with all written.
func TestApplyFetchesWhatItWrites(t *testing.T) {
	bs := blockstore.NewMemStore()
	v := version(t, bs, tree{"new.txt": "new here", "same.txt": "the same bytes", "mine.txt": "the group's", "big.txt": "short",
		"d": tree{"other.txt": "in a folder"}, "linked": tree{"away.txt": "not looked at"}})
	dir := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "same.txt"), "the same bytes")
	writeFile(t, filepath.Join(dir, "mine.txt"), "mine, again")
	writeFile(t, filepath.Join(dir, "big.txt"), "much longer than the group's")

	names := map[cid.Cid][]string{} // each file of the version, by CID
	var walk func(c cid.Cid, rel string)
	walk = func(c cid.Cid, rel string) {
		es, err := dag.Ls(context.Background(), bs, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Type == dag.TypeDir {
				walk(e.Cid, rel+e.Name+"/")
			} else {
				names[e.Cid] = append(names[e.Cid], rel+e.Name)
			}
		}
	}
	walk(v, "")
	var asked [][]string // per call: the named files it asked whole
	fetch := func(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error) {
		var got []string
		for fc, ns := range names {
			if files == nil || files(fc) {
				got = append(got, ns...)
			}
		}
		slices.Sort(got)
		asked = append(asked, got)
		if progress != nil {
			progress(1)
		}
		return 0, nil
	}
	var phases []string
	var last Progress
	res, err := Apply(context.Background(), Version{Root: v, Store: bs, Fetch: fetch}, dir, Manifest{}, func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		if p.Done > p.Total {
			t.Errorf("progress %+v: done beyond the total", p)
		}
		last = p
	})
	if err != nil {
		t.Fatal(err)
	}
	// The folders and first blocks first, then d/other.txt, mine.txt and
	// new.txt.
	if len(asked) != 2 || len(asked[0]) != 0 || strings.Join(asked[1], " ") != "d/other.txt mine.txt new.txt" {
		t.Errorf("fetches asked for %q, want none whole, then d/other.txt, mine.txt and new.txt", asked)
	}
	if strings.Join(phases, " ") != "compare fetch write" {
		t.Errorf("phases %q", phases)
	}
	if last.Phase != PhaseWrite || last.Done != last.Total || last.Done != int64(len("new here")+len("in a folder")) {
		t.Errorf("last progress %+v: want all written (new.txt, d/other.txt)", last)
	}
	if !slices.Equal(res.Kept, []string{"big.txt", "linked", "mine.txt"}) || res.Written != 2 {
		t.Errorf("%+v: want big.txt, linked and mine.txt kept, new.txt and d/other.txt written", res)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "mine.txt")); string(b) != "mine, again" {
		t.Errorf("mine.txt = %q", b)
	}
}

// TestApplyRefetchesBlocksItWroteOver: a folder that is its own copy (the
// store keeps where its files' bytes are) gets a version that swaps two
// files: they are moved, nothing is fetched. Then one where a file is
// replaced by another (moved over it) and a new file starts as the
// replaced one did (its first block). Moving the first replaces the file
// the new one's bytes were to be read from: Apply fetches those again,
// once, and writes it whole instead of failing (and leaving the folder
// half-way).
func TestApplyRefetchesBlocksItWroteOver(t *testing.T) {
	ctx := context.Background()
	x := bytes.Repeat([]byte("the first file "), 150_000) // 2,250,000 B: three blocks, kept as references
	y := bytes.Repeat([]byte("and the second "), 20_000)
	dir := t.TempDir()
	for name, body := range map[string][]byte{"x.bin": x, "y.bin": y} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := blockstore.OpenBadger(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	nd, err := dag.OpenPath(dir, dag.Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := dag.NewImporter(bs, dag.WithNoCopy()).Add(ctx, nd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if refs, err := bs.FileRefStats(ctx); err != nil || refs.Bytes != int64(len(x)+len(y)) {
		t.Fatalf("%d bytes kept as references (%v), want both files'", refs.Bytes, err)
	}
	man := Manifest{}
	apply(t, bs, v1.Root, dir, man) // the mirror's record of what it holds

	// Another device swapped them: its store holds the bytes.
	remote := blockstore.NewMemStore()
	// fetch copies from remote what the store lacks of the DAG c.
	var fetch func(ctx context.Context, c cid.Cid, _ func(cid.Cid) bool, _ func(int64)) (int64, error)
	fetch = func(ctx context.Context, c cid.Cid, _ func(cid.Cid) bool, _ func(int64)) (int64, error) {
		b, err := remote.Get(ctx, c)
		if err != nil {
			return 0, err
		}
		var n int64
		if ok, err := bs.Has(ctx, c); err != nil {
			return 0, err
		} else if !ok {
			if err := bs.Put(ctx, b); err != nil {
				return 0, err
			}
			n = int64(len(b.RawData()))
		}
		links, err := blockstore.Links(b)
		if err != nil {
			return n, err
		}
		for _, l := range links {
			m, err := fetch(ctx, l, nil, nil)
			n += m
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
	v2 := version(t, remote, tree{"x.bin": string(y), "y.bin": string(x)})
	res, err := Apply(ctx, Version{Root: v2, Store: bs, Fetch: fetch}, dir, man, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	holds(t, dir, v2)
	if res.Moved != 2 || res.Written != 0 || res.Fetched > 1024 { // the folder
		t.Errorf("%+v: want both moved, nothing fetched but the folder", res)
	}
	// The store keeps the bytes where they are now (as node's keepInFiles
	// has it do).
	var refs []blockstore.Referral
	for rel, c := range res.files {
		p := filepath.Join(dir, rel)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		err = dag.FileLeavesOf(ctx, bs, c, st.Size(), func(leaf cid.Cid, off int64, size int) error {
			refs = append(refs, blockstore.Referral{Cid: leaf, Ref: blockstore.FileRef{Path: p, Off: off, Size: size, FileSize: st.Size(), ModTime: st.ModTime().UnixNano()}})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bs.ReferTo(ctx, refs); err != nil {
		t.Fatal(err)
	}

	// y.bin (x's bytes now) replaced by x.bin, and z.bin starts as y.bin
	// did.
	z := append(slices.Clone(x[:1<<20]), "and then another ending"...)
	v3 := version(t, remote, tree{"y.bin": string(y), "z.bin": string(z)})
	res, err = Apply(ctx, Version{Root: v3, Store: bs, Fetch: fetch}, dir, man, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	holds(t, dir, v3)
	if res.Moved != 1 || res.Written != 1 || res.Fetched < 1<<20 || res.Fetched >= int64(len(x)) {
		t.Errorf("%+v: want y.bin moved, z.bin written, and its first block fetched again", res)
	}
}
