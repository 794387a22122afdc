package fetch

import (
	"context"
	"fmt"
	"sync/atomic"

	blocks "github.com/ipfs/go-block-format"
	"golang.org/x/sync/semaphore"

	"github.com/kith-p2p/kith/blockstore"
)

const (
	// storeQueueBytes bounds the bytes of verified blocks waiting for the
	// writer or being written. When the disk is slower than the network
	// this queue stays full, so it is what a fetch holds in memory: with
	// 32 blocks and 16 MiB batches it held ~50 MB of 1 MiB blocks and the
	// daemon's heap (twice the live heap, Go's default) peaked above
	// 200 MB during a 4 GiB fetch (issue 14). 16 MiB keeps the loopback
	// fetch as fast as before (8 MiB cost it ~6%), lets hashing overlap
	// with writing and small blocks go in large batches.
	storeQueueBytes = 16 << 20
	// One PutMany takes what is queued, up to these bounds: one transaction
	// for many small blocks, without large batches of large ones (half the
	// budget, so the readers can fill the other half meanwhile).
	maxPutBlocks = 512
	maxPutBytes  = storeQueueBytes / 2
)

// storeWriter is the only goroutine that writes a fetch's blocks, so
// hashing in the stream readers overlaps with store writes, and small
// blocks are written in batches.
type storeWriter struct {
	bs   blockstore.Blockstore
	in   chan storeItem      // closed by Fetch once no sender is left
	room *semaphore.Weighted // storeQueueBytes, taken by queue and released once written
	fail func(error)
	// queued counts the blocks queued, waits those that found the queue
	// full; when many did, the disk, not the network, limits the fetch
	// (see bound).
	queued, waits atomic.Int64
}

// bound reports whether the store limited the fetch since the last call:
// at least a quarter of the blocks queued meanwhile (and more than one)
// had to wait for room. A lone wait (one slow sync) does not count.
func (s *storeWriter) bound() bool {
	q, w := s.queued.Swap(0), s.waits.Swap(0)
	return w > 1 && 4*w >= q
}

// storeItem is a block waiting for the writer, with the pooled buffer its
// bytes lie in (nil if none), which goes back once the block is written.
type storeItem struct {
	b    blocks.Block
	body []byte
}

func newStoreWriter(bs blockstore.Blockstore, fail func(error)) *storeWriter {
	return &storeWriter{
		bs:   bs,
		in:   make(chan storeItem, maxPutBlocks),
		room: semaphore.NewWeighted(storeQueueBytes),
		fail: fail,
	}
}

// weight is what b takes of the queue's budget (a block larger than the
// whole budget takes all of it).
func weight(b blocks.Block) int64 {
	return min(int64(len(b.RawData())), storeQueueBytes)
}

// queue hands b to the writer, waiting while the queue holds
// storeQueueBytes. A verified block is worth keeping even when the fetch
// is being cancelled (the next Fetch resumes from it): it is queued if
// there is room, and given up only if the queue is full and ctx is done.
func (s *storeWriter) queue(ctx context.Context, b blocks.Block, body []byte) error {
	s.queued.Add(1)
	if !s.room.TryAcquire(weight(b)) {
		s.waits.Add(1)
		if err := s.room.Acquire(ctx, weight(b)); err != nil {
			return err
		}
	}
	// Waits only for many tiny blocks (more than in holds), and never for
	// long: the writer drains in until Fetch closes it, cancelled or not.
	s.in <- storeItem{b, body}
	return nil
}

// run stores blocks until in is closed. After a failure it keeps draining
// (discarding) so senders never block on it. Fetch passes a context that
// outlives a cancellation, so verified blocks are still stored.
func (s *storeWriter) run(ctx context.Context) {
	failed := false
	items := make([]storeItem, 0, maxPutBlocks)
	batch := make([]blocks.Block, 0, maxPutBlocks)
	for q := range s.in {
		items = append(items[:0], q)
		n := weight(q.b) // bytes in this batch, and the room it gives back
	fill:
		for len(items) < maxPutBlocks && n < maxPutBytes {
			select {
			case more, ok := <-s.in:
				if !ok {
					break fill
				}
				items = append(items, more)
				n += weight(more.b)
			default:
				break fill
			}
		}
		batch = batch[:0]
		for _, it := range items {
			batch = append(batch, it.b)
		}
		if !failed {
			if err := s.bs.PutMany(ctx, batch); err != nil {
				failed = true
				s.fail(fmt.Errorf("store %d blocks: %w", len(batch), err))
			}
		}
		// Written (or given up): the store keeps no reference to the
		// bytes (blockstore.PutCopier), so their buffers go back.
		for _, it := range items {
			if it.body != nil {
				putBody(it.body)
			}
		}
		s.room.Release(n)
		clear(batch)
		clear(items)
	}
}
