package blockstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
)

// packFiles lists the pack files of the store in dir.
func packFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func mustGet(t *testing.T, s blockstore.Blockstore, want blocks.Block) {
	t.Helper()
	got, err := s.Get(context.Background(), want.Cid())
	if err != nil {
		t.Fatalf("Get %s: %v", want.Cid(), err)
	}
	if !bytes.Equal(got.RawData(), want.RawData()) {
		t.Fatalf("Get %s: %d bytes that differ from the %d stored", want.Cid(), len(got.RawData()), len(want.RawData()))
	}
}

// cborBlock is a block of a codec the record's meta does not name, so its
// record carries the codec too.
func cborBlock(t *testing.T, size int) blocks.Block {
	t.Helper()
	data := bytes.Repeat([]byte{0xa5}, size)
	h, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.NewBlockWithCid(data, cid.NewCidV1(cid.DagCBOR, h))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackedBlocks: blocks from the threshold up live in pack files and
// read back with their codec and exact size; smaller ones stay in Badger.
func TestPackedBlocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openBadgerAt(t, dir)
	small := randomBlocks(t, 1, 1, blockstore.PackThreshold-1)[0]
	edge := randomBlocks(t, 2, 1, blockstore.PackThreshold)[0]
	big := randomBlocks(t, 3, 1, mib+7)[0]
	cbor := cborBlock(t, 3*blockstore.PackThreshold)
	all := []blocks.Block{small, edge, big, cbor}
	if err := s.PutMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	if n := len(packFiles(t, dir)); n != 1 {
		t.Fatalf("%d pack files, want 1", n)
	}
	var total int64
	for _, b := range all {
		mustGet(t, s, b)
		n, err := s.GetSize(ctx, b.Cid())
		if err != nil || n != len(b.RawData()) {
			t.Fatalf("GetSize %s = %d, %v; want %d", b.Cid(), n, err, len(b.RawData()))
		}
		total += int64(len(b.RawData()))
	}
	codecs := map[string]uint64{}
	if err := s.AllKeys(ctx, func(c cid.Cid) error {
		codecs[string(c.Hash())] = c.Type()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if got := codecs[string(b.Cid().Hash())]; got != b.Cid().Type() {
			t.Errorf("AllKeys gave codec %#x for %s, want %#x", got, b.Cid(), b.Cid().Type())
		}
	}
	n, bytes, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Only the small block's size is Badger's estimate (a few bytes off).
	if n != len(all) || bytes < total || bytes > total+64 {
		t.Fatalf("Stats = %d blocks, %d bytes; want %d, %d", n, bytes, len(all), total)
	}
}

// TestPackedBlocksKeepAcrossReopen: pack files and their records survive a
// clean close, and appending goes on after the blocks already there.
func TestPackedBlocksKeepAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first := randomBlocks(t, 4, 3, mib)
	second := randomBlocks(t, 5, 3, mib)
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMany(ctx, first); err != nil {
		t.Fatal(err)
	}
	reopenAndAppend(ctx, t, s, dir, first, second)
}

// reopenAndAppend closes s (holding first), reopens the store in dir,
// appends second with ctx and checks that every block reads back.
func reopenAndAppend(ctx context.Context, t *testing.T, s *blockstore.BadgerStore, dir string, first, second []blocks.Block) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openBadgerAt(t, dir)
	if err := s.PutMany(ctx, second); err != nil {
		t.Fatal(err)
	}
	for _, b := range append(first, second...) {
		mustGet(t, s, b)
	}
}

// TestOldRepoBlocksStayReadable: a repo written before pack files keeps
// large blocks in Badger; they read, size, count and collect as before.
func TestOldRepoBlocksStayReadable(t *testing.T) {
	ctx := context.Background()
	s := openBadger(t)
	old := randomBlocks(t, 6, 2, mib)
	for _, b := range append(old, cborBlock(t, 2*blockstore.PackThreshold)) {
		if err := blockstore.PutInBadger(s, b); err != nil {
			t.Fatal(err)
		}
		mustGet(t, s, b)
		if n, err := s.GetSize(ctx, b.Cid()); err != nil || n != len(b.RawData()) {
			t.Fatalf("GetSize = %d, %v; want %d", n, err, len(b.RawData()))
		}
	}
	if err := s.Delete(ctx, old[0].Cid()); err != nil {
		t.Fatal(err)
	}
	if err := s.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, old[1])
}

