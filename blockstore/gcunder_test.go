package blockstore_test

import (
	"context"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

// TestCollectUnder: only the blocks under the roots given go, and of
// those, none a pin or a hold reaches; other unpinned blocks (a download
// cut short) stay.
func TestCollectUnder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		shared := storetest.RawBlock(t, []byte("in a pin too"))
		own := storetest.RawBlock(t, []byte("only the download's"))
		heldLeaf := storetest.RawBlock(t, []byte("held by a stream"))
		absent := storetest.RawBlock(t, []byte("never fetched"))
		mid := storetest.DagPBBlock(t, 1, []byte("mid"), own.Cid(), heldLeaf.Cid())
		done := storetest.DagPBBlock(t, 1, []byte("a finished download"), shared.Cid(), mid.Cid(), absent.Cid())
		pinned := storetest.DagPBBlock(t, 1, []byte("a pin"), shared.Cid())
		partial := storetest.RawBlock(t, []byte("a download cut short"))
		putAll(t, s, shared, own, heldLeaf, mid, done, pinned, partial)
		pin(t, s, pinned.Cid())
		lk := blockstore.NewGCLocker()
		release := lk.Hold(heldLeaf.Cid())
		defer release()

		res, err := blockstore.CollectUnder(context.Background(), s, s, lk, []cid.Cid{done.Cid()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkHas(t, s, false, own, mid, done)
		checkHas(t, s, true, shared, heldLeaf, pinned, partial)
		want := int64(len(own.RawData()) + len(mid.RawData()) + len(done.RawData()))
		if res.Removed != 3 || res.RemovedBytes != want || res.Kept != 2 {
			t.Fatalf("result %+v, want 3 removed (%d bytes), 2 kept", res, want)
		}
		// Again: nothing left to take.
		if res, err := blockstore.CollectUnder(context.Background(), s, s, lk, []cid.Cid{done.Cid()}, nil); err != nil || res.Removed != 0 {
			t.Fatalf("second run: %+v, %v", res, err)
		}
	})
}
