package blockstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// TestFileRefs: blocks put as FileBlocks are kept as where their bytes are
// in the file (no bytes in the repo), read back from it with their hash
// checked; a changed or removed file makes them ErrFileChanged (an
// ErrNotFound), never wrong bytes; bytes replace a reference, a reference
// never replaces bytes, a newer reference replaces an older one; the
// references outlive a reopen and a reclaim, and Verify names what changed.
func TestFileRefs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blockstore.OpenBadger(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	const leaf = 100 << 10
	leaves := randomBlocks(t, 7, 4, leaf)
	file := filepath.Join(dir, "video.mp4")
	var body []byte
	for _, b := range leaves {
		body = append(body, b.RawData()...)
	}
	small := randomBlocks(t, 8, 1, 1000)[0]
	body = append(body, small.RawData()...)
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := func(b blocks.Block, path string, i int) blockstore.FileBlock {
		return blockstore.FileBlock{Block: b, Ref: blockstore.FileRef{Path: path, Off: int64(i * leaf), Size: len(b.RawData())}}
	}
	var put []blocks.Block
	for i, b := range leaves[:3] {
		put = append(put, ref(b, file, i))
	}
	// Too small to be worth a reference: kept as bytes.
	put = append(put, ref(small, file, 4))
	// Already here with its bytes: stays so.
	if err := s.Put(ctx, leaves[3]); err != nil {
		t.Fatal(err)
	}
	put = append(put, ref(leaves[3], file, 3))
	if err := s.PutMany(ctx, put); err != nil {
		t.Fatal(err)
	}
	refStats := func(want blockstore.FileRefCounts) {
		t.Helper()
		if got, err := s.FileRefStats(ctx); err != nil || got != want {
			t.Errorf("FileRefStats = %+v (%v), want %+v", got, err, want)
		}
	}
	refStats(blockstore.FileRefCounts{Blocks: 3, Bytes: 3 * leaf, Files: 1})
	if !s.IsFileRef(leaves[0].Cid()) || s.IsFileRef(leaves[3].Cid()) || s.IsFileRef(small.Cid()) {
		t.Error("IsFileRef: want the first leaf a reference, the leaf put with its bytes and the small block not")
	}
	if n, size, err := s.Stats(ctx); err != nil || n != 5 || size > int64(leaf+2000) {
		t.Errorf("Stats = %d blocks, %d bytes (%v); want 5 blocks, the bytes of the one leaf put with them and the small block only", n, size, err)
	}
	get := func(b blocks.Block) error {
		t.Helper()
		got, err := s.Get(ctx, b.Cid())
		if err == nil && !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("Get %s returned other bytes", b.Cid())
		}
		return err
	}
	for _, b := range append(slices.Clone(leaves), small) {
		if err := get(b); err != nil {
			t.Fatalf("Get: %v", err)
		}
		if n, err := s.GetSize(ctx, b.Cid()); err != nil || n != len(b.RawData()) {
			t.Errorf("GetSize = %d, %v", n, err)
		}
	}
	var keys []cid.Cid
	if err := s.AllKeys(ctx, func(c cid.Cid) error { keys = append(keys, c); return nil }); err != nil || len(keys) != 5 {
		t.Fatalf("AllKeys: %d keys, %v", len(keys), err)
	}
	for _, c := range keys {
		if c.Type() != cid.Raw {
			t.Errorf("AllKeys gives %s, not a raw leaf's CID", c)
		}
	}

	// The second leaf's bytes change in the file: that block is gone, the
	// others read on; the leaf kept with its bytes does not depend on it.
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("edited"), leaf+10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("edited"), 3*leaf+10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = get(leaves[1])
	if !errors.Is(err, blockstore.ErrFileChanged) || !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("Get of a block whose file changed: %v, want ErrFileChanged and ErrNotFound", err)
	}
	if want := "which changed since it was added"; !bytes.Contains([]byte(err.Error()), []byte(want)) || !bytes.Contains([]byte(err.Error()), []byte(file)) {
		t.Errorf("error %q, want the file and %q", err, want)
	}
	for _, b := range []blocks.Block{leaves[0], leaves[2], leaves[3]} {
		if err := get(b); err != nil {
			t.Errorf("Get %s after another part of the file changed: %v", b.Cid(), err)
		}
	}
	bad, changed, err := blockstore.Verify(ctx, s, nil)
	if err != nil || len(bad) != 0 || len(changed) != 1 || !changed[0].Equals(leaves[1].Cid()) {
		t.Errorf("Verify: bad %v, changed %v, %v; want the second leaf changed", bad, changed, err)
	}

	// Bytes replace a reference: the block no longer depends on the file.
	if err := s.Put(ctx, leaves[1]); err != nil {
		t.Fatal(err)
	}
	if err := get(leaves[1]); err != nil {
		t.Errorf("Get after its bytes were put: %v", err)
	}
	// A newer reference replaces an older one (the file moved).
	moved := filepath.Join(dir, "moved.mp4")
	if err := os.Rename(file, moved); err != nil {
		t.Fatal(err)
	}
	if err := get(leaves[0]); !errors.Is(err, blockstore.ErrFileChanged) || !bytes.Contains([]byte(err.Error()), []byte("is gone")) {
		t.Errorf("Get with the file gone: %v, want ErrFileChanged saying it is gone", err)
	}
	// Not counted as read from files any more: their file is gone.
	refStats(blockstore.FileRefCounts{Changed: 2})
	if err := s.PutMany(ctx, []blocks.Block{ref(leaves[0], moved, 0), ref(leaves[2], moved, 2)}); err != nil {
		t.Fatal(err)
	}
	refStats(blockstore.FileRefCounts{Blocks: 2, Bytes: 2 * leaf, Files: 1})
	if err := get(leaves[0]); err != nil {
		t.Errorf("Get after the reference moved: %v", err)
	}

	// References outlive a reopen and a reclaim (which frees pack space no
	// record points to).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = blockstore.OpenBadger(filepath.Join(dir, "repo")); err != nil {
		t.Fatal(err)
	}
	if err := s.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range []blocks.Block{leaves[0], leaves[1], leaves[2], leaves[3], small} {
		if err := get(b); err != nil {
			t.Errorf("Get %s after reopen and reclaim: %v", b.Cid(), err)
		}
	}
	// A file whose size and time were noted: touched, it still holds the
	// block (read and checked once, then noted afresh); written over, with
	// other bytes where the block was, it does not, and Has (which reads
	// nothing while the file is as noted) says so.
	st, err := os.Stat(moved)
	if err != nil {
		t.Fatal(err)
	}
	noted := ref(leaves[0], moved, 0)
	noted.Ref.FileSize, noted.Ref.ModTime = st.Size(), st.ModTime().UnixNano()
	if err := s.Put(ctx, noted); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx, leaves[0].Cid()); err != nil || !has {
		t.Fatalf("Has with the file as noted = %v, %v", has, err)
	}
	if err := os.Chtimes(moved, st.ModTime().Add(time.Hour), st.ModTime().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx, leaves[0].Cid()); err != nil || !has {
		t.Errorf("Has after the file was touched = %v, %v; want true: the bytes are the same", has, err)
	}
	if err := get(leaves[0]); err != nil {
		t.Errorf("Get after the file was touched: %v", err)
	}
	f, err = os.OpenFile(moved, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("rewritten"), 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for range 2 { // the second time from what the first found
		if has, err := s.Has(ctx, leaves[0].Cid()); err != nil || has {
			t.Errorf("Has after other bytes were written where the block was = %v, %v; want false", has, err)
		}
		if err := get(leaves[0]); !errors.Is(err, blockstore.ErrFileChanged) {
			t.Errorf("Get after other bytes were written where the block was: %v, want ErrFileChanged", err)
		}
	}
	if has, err := s.Has(ctx, leaves[2].Cid()); err != nil || !has {
		t.Errorf("Has of a block whose reference noted no time = %v, %v", has, err)
	}

	// A gc takes the records of blocks whose files no longer hold them
	// too (nothing is pinned here: it takes every block).
	res, err := blockstore.CollectGarbage(ctx, s, s, blockstore.NewGCLocker(), nil)
	if err != nil || res.Removed != 5 {
		t.Errorf("gc removed %d blocks (%v), want all 5, the one whose file changed too", res.Removed, err)
	}
	if err := s.Put(ctx, ref(leaves[2], moved, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, leaves[2].Cid()); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx, leaves[2].Cid()); err != nil || has {
		t.Errorf("Has after Delete = %v, %v", has, err)
	}
}
