package node

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// sourceFunc is a BlockSource made of a function.
type sourceFunc func(ctx context.Context, root cid.Cid, cids []cid.Cid, got func(blocks.Block))

func (f sourceFunc) FetchBlocks(ctx context.Context, root cid.Cid, cids []cid.Cid, got func(blocks.Block)) {
	f(ctx, root, cids, got)
}

// slowSource delivers nothing and returns only when ctx ends or release is
// closed: kithSource searching the DHT for providers nobody is.
func slowSource(release <-chan struct{}) BlockSource {
	return sourceFunc(func(ctx context.Context, _ cid.Cid, _ []cid.Cid, _ func(blocks.Block)) {
		select {
		case <-ctx.Done():
		case <-release:
		}
	})
}

// holder delivers the blocks it has of those asked, counting the calls.
func holder(calls *atomic.Int32, have ...blocks.Block) BlockSource {
	return sourceFunc(func(_ context.Context, _ cid.Cid, cids []cid.Cid, got func(blocks.Block)) {
		calls.Add(1)
		for _, c := range cids {
			for _, b := range have {
				if b.Cid().Equals(c) {
					got(b)
				}
			}
		}
	})
}

// TestDemandDoesNotWaitForASlowSource: a block the second source (Bitswap)
// has is read while the first (kith peers, then the DHT) is still looking:
// the sources work side by side once the first has had its head start.
func TestDemandDoesNotWaitForASlowSource(t *testing.T) {
	b := blocks.NewBlock([]byte("held by an IPFS peer"))
	release := make(chan struct{})
	defer close(release)
	var calls atomic.Int32
	d := newDemandStore(blockstore.NewMemStore(), blockstore.NewGCLocker(), nil, slowSource(release), holder(&calls, b))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := d.Get(ctx, b.Cid())
	if err != nil {
		t.Fatalf("Get while the first source is still looking: %v", err)
	}
	if string(got.RawData()) != string(b.RawData()) {
		t.Fatal("Get returned other bytes")
	}
	if has, _ := d.Blockstore.Has(ctx, b.Cid()); !has {
		t.Error("the fetched block was not kept in the repo")
	}
}

// TestDemandAsksAnEarlySourceAgain: the second source, asked while the
// first was still looking, had nobody to ask; the first then connected a
// peer that the second can ask, and the second is asked once more.
func TestDemandAsksAnEarlySourceAgain(t *testing.T) {
	b := blocks.NewBlock([]byte("held by a provider the DHT named"))
	var connected atomic.Bool
	askedOnce := make(chan struct{})
	var calls atomic.Int32
	first := sourceFunc(func(ctx context.Context, _ cid.Cid, _ []cid.Cid, _ func(blocks.Block)) {
		select { // the DHT search ends after the second source's first turn
		case <-askedOnce:
		case <-ctx.Done():
		}
		connected.Store(true)
	})
	second := sourceFunc(func(_ context.Context, _ cid.Cid, cids []cid.Cid, got func(blocks.Block)) {
		// Read before the first turn lets the first source go on: read
		// after, the first source could already have connected.
		wasConnected := connected.Load()
		if calls.Add(1) == 1 {
			close(askedOnce)
		}
		if wasConnected {
			got(b)
		}
	})
	d := newDemandStore(blockstore.NewMemStore(), blockstore.NewGCLocker(), nil, first, second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.Get(ctx, b.Cid()); err != nil {
		t.Fatalf("Get: %v (second source asked %d times)", err, calls.Load())
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("second source asked %d times, want 2", n)
	}
}

// TestDemandMiss: a block no source has is a miss matching ErrNotFound,
// once every source had its turn, and no source is asked twice when none
// was early.
func TestDemandMiss(t *testing.T) {
	var a, b atomic.Int32
	d := newDemandStore(blockstore.NewMemStore(), blockstore.NewGCLocker(), nil, holder(&a), holder(&b))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := d.Get(ctx, blocks.NewBlock([]byte("nobody has this")).Cid())
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("Get of a block nobody has: %v, want a miss", err)
	}
	if a.Load() != 1 || b.Load() != 1 {
		t.Errorf("sources asked %d and %d times, want once each", a.Load(), b.Load())
	}
}