// TestPackRecordsLostInACrash: after a crash a record can point past the
// end of its pack (Badger's log reached the disk, the pack's bytes did
// not). The next open drops such records, so the blocks read as missing
// and are fetched again, instead of reading as garbage.
func TestPackRecordsLostInACrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kept := randomBlocks(t, 7, 2, mib)
	lost := randomBlocks(t, 8, 2, mib)
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMany(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMany(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The crash: no clean mark, and the pack cut short inside the first
	// lost block (its bytes start after the two kept 1 MiB blocks).
	packs := packFiles(t, dir)
	if len(packs) != 1 {
		t.Fatalf("%d pack files, want 1", len(packs))
	}
	if err := os.Remove(filepath.Join(dir, "packs", "clean")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(packs[0], 2*mib+100); err != nil {
		t.Fatal(err)
	}
	s = openBadgerAt(t, dir)
	for _, b := range kept {
		mustGet(t, s, b)
	}
	for _, b := range lost {
		if has, err := s.Has(ctx, b.Cid()); err != nil || has {
			t.Fatalf("Has(lost block) = %v, %v; want false", has, err)
		}
	}
	// Storing them again works (appending goes on after the cut).
	if err := s.PutMany(ctx, lost); err != nil {
		t.Fatal(err)
	}
	for _, b := range append(kept, lost...) {
		mustGet(t, s, b)
	}
}

// TestReclaimFreesPackSpace: deleted blocks' ranges are punched out of
// their pack, and a pack with no block left is removed, while the blocks
// that stay read back unchanged.
func TestReclaimFreesPackSpace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("holes are punched on Linux only")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blockstore.OpenBadger(dir, blockstore.WithPackSize(16*mib))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	bs := randomBlocks(t, 9, 48, mib) // three packs
	if err := s.PutMany(ctx, bs); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(packFiles(t, dir)); n != 3 {
		t.Fatalf("%d pack files, want 3", n)
	}
	before, _ := s.DiskUsage()
	// All of the first pack, every other block of the second.
	var gone, kept []blocks.Block
	for i, b := range bs {
		if i < 16 || (i < 32 && i%2 == 0) {
			gone = append(gone, b)
		} else {
			kept = append(kept, b)
		}
	}
	for _, b := range gone {
		if err := s.Delete(ctx, b.Cid()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := s.DiskUsage()
	t.Logf("disk usage %d MiB -> %d MiB", before/mib, after/mib)
	if freed := before - after; freed < int64(len(gone)-1)*mib {
		t.Fatalf("Reclaim freed %d MiB, want about %d", freed/mib, len(gone))
	}
	if n := len(packFiles(t, dir)); n != 2 {
		t.Fatalf("%d pack files after the first emptied, want 2", n)
	}
	for _, b := range kept {
		mustGet(t, s, b)
	}
}

// TestReclaimWhileReadingAndWriting: Reclaim frees pack ranges while other
// goroutines store blocks, delete them and read them: a read of a block
// being deleted returns its bytes or "not found", never a freed (zeroed)
// range, and nothing kept is lost.
func TestReclaimWhileReadingAndWriting(t *testing.T) {
	ctx := context.Background()
	s, err := blockstore.OpenBadger(t.TempDir(), blockstore.WithPackSize(8*mib))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	keep := randomBlocks(t, 10, 4, 256<<10)
	if err := s.PutMany(ctx, keep); err != nil {
		t.Fatal(err)
	}
	var victims atomic.Pointer[[]blocks.Block] // stored, being deleted
	victims.Store(&keep)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for g := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, want := range []blocks.Block{keep[(i+g)%len(keep)], (*victims.Load())[i%4]} {
					b, err := s.Get(ctx, want.Cid())
					if errors.Is(err, blockstore.ErrNotFound) && want != keep[(i+g)%len(keep)] {
						continue
					}
					if err == nil && !bytes.Equal(b.RawData(), want.RawData()) {
						err = fmt.Errorf("read %s during reclaim: bytes differ", want.Cid())
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			junk := randomBlocks(t, uint64(1000+round), 4, 256<<10)
			if err := s.PutMany(ctx, junk); err != nil {
				errs <- err
				return
			}
			victims.Store(&junk)
			for _, b := range junk {
				if err := s.Delete(ctx, b.Cid()); err != nil {
					errs <- err
					return
				}
			}
		}
	})
	for range 30 {
		if err := s.Reclaim(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, b := range keep {
		mustGet(t, s, b)
	}
}

// TestReclaimWaitsForReads: a read that found a block's record before the
// block was deleted still gets its bytes: Reclaim does not free the range
// under it. (Without that, the read returns the zeros of a punched hole.)
func TestReclaimWaitsForReads(t *testing.T) {
	ctx := context.Background()
	s := openBadger(t)
	b := randomBlocks(t, 11, 1, mib)[0]
	if err := s.PutMany(ctx, []blocks.Block{b}); err != nil {
		t.Fatal(err)
	}
	reclaimed := make(chan error, 1)
	blockstore.SetAfterLookupHook(s, func() {
		blockstore.SetAfterLookupHook(s, nil)
		if err := s.Delete(ctx, b.Cid()); err != nil {
			t.Error(err)
		}
		go func() { reclaimed <- s.Reclaim(ctx) }()
		// Reclaim must wait for this read; give it time to free the
		// range if it would (it cannot finish first when it waits).
		select {
		case err := <-reclaimed:
			reclaimed <- err
		case <-time.After(200 * time.Millisecond):
		}
	})
	mustGet(t, s, b)
	if err := <-reclaimed; err != nil {
		t.Fatal(err)
	}
	if has, _ := s.Has(ctx, b.Cid()); has {
		t.Fatal("the deleted block is still there")
	}
}
