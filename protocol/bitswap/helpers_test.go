package bitswap

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	bsclient "github.com/ipfs/boxo/bitswap/client"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	bsserver "github.com/ipfs/boxo/bitswap/server"
	boxobs "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/fetch"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// boxo's network closes finished streams in goroutines of its own
		// (bsnet closeStreamAsync), which end once the remote closes its
		// side; and go-log's and OpenCensus's background workers.
		goleak.IgnoreTopFunction("github.com/ipfs/boxo/bitswap/network/bsnet.closeStreamAsync.func1"),
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*PipeReader).Read"),
	)
}

// detBytes returns n deterministic pseudo-random bytes.
func detBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = io.ReadFull(rand.NewChaCha8(s), b)
	return b
}

func addFile(tb testing.TB, bs blockstore.Blockstore, data []byte) cid.Cid {
	tb.Helper()
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile(data), nil)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return res.Root
}

func checkFile(tb testing.TB, bs blockstore.Blockstore, root cid.Cid, want []byte) {
	tb.Helper()
	r, _, err := dag.Open(context.Background(), bs, root)
	if err != nil {
		tb.Fatalf("open fetched file: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read fetched file: %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Fatalf("fetched file differs: %d bytes, want %d", len(got), len(want))
	}
}

// hosts returns n linked mocknet hosts, closed when the test ends.
func hosts(tb testing.TB, n int) []host.Host {
	tb.Helper()
	mn := mocknet.New()
	tb.Cleanup(func() { _ = mn.Close() })
	hs := make([]host.Host, n)
	for i := range hs {
		h, err := mn.GenPeer()
		if err != nil {
			tb.Fatal(err)
		}
		hs[i] = h
	}
	if err := mn.LinkAll(); err != nil {
		tb.Fatal(err)
	}
	return hs
}

func exchange(tb testing.TB, h host.Host, bs blockstore.Blockstore, opts ...Option) *Exchange {
	tb.Helper()
	e := New(h, bs, opts...)
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

// identified connects from to to and waits until from's peerstore lists
// a Bitswap protocol for to. A host that has just started serving may
// answer the first identify with the protocols it had before (identify
// updates its snapshot in the background) and correct them by a push a
// moment later; a fetch that began in between would take the server for a
// peer that speaks neither protocol.
//
// The push can be lost too: when the server's snapshot changes while the
// connection is being set up, the push goes to the peers connected before
// it and the first identify still carried the old snapshot (seen once in
// CI under load). So a connection whose identify has not listed Bitswap
// within a second is closed and made again: its identify carries the
// snapshot as it is by then.
func identified(tb testing.TB, from, to host.Host) {
	tb.Helper()
	ctx := testCtx(tb, 30*time.Second)
	for {
		if err := from.Connect(ctx, addrInfo(to)); err != nil {
			tb.Fatal(err)
		}
		again := time.After(time.Second)
	wait:
		for {
			if ok, _ := from.Peerstore().SupportsProtocols(to.ID(), Protocols...); len(ok) > 0 {
				return
			}
			select {
			case <-ctx.Done():
				tb.Fatalf("%s never listed Bitswap in its identify", to.ID())
			case <-again:
				_ = from.Network().ClosePeer(to.ID())
				break wait
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func addrInfo(h host.Host) peer.AddrInfo { return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()} }

func testCtx(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// boxoStore copies every block of bs into a new boxo blockstore.
func boxoStore(tb testing.TB, bs blockstore.Blockstore) boxobs.Blockstore {
	tb.Helper()
	out := boxobs.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	ctx := context.Background()
	if bs == nil {
		return out
	}
	err := bs.AllKeys(ctx, func(c cid.Cid) error {
		b, err := bs.Get(ctx, c)
		if err != nil {
			return err
		}
		return out.Put(ctx, b)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// boxoServer runs boxo's own Bitswap server (what Kubo runs) on h.
func boxoServer(tb testing.TB, h host.Host, bs boxobs.Blockstore) {
	tb.Helper()
	net := bsnet.NewFromIpfsHost(h)
	srv := bsserver.New(context.Background(), net, bs)
	net.Start(srv)
	tb.Cleanup(func() {
		net.Stop()
		srv.Close()
	})
}

// boxoClient runs boxo's own Bitswap client (what Kubo fetches with) on h.
func boxoClient(tb testing.TB, h host.Host, bs boxobs.Blockstore) *bsclient.Client {
	tb.Helper()
	net := bsnet.NewFromIpfsHost(h)
	cl := bsclient.New(context.Background(), net, nil, bs)
	net.Start(cl)
	tb.Cleanup(func() {
		net.Stop()
		_ = cl.Close()
	})
	return cl
}

// fetcher returns a Fetcher on h that fetches over Bitswap through e.
func fetcher(h host.Host, bs blockstore.Blockstore, e *Exchange) *fetch.Fetcher {
	return fetch.NewFetcher(h, bs, fetch.WithBitswap(e))
}
