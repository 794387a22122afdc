package blockstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

const mib = 1 << 20

// randomBlocks returns n raw blocks of size random (incompressible) bytes,
// reproducible from seed.
func randomBlocks(t *testing.T, seed uint64, n, size int) []blocks.Block {
	t.Helper()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	out := make([]blocks.Block, n)
	for i := range out {
		data := make([]byte, size)
		_, _ = r.Read(data)
		out[i] = storetest.RawBlock(t, data)
	}
	return out
}

func TestBadgerPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	big := randomBlocks(t, 1, 1, mib)[0]
	small := storetest.RawBlock(t, []byte("small"))
	node := storetest.DagPBBlock(t, 1, []byte("node"), big.Cid(), small.Cid())
	if err := s.PutMany(ctx, []blocks.Block{big, small, node}); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	pin := blockstore.Pin{Cid: node.Cid(), Name: "n", Size: 42, Created: time.Now()}
	if err := s.AddPin(ctx, pin); err != nil {
		t.Fatalf("AddPin: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openBadgerAt(t, dir)
	for _, b := range []blocks.Block{big, small, node} {
		got, err := s.Get(ctx, b.Cid())
		if err != nil {
			t.Fatalf("Get %s after reopen: %v", b.Cid(), err)
		}
		if !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("Get %s after reopen returned other bytes", b.Cid())
		}
	}
	keys := map[cid.Cid]bool{}
	if err := s.AllKeys(ctx, func(c cid.Cid) error { keys[c] = true; return nil }); err != nil {
		t.Fatalf("AllKeys: %v", err)
	}
	if len(keys) != 3 || !keys[node.Cid()] || !keys[big.Cid()] {
		t.Fatalf("AllKeys after reopen = %v, want the 3 CIDv1s with their codecs", keys)
	}
	got, err := s.GetPin(ctx, pin.Cid, blockstore.OwnerUser)
	if err != nil {
		t.Fatalf("GetPin after reopen: %v", err)
	}
	if got.Name != pin.Name || got.Size != pin.Size || !got.Created.Equal(pin.Created) {
		t.Fatalf("pin after reopen = %+v, want %+v", got, pin)
	}
}

func TestBadgerRepoLocked(t *testing.T) {
	dir := t.TempDir()
	openBadgerAt(t, dir)
	s, err := blockstore.OpenBadger(dir)
	if err == nil {
		s.Close()
		t.Fatal("second OpenBadger of the same dir succeeded")
	}
	if !errors.Is(err, blockstore.ErrRepoLocked) {
		t.Fatalf("second OpenBadger: %v, want ErrRepoLocked", err)
	}
}

// TestBadgerPutManyLargeBatch crosses the per-transaction byte cap, so
// PutMany must split into several commits and lose nothing.
func TestBadgerPutManyLargeBatch(t *testing.T) {
	ctx := context.Background()
	s := openBadger(t)
	bl := randomBlocks(t, 2, 40, mib)
	if err := s.PutMany(ctx, bl); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	for _, b := range bl {
		size, err := s.GetSize(ctx, b.Cid())
		if err != nil || size != mib {
			t.Fatalf("GetSize %s = %d, %v; want %d", b.Cid(), size, err, mib)
		}
	}
	n, _, err := s.Stats(ctx)
	if err != nil || n != len(bl) {
		t.Fatalf("Stats = %d blocks, %v; want %d", n, err, len(bl))
	}
}

func TestBadgerStats(t *testing.T) {
	ctx := context.Background()
	s := openBadger(t)
	bl := randomBlocks(t, 3, 10, mib)
	for i := range 10 {
		bl = append(bl, storetest.RawBlock(t, fmt.Appendf(nil, "small %d", i)))
	}
	var want int64
	for _, b := range bl {
		want += int64(len(b.RawData()))
	}
	if err := s.PutMany(ctx, bl); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	n, size, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	// Stats uses Badger's size estimate: allow a few bytes per block.
	if n != len(bl) || size < want-int64(16*n) || size > want+int64(16*n) {
		t.Fatalf("Stats = %d blocks, %d bytes; want %d blocks, ~%d bytes", n, size, len(bl), want)
	}
}

