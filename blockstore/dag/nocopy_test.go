package dag

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/kith-p2p/kith/blockstore"
)

// TestNoCopy: a folder imported WithNoCopy has the same CIDs as without,
// its large leaves are kept as references to its files (the repo holds
// its folders and small files only), and it is written back whole.
func TestNoCopy(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "Videos")
	tr := tree{
		"big.mp4": detBytes(1, 3<<20+12345),
		"small":   []byte("a small file, kept in the repo"),
		"sub":     tree{"mid.jpg": detBytes(2, 200<<10)},
	}
	mkdir(t, src)
	tr.writeDisk(t, src)
	want := importNode(t, blockstore.NewMemStore(), tr.node())

	s, err := blockstore.OpenBadger(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nd, err := OpenPath(src, Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	got := importNode(t, s, nd, WithNoCopy())
	if got.Root != want.Root {
		t.Fatalf("root %s WithNoCopy, %s without", got.Root, want.Root)
	}
	if _, size, err := s.Stats(ctx); err != nil || size > 64<<10 {
		t.Errorf("the repo holds %d bytes of blocks (%v): want the folders and the small file only", size, err)
	}
	out := filepath.Join(t.TempDir(), "back")
	if err := WriteTo(ctx, s, got.Root, out, nil); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, "", tr, readDisk(t, out))
}

// TestFileLeaves: a file's leaves in order, each with where its bytes are
// in the file.
func TestFileLeaves(t *testing.T) {
	ctx := context.Background()
	body := detBytes(3, 2<<20+5000)
	bs := blockstore.NewMemStore()
	res := importNode(t, bs, tree{"f": body}.node())
	f, err := Resolve(ctx, bs, res.Root, []string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	var got []byte
	err = FileLeaves(ctx, bs, f, func(leaf cid.Cid, off int64, size int) error {
		b, err := bs.Get(ctx, leaf)
		if err != nil || len(b.RawData()) != size || off != int64(len(got)) {
			t.Fatalf("leaf %s at %d, %d bytes: %v, %d bytes stored", leaf, off, size, err, len(b.RawData()))
		}
		offs = append(offs, off)
		got = append(got, b.RawData()...)
		return nil
	})
	if err != nil || !bytes.Equal(got, body) || len(offs) != 3 {
		t.Fatalf("FileLeaves: %v; %d leaves at %v, whole file %v", err, len(offs), offs, bytes.Equal(got, body))
	}
}
