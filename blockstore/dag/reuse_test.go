package dag

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// TestImportReuse: adding a folder again with the earlier version to reuse
// gives exactly the CID a full add of the folder as it now is gives,
// whatever changed (a file rewritten at the same size, one grown, one
// whose modification time was set back, files added, removed and renamed,
// in nested and HAMT folders), and reads only what changed: the blocks it
// writes are the folders' and the changed files'.
func TestImportReuse(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "docs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tree{
		"a.txt":   []byte("ten bytes!"),
		"big.bin": detBytes(1, 3<<20+17), // four leaves and a file node
		"sub": tree{
			"b.txt": []byte("bee"),
			"deep":  tree{"c.txt": []byte("sea"), "d.txt": []byte("dee")},
			"notes": link("../a.txt"),
		},
		"shard": hamtTree(5000), // sharded
	}.writeDisk(t, dir)

	bs := &leafStore{Blockstore: blockstore.NewMemStore()}
	add := func(t *testing.T, bs blockstore.Blockstore, reuse *Reuse) Result {
		t.Helper()
		return addReusing(t, bs, dir, reuse)
	}
	// check adds the folder again reusing prev, and compares with a full
	// add into a fresh store: the same CID and size, and only the leaves
	// of the files that changed read (and written). It returns the new
	// version and the time its add started.
	check := func(t *testing.T, prev Result, since time.Time, leaves int64) (Result, time.Time) {
		t.Helper()
		next := ticked(t, filepath.Dir(dir))
		bs.leaves.Store(0)
		got := add(t, bs, &Reuse{Prev: prev.Root, Since: since})
		want := add(t, blockstore.NewMemStore(), nil)
		if got.Root != want.Root || got.Size != want.Size {
			t.Fatalf("reusing %s gave %s (%d bytes), a full add %s (%d bytes)", prev.Root, got.Root, got.Size, want.Root, want.Size)
		}
		if n := bs.leaves.Load(); n != leaves {
			t.Errorf("reusing %s wrote %d leaves, want %d: those of the files that changed", prev.Root, n, leaves)
		}
		return got, next
	}
	since := ticked(t, filepath.Dir(dir))
	v1 := add(t, bs, nil)
	v2, since2 := check(t, v1, since, 0)
	if v2.Root != v1.Root {
		t.Fatalf("nothing changed, yet %s became %s", v1.Root, v2.Root)
	}
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", []byte("TEN BYTES!"))                        // same size, new content: 1 leaf
	write("big.bin", detBytes(1, 3<<20+18))                     // grown by a byte: 4 leaves
	write(filepath.Join("sub", "deep", "e.txt"), []byte("eee")) // new: 1
	if err := os.Remove(filepath.Join(dir, "sub", "b.txt")); err != nil {
		t.Fatal(err)
	}
	// Renamed: a rename changes the inode's time too, so it is read: 1.
	if err := os.Rename(filepath.Join(dir, "sub", "deep", "c.txt"), filepath.Join(dir, "sub", "c2.txt")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("shard", fmt.Sprintf("%0200d", 42)), []byte("changed in the shard")) // 1
	write(filepath.Join("shard", "new.txt"), []byte("new in the shard"))                     // 1
	v3, since3 := check(t, v2, since2, 9)

	// Content changed at the same size, the modification time set back
	// to before the earlier add: the inode change time tells.
	old := since.Add(-time.Hour)
	write(filepath.Join("sub", "deep", "d.txt"), []byte("DEE"))
	if err := os.Chtimes(filepath.Join(dir, "sub", "deep", "d.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	v4, since4 := check(t, v3, since3, 1)
	if v4.Root == v3.Root {
		t.Fatal("a file changed with its time set back was taken as unchanged")
	}

	// A leaf of big.bin gone from the store (an interrupted gc): big.bin
	// is read again, and the leaf is back.
	ents, err := Ls(ctx, bs, v4.Root)
	if err != nil {
		t.Fatal(err)
	}
	var leaf cid.Cid
	for _, e := range ents {
		if e.Name == "big.bin" {
			nd, err := readDAG{bs}.Get(ctx, e.Cid)
			if err != nil {
				t.Fatal(err)
			}
			leaf = nd.Links()[2].Cid
		}
	}
	if err := bs.Delete(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	check(t, v4, since4, 4)
	if ok, err := bs.Has(ctx, leaf); err != nil || !ok {
		t.Fatalf("big.bin's missing leaf is still missing after the add: %v", err)
	}

	// The earlier version not in the store: everything is read.
	full := add(t, blockstore.NewMemStore(), &Reuse{Prev: v1.Root, Since: time.Now()})
	if full.Root != v4.Root {
		t.Fatalf("with nothing to reuse: %s, want %s", full.Root, v4.Root)
	}
}

// TestImportReuseFile: a single file added again is its earlier version
// when unchanged, and read when it changed.
func TestImportReuseFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "film.bin")
	if err := os.WriteFile(p, detBytes(2, 2<<20+5), 0o644); err != nil {
		t.Fatal(err)
	}
	bs := blockstore.NewMemStore()
	add := func(reuse *Reuse) Result {
		t.Helper()
		return addReusing(t, bs, p, reuse)
	}
	since := ticked(t, dir)
	v1 := add(nil)
	next := ticked(t, dir)
	if got := add(&Reuse{Prev: v1.Root, Since: since}); got.Root != v1.Root || got.Size != v1.Size || got.Blocks != 0 {
		t.Fatalf("the unchanged file added again: %+v, want %s, nothing written", got, v1.Root)
	}
	if err := os.WriteFile(p, detBytes(3, 2<<20+5), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := add(&Reuse{Prev: v1.Root, Since: next}); got.Root == v1.Root || got.Blocks == 0 {
		t.Fatalf("the changed file added again: %+v", got)
	}
}

// addReusing adds the file or folder at p from disk into bs, reusing
// reuse's earlier version when it is not nil, with no margin on the times
// (ticked makes them tell apart).
func addReusing(t *testing.T, bs blockstore.Blockstore, p string, reuse *Reuse) Result {
	t.Helper()
	n, err := OpenPath(p, Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var opts []ImportOption
	if reuse != nil {
		opts = append(opts, WithReuse(*reuse))
	}
	im := NewImporter(bs, opts...)
	im.margin = 0
	res, err := im.Add(context.Background(), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ticked returns a time after which any change to a file in dir has a
// later inode change time: the kernel stamps files from a clock that can
// lag time.Now by a tick, so it waits until a file written now is stamped
// after the time it returns.
func ticked(t *testing.T, dir string) time.Time {
	t.Helper()
	now := time.Now()
	probe := filepath.Join(dir, ".tick")
	defer os.Remove(probe)
	deadline := now.Add(5 * time.Second)
	for {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(probe)
		if err != nil {
			t.Fatal(err)
		}
		if changeTime(st).After(now) {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatal("the file system's clock does not move")
		}
	}
}

// leafStore counts the raw leaves put: the file data an import read.
type leafStore struct {
	blockstore.Blockstore
	leaves atomic.Int64
}

func (l *leafStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if b.Cid().Prefix().Codec == cid.Raw {
			l.leaves.Add(1)
		}
	}
	return l.Blockstore.PutMany(ctx, bs)
}

func (l *leafStore) Put(ctx context.Context, b blocks.Block) error {
	if b.Cid().Prefix().Codec == cid.Raw {
		l.leaves.Add(1)
	}
	return l.Blockstore.Put(ctx, b)
}
