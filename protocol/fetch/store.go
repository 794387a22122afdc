package fetch

import (
	"context"
	"fmt"

	blocks "github.com/ipfs/go-block-format"

	"github.com/kith-p2p/kith/blockstore"
)

const (
	// storeQueue bounds verified blocks waiting for the writer (at most
	// storeQueue x 2 MiB of memory).
	storeQueue = 32
	// One PutMany takes what is queued, up to these bounds: one transaction
	// for many small blocks, without unbounded batches of large ones.
	maxPutBlocks = 512
	maxPutBytes  = 16 << 20
)

// storeWriter is the only goroutine that writes a fetch's blocks, so
// hashing in the stream readers overlaps with store writes, and small
// blocks are written in batches.
type storeWriter struct {
	bs   blockstore.Blockstore
	in   chan blocks.Block // closed by Fetch once no sender is left
	fail func(error)
}

func newStoreWriter(bs blockstore.Blockstore, fail func(error)) *storeWriter {
	return &storeWriter{bs: bs, in: make(chan blocks.Block, storeQueue), fail: fail}
}

// run stores blocks until in is closed. After a failure it keeps draining
// (discarding) so senders never block on it. Fetch passes a context that
// outlives a cancellation, so verified blocks are still stored.
func (s *storeWriter) run(ctx context.Context) {
	failed := false
	batch := make([]blocks.Block, 0, maxPutBlocks)
	for b := range s.in {
		batch = append(batch[:0], b)
		n := len(b.RawData())
	fill:
		for len(batch) < maxPutBlocks && n < maxPutBytes {
			select {
			case more, ok := <-s.in:
				if !ok {
					break fill
				}
				batch = append(batch, more)
				n += len(more.RawData())
			default:
				break fill
			}
		}
		if !failed {
			if err := s.bs.PutMany(ctx, batch); err != nil {
				failed = true
				s.fail(fmt.Errorf("store %d blocks: %w", len(batch), err))
			}
		}
		clear(batch)
	}
}
