package fetch

import (
	"context"
	"errors"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"

	"github.com/kith-p2p/kith/blockstore"
)

// gatedStore holds every PutMany until gate is closed, like a disk far
// slower than the network.
type gatedStore struct {
	blockstore.Blockstore
	gate    chan struct{}
	entered chan struct{} // one value per PutMany call
}

func (s *gatedStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	s.entered <- struct{}{}
	<-s.gate
	return s.Blockstore.PutMany(ctx, bs)
}

// TestStoreQueueHoldsBoundedBytes: while the store is slower than the
// network, the blocks a fetch holds waiting for it stay within
// storeQueueBytes (with 32 blocks of 1 MiB queued plus a 16 MiB batch the
// daemon's heap passed 200 MB in a 4 GiB fetch), and every block queued is
// stored once the store catches up.
func TestStoreQueueHoldsBoundedBytes(t *testing.T) {
	mem := blockstore.NewMemStore()
	st := &gatedStore{Blockstore: mem, gate: make(chan struct{}), entered: make(chan struct{}, 64)}
	w := newStoreWriter(st, func(err error) { t.Errorf("store failed: %v", err) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(context.Background())
	}()

	const size = 1 << 20
	var queued []blocks.Block
	put := func(ctx context.Context) error {
		b := blocks.NewBlock(detBytes(uint64(len(queued)), size))
		if err := w.queue(ctx, b, nil); err != nil {
			return err
		}
		queued = append(queued, b)
		return nil
	}
	// The first block reaches the store, which holds it.
	if err := put(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-st.entered
	// Blocks are taken while the budget has room; then queue waits, and
	// gives up only because its context ends.
	full, cancel := context.WithCancel(context.Background())
	cancel()
	for put(full) == nil {
		if len(queued) > 2*storeQueueBytes/size {
			t.Fatalf("%d blocks of 1 MiB queued behind a stuck store", len(queued))
		}
	}
	if want := storeQueueBytes / size; len(queued) != want {
		t.Fatalf("%d blocks of 1 MiB held while the store was stuck, want %d (storeQueueBytes)", len(queued), want)
	}
	w.bound() // a new tick: what follows all finds the queue full
	for range 3 {
		if err := put(full); !errors.Is(err, context.Canceled) {
			t.Fatalf("queue on a full queue with a cancelled context: %v", err)
		}
	}
	if q, n := w.queued.Load(), w.waits.Load(); !w.bound() {
		t.Fatalf("%d of %d blocks found the queue full, yet the store is not the limit", n, q)
	}

	close(st.gate)
	// Room comes back as blocks are written.
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	for range 2 * storeQueueBytes / size {
		if err := put(ctx); err != nil {
			t.Fatalf("queue after the store caught up: %v", err)
		}
	}
	close(w.in)
	<-done
	for _, b := range queued {
		if ok, err := mem.Has(context.Background(), b.Cid()); err != nil || !ok {
			t.Fatalf("block %s queued but not stored (%v)", b.Cid(), err)
		}
	}
}

// TestNoLaneProbeWhileDiskBound: when blocks had to wait for the store,
// the disk limits the fetch, and more lanes would only hold more bytes in
// memory: no probe, and lanes a probe added go; otherwise a full window
// still makes the peer probe.
func TestNoLaneProbeWhileDiskBound(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before        int // lanes before the tick (0: not probed yet)
		queued, waits int64
		lanes         int
	}{
		{"network bound", 0, 25, 0, 2 * lanesPerPeer},
		{"one slow write", 0, 25, 1, 2 * lanesPerPeer},
		{"a few waits among many blocks", 0, 100, 3, 2 * lanesPerPeer},
		{"disk bound", 0, 25, 20, lanesPerPeer},
		{"disk bound after a probe", 24, 25, 7, lanesPerPeer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{f: &Fetcher{stallTimeout: time.Hour}, store: newStoreWriter(nil, nil)}
			s := newScheduler(r)
			now := time.Now()
			p := newPeerState(context.Background(), "peer", ProtocolKith)
			defer p.cancel()
			p.started = now.Add(-time.Second)
			p.minRTT = 50 * time.Millisecond
			p.inflight = maxWindow // the window is full
			p.received.Store(20 << 20)
			p.touch(now)
			p.probe.lanes = tc.before
			s.peers[p.id] = p
			s.lastTick = now.Add(-100 * time.Millisecond)
			r.store.queued.Store(tc.queued)
			r.store.waits.Store(tc.waits)
			s.tick(now)
			if got := p.laneCount(); got != tc.lanes {
				t.Fatalf("%d lanes after a tick with a full window, want %d", got, tc.lanes)
			}
		})
	}
}
