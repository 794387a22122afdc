package blockstore_test

import (
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

// TestGCKeepsHeld: a hold keeps what is stored below it (a partial DAG,
// as the gateway's cache is) without counting its absent blocks as
// missing; once released, the blocks go at the next GC.
func TestGCKeepsHeld(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		lk := blockstore.NewGCLocker()
		leaf := storetest.RawBlock(t, []byte("fetched leaf"))
		absent := storetest.RawBlock(t, []byte("never fetched"))
		root := storetest.DagPBBlock(t, 1, []byte("streamed file"), leaf.Cid(), absent.Cid())
		cbor := blocks.NewBlock([]byte{0xa0}) // not dag-pb: a hold keeps it as a leaf
		cborBlk, err := blocks.NewBlockWithCid(cbor.RawData(), cid.NewCidV1(cid.DagCBOR, cbor.Cid().Hash()))
		if err != nil {
			t.Fatal(err)
		}
		putAll(t, s, leaf, root, cborBlk)

		release := lk.Hold(root.Cid())
		releaseCbor := lk.Hold(cborBlk.Cid())
		again := lk.Hold(root.Cid()) // holds count: one release keeps the other
		res, err := blockstore.CollectGarbage(ctx, s, s, lk, nil)
		if err != nil {
			t.Fatalf("CollectGarbage: %v", err)
		}
		checkHas(t, s, true, leaf, root, cborBlk)
		if res.Removed != 0 || res.Missing != 0 || res.Kept != 3 {
			t.Fatalf("GCResult = %+v, want 3 kept, none removed or missing", res)
		}
		release()
		release() // idempotent
		if !lk.Held(root.Cid()) || lk.Held(leaf.Cid()) {
			t.Fatalf("Held(root) %v with one hold left, Held(leaf) %v: want true, false", lk.Held(root.Cid()), lk.Held(leaf.Cid()))
		}
		releaseCbor()
		if _, err := blockstore.CollectGarbage(ctx, s, s, lk, nil); err != nil {
			t.Fatalf("CollectGarbage: %v", err)
		}
		checkHas(t, s, true, leaf, root)
		again()
		if lk.Held(root.Cid()) {
			t.Fatal("Held(root) after its last release")
		}
		if res, err = blockstore.CollectGarbage(ctx, s, s, lk, nil); err != nil {
			t.Fatalf("CollectGarbage: %v", err)
		}
		checkHas(t, s, false, leaf, root, cborBlk)
		if res.Removed != 2 {
			t.Fatalf("GCResult = %+v after release, want the 2 held blocks removed", res)
		}
	})
}

// TestGCHoldDuringSweep: a hold taken after GC has marked (here, while it
// lists the store's blocks) keeps the held DAG, so a response that starts
// in the middle of a GC does not lose the blocks it is about to read.
func TestGCHoldDuringSweep(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		lk := blockstore.NewGCLocker()
		var bl []blocks.Block
		var links []cid.Cid
		for i := range 50 {
			b := storetest.RawBlock(t, []byte{byte(i), 'x'})
			bl = append(bl, b)
			links = append(links, b.Cid())
		}
		root := storetest.DagPBBlock(t, 1, []byte("held mid-gc"), links...)
		loose := storetest.RawBlock(t, []byte("garbage"))
		putAll(t, s, append(bl, root, loose)...)

		hs := &holdWhileListing{store: s, lk: lk, hold: root.Cid()}
		res, err := blockstore.CollectGarbage(ctx, hs, s, lk, nil)
		if err != nil {
			t.Fatalf("CollectGarbage: %v", err)
		}
		if hs.release == nil {
			t.Fatal("the test's hold was never taken")
		}
		defer hs.release()
		checkHas(t, s, true, append(bl, root)...)
		checkHas(t, s, false, loose)
		if res.Removed != 1 {
			t.Fatalf("GC removed %d blocks, want only the loose one", res.Removed)
		}
	})
}

// holdWhileListing takes a hold when GC starts listing the store's blocks:
// after the mark phase, before any deletion.
type holdWhileListing struct {
	store
	lk      *blockstore.GCLocker
	hold    cid.Cid
	release func()
}

func (h *holdWhileListing) AllKeys(ctx context.Context, fn func(cid.Cid) error) error {
	h.release = h.lk.Hold(h.hold)
	return h.store.AllKeys(ctx, fn)
}
