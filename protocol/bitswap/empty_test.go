package bitswap

import (
	"context"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
)

// emptyBlock is the block of no bytes (an empty file's, with raw leaves).
func emptyBlock(t *testing.T) blocks.Block {
	t.Helper()
	c, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}.Sum(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.NewBlockWithCid([]byte{}, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmptyBlockBothWays: boxo's server answers a want of the empty block
// with DONT_HAVE (it takes a size of 0 for a miss), so Kubo never sends an
// empty file's block. A kith wantlist answers that block itself, and
// kith's server sends it, so boxo's client gets it.
func TestEmptyBlockBothWays(t *testing.T) {
	empty := emptyBlock(t)
	ctx := testCtx(t, time.Minute)

	t.Run("wanted from boxo's server", func(t *testing.T) {
		hs := hosts(t, 2)
		src := blockstore.NewMemStore()
		if err := src.Put(ctx, empty); err != nil {
			t.Fatal(err)
		}
		boxoServer(t, hs[1], boxoStore(t, src))
		e := exchange(t, hs[0], blockstore.NewMemStore())
		if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
			t.Fatal(err)
		}
		r := newReplies()
		wl, err := e.Open(ctx, hs[1].ID(), r)
		if err != nil {
			t.Fatal(err)
		}
		defer wl.Close()
		if err := wl.Want([]cid.Cid{empty.Cid()}); err != nil {
			t.Fatal(err)
		}
		r.await(t, "the empty block", func() bool { return r.blocks[empty.Cid()] != nil })
		if n := len(r.blocks[empty.Cid()]); n != 0 {
			t.Errorf("the empty block came with %d bytes", n)
		}
	})

	t.Run("to boxo's client", func(t *testing.T) {
		hs := hosts(t, 2)
		src := blockstore.NewMemStore()
		if err := src.Put(ctx, empty); err != nil {
			t.Fatal(err)
		}
		exchange(t, hs[1], src)
		cl := boxoClient(t, hs[0], boxoStore(t, nil))
		if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
			t.Fatal(err)
		}
		gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		b, err := cl.GetBlock(gctx, empty.Cid())
		if err != nil {
			t.Fatalf("boxo's client did not get the empty block from kith: %v", err)
		}
		if len(b.RawData()) != 0 {
			t.Errorf("got %d bytes", len(b.RawData()))
		}
	})
}