// TestBadgerGCShrinksRepo is the reason Reclaim exists: deleting blocks
// must give the disk space back, not just hide the keys.
//
// Badger never rewrites the value-log file it is writing to, so garbage in
// that head file (at most ValueLogFileSize plus one batch) is only freed
// once the head fills and rotates. Blocks are put one at a time, as the
// network fetch path does: 200 of them fill three 64 MiB files and leave
// 5 MiB in the head. The second round checks the head's garbage is freed
// once more writes rotate it.
func TestBadgerGCShrinksRepo(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 265 MiB")
	}
	ctx := context.Background()
	s := openBadger(t)
	// Batches of 8 blocks, as the importer writes them; the garbage left
	// in Badger's head value-log file must go too (Reclaim reopens).
	putEach := func(bl []blocks.Block) {
		t.Helper()
		for len(bl) > 0 {
			n := min(8, len(bl))
			if err := s.PutMany(ctx, bl[:n]); err != nil {
				t.Fatalf("PutMany: %v", err)
			}
			bl = bl[n:]
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	usage := func() int64 {
		t.Helper()
		n, err := s.DiskUsage()
		if err != nil {
			t.Fatalf("DiskUsage: %v", err)
		}
		return n
	}
	gc := func(wantRemoved int) {
		t.Helper()
		res, err := blockstore.CollectGarbage(ctx, s, s, blockstore.NewGCLocker(), nil)
		if err != nil {
			t.Fatalf("CollectGarbage: %v", err)
		}
		if res.Removed != wantRemoved || res.RemovedBytes != int64(wantRemoved)*mib {
			t.Fatalf("GC removed %d blocks / %d bytes, want %d / %d",
				res.Removed, res.RemovedBytes, wantRemoved, int64(wantRemoved)*mib)
		}
	}

	putEach(randomBlocks(t, 100, 200, mib))
	before := usage()
	if before < 190*mib {
		t.Fatalf("DiskUsage after adding 200 MiB = %d MiB; is it measuring the right thing?", before/mib)
	}
	gc(200)
	after := usage()
	t.Logf("disk usage: %.1f MiB before GC, %.1f MiB after", float64(before)/mib, float64(after)/mib)
	if after > before/5 {
		t.Fatalf("disk usage fell from %d to %d bytes (%.0f%%), want a fall of at least 80%%",
			before, after, 100*float64(before-after)/float64(before))
	}

	putEach(randomBlocks(t, 101, 65, mib))
	gc(65)
	final := usage()
	t.Logf("disk usage after a second round: %.1f MiB", float64(final)/mib)
	if final > before/10 {
		t.Fatalf("after the head rotated and GC ran again, %d MiB remain, want under %d MiB",
			final/mib, before/10/mib)
	}
}

// TestReclaimReopenKeepsReaders runs Reclaim, which reopens Badger to free
// its head value-log file, while other goroutines read and write: every
// operation must still succeed and see the data.
func TestReclaimReopenKeepsReaders(t *testing.T) {
	ctx := context.Background()
	s := openBadger(t)
	keep := randomBlocks(t, 7, 4, mib)
	if err := s.PutMany(ctx, keep); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		junk := randomBlocks(t, uint64(100+round), 6, mib)
		if err := s.PutMany(ctx, junk); err != nil {
			t.Fatal(err)
		}
		for _, b := range junk {
			if err := s.Delete(ctx, b.Cid()); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		errs := make(chan error, 2)
		for g := 0; g < 2; g++ {
			go func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						errs <- nil
						return
					default:
					}
					want := keep[i%len(keep)]
					b, err := s.Get(ctx, want.Cid())
					if err != nil {
						errs <- fmt.Errorf("read during reclaim: %w", err)
						return
					}
					if got := b.RawData(); !bytes.Equal(got, want.RawData()) {
						errs <- fmt.Errorf("read during reclaim: %d bytes starting %x, want %d bytes starting %x", len(got), got[:min(8, len(got))], len(want.RawData()), want.RawData()[:8])
						return
					}
				}
			}()
		}
		before, _ := s.DiskUsage()
		if err := s.Reclaim(ctx); err != nil {
			t.Fatal(err)
		}
		close(stop)
		for g := 0; g < 2; g++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		after, _ := s.DiskUsage()
		t.Logf("round %d: %d -> %d bytes", round, before, after)
	}
	for _, b := range keep {
		got, err := s.Get(ctx, b.Cid())
		if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("kept block lost or changed: %v", err)
		}
	}
}
