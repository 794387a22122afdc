package fetch

import (
	"errors"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

func TestFetchBlocks(t *testing.T) {
	_, hs := newMocknet(t, 2)
	bs := blockstore.NewMemStore()
	root := addFile(t, bs, detBytes(30, 3<<20))
	all, _ := dagBlocks(t, bs, root)
	var leaves []cid.Cid
	for c := range all {
		if c.Type() == cid.Raw {
			leaves = append(leaves, c)
		}
	}
	missing := rawCID(t, []byte("nobody has this"))
	serve(t, hs[1], bs)
	f := NewFetcher(hs[0], blockstore.NewMemStore())
	ctx := testCtx(t, 20*time.Second)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}

	want := []cid.Cid{leaves[1], missing, root, leaves[0]}
	var got []cid.Cid
	n, err := f.FetchBlocks(ctx, hs[1].ID(), want, func(b blocks.Block) { got = append(got, b.Cid()) })
	if err != nil {
		t.Fatalf("FetchBlocks: %v", err)
	}
	if n != 3 || len(got) != 3 || !got[0].Equals(leaves[1]) || !got[1].Equals(root) || !got[2].Equals(leaves[0]) {
		t.Fatalf("FetchBlocks gave %d blocks %v, want the 3 present ones in the order asked", n, got)
	}
}

func TestFetchBlocksRefusesLies(t *testing.T) {
	_, hs := newMocknet(t, 2)
	bs := blockstore.NewMemStore()
	leaf := blocks.NewBlock([]byte("an honest leaf"))
	c := cid.NewCidV1(cid.Raw, leaf.Cid().Hash())
	blk, _ := blocks.NewBlockWithCid(leaf.RawData(), c)
	if err := bs.Put(t.Context(), blk); err != nil {
		t.Fatal(err)
	}
	serve(t, hs[1], newLyingStore(bs))
	f := NewFetcher(hs[0], blockstore.NewMemStore())
	ctx := testCtx(t, 20*time.Second)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}
	n, err := f.FetchBlocks(ctx, hs[1].ID(), []cid.Cid{c}, func(blocks.Block) { t.Error("a corrupted block was handed on") })
	if !errors.Is(err, ErrHashMismatch) || n != 0 {
		t.Fatalf("FetchBlocks = %d, %v; want ErrHashMismatch", n, err)
	}
}

func TestFetchBlocksGivesUpOnStall(t *testing.T) {
	_, hs := newMocknet(t, 2)
	bs := blockstore.NewMemStore()
	root := addFile(t, bs, detBytes(31, 1000))
	stalled := newStallStore(bs)
	serve(t, hs[1], stalled)
	f := NewFetcher(hs[0], blockstore.NewMemStore(), WithStallTimeout(200*time.Millisecond))
	ctx := testCtx(t, 20*time.Second)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := f.FetchBlocks(ctx, hs[1].ID(), []cid.Cid{root}, func(blocks.Block) {})
	if err == nil {
		t.Fatal("FetchBlocks from a stalled peer succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up on the stalled peer after %v", d)
	}
}
