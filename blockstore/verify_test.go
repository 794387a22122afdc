package blockstore_test

import (
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

func TestVerifyFindsCorruptBlock(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		good := storetest.RawBlock(t, []byte("good"))
		node := storetest.DagPBBlock(t, 0, []byte("good node"), good.Cid())
		// Bytes that do not hash to their CID: what bit rot looks like.
		label := storetest.RawBlock(t, []byte("original"))
		corrupt, err := blocks.NewBlockWithCid([]byte("0riginal"), label.Cid())
		if err != nil {
			t.Fatal(err)
		}
		putAll(t, s, good, node, corrupt)

		last := -1
		bad, _, err := blockstore.Verify(context.Background(), s, func(n int) { last = n })
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if len(bad) != 1 || string(bad[0].Hash()) != string(label.Cid().Hash()) {
			t.Fatalf("Verify reported %v, want only %s", bad, label.Cid())
		}
		if last != 3 {
			t.Fatalf("last progress report = %d, want 3 checked", last)
		}
	})
}
