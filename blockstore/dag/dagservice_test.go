package dag

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"

	"github.com/kith-p2p/kith/blockstore"
)

// A node added moments ago is readable through the adapter even though its
// batch has not reached the store yet, and repeats are stored once.
func TestDAGServiceReadsItsOwnWrites(t *testing.T) {
	ctx := context.Background()
	bs := &hookStore{Blockstore: blockstore.NewMemStore()}
	ds := newDAGService(ctx, bs)
	nd, err := merkledag.NewRawNodeWPrefix([]byte("fresh"), merkledag.V1CidPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := ds.Add(ctx, nd); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := bs.Has(ctx, nd.Cid()); ok {
		t.Fatal("block written before its batch filled; test assumption broken")
	}
	got, err := ds.Get(ctx, nd.Cid())
	if err != nil || string(got.RawData()) != "fresh" {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if err := ds.close(); err != nil {
		t.Fatal(err)
	}
	if ds.blockCount() != 1 {
		t.Errorf("blockCount = %d, want 1", ds.blockCount())
	}
}
