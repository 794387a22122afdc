package dht

import (
	"context"
	"errors"
	"testing"

	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	coretest "github.com/libp2p/go-libp2p/core/test"
)

// chain builds A - B - C where A and C only ever talk to B before the test
// body runs, so whatever C learns about A comes through the DHT:
//
//   - C joins first and is left to settle (its provider's start-up lookups
//     done), when B knows nobody else;
//   - A joins next, with a test-only query filter that keeps A's lookups
//     from contacting C (in a three-node network Kademlia lookups would
//     otherwise connect everyone).
func chain(t *testing.T, ctx context.Context) (a, b, c *node) {
	t.Helper()
	b = newNode(t)
	c = newNode(t, bootstrapPeers(b))
	bootstrap(t, ctx, c)
	waitFor(t, "C's provider to be online and idle", func() bool { return providerSettled(c) })

	cID := c.h.ID()
	a = newNode(t, bootstrapPeers(b), withKadOptions(kaddht.QueryFilter(
		func(_ any, ai peer.AddrInfo) bool { return ai.ID != cID })))
	bootstrap(t, ctx, a)
	waitFor(t, "A's provider to be online and idle", func() bool { return providerSettled(a) })

	if n := len(c.h.Peerstore().Addrs(a.h.ID())); n != 0 {
		t.Fatalf("C knows %d addresses of A before the test", n)
	}
	if len(c.h.Network().ConnsToPeer(a.h.ID())) != 0 {
		t.Fatal("C is connected to A before the test")
	}
	return a, b, c
}

// providerSettled reports whether n's provider has come online and measured
// the network, after which it runs no lookups until it has keys to provide.
func providerSettled(n *node) bool {
	st, err := n.d.single.Stats(context.Background())
	return err == nil && st.Connectivity.Status == "online" && st.Schedule.AvgPrefixLength >= 0
}

// dialWith checks that the addresses in ai reach ai.ID: n connects with them
// (its lookup may already have connected it, which is fine: then that
// connection was made with addresses learnt from the DHT), and so does a
// fresh host that never saw any address of ai.ID, which proves the
// addresses themselves are usable.
func dialWith(t *testing.T, ctx context.Context, n *node, ai peer.AddrInfo) {
	t.Helper()
	if err := n.h.Connect(ctx, ai); err != nil {
		t.Fatalf("connect to %s with %v: %v", ai.ID, ai.Addrs, err)
	}
	fresh := newHost(t)
	if err := fresh.Connect(ctx, ai); err != nil {
		t.Fatalf("fresh host: connect to %s with %v: %v", ai.ID, ai.Addrs, err)
	}
}

func TestChainFindProviders(t *testing.T) {
	ctx := testContext(t)
	a, _, c := chain(t, ctx)
	k := testCID(t, "chain find providers")

	if err := a.d.Provide(ctx, k); err != nil {
		t.Fatalf("A provide: %v", err)
	}
	// Provide announces in the background: wait until C's lookups see it.
	var got peer.AddrInfo
	waitFor(t, "C to find A as provider", func() bool {
		ai, ok := findProvider(ctx, c.d, k, a.h.ID())
		got = ai
		return ok && len(ai.Addrs) > 0
	})
	if !addrsSubset(got.Addrs, a.h) {
		t.Fatalf("provider addresses %v are not A's listen addresses %v", got.Addrs, a.h.Addrs())
	}
	dialWith(t, ctx, c, got)
}

func TestChainFindPeer(t *testing.T) {
	ctx := testContext(t)
	a, _, c := chain(t, ctx)

	ai, err := c.d.FindPeer(ctx, a.h.ID())
	if err != nil {
		t.Fatalf("C find peer A: %v", err)
	}
	if ai.ID != a.h.ID() || !addrsSubset(ai.Addrs, a.h) {
		t.Fatalf("C found %v, want A %s with addresses among %v", ai, a.h.ID(), a.h.Addrs())
	}
	dialWith(t, ctx, c, ai)

	if ai, err := c.d.FindPeer(ctx, c.h.ID()); err != nil || ai.ID != c.h.ID() || len(ai.Addrs) == 0 {
		t.Fatalf("C find itself: %v, %v", ai, err)
	}

	nobody := coretest.RandPeerIDFatal(t)
	if _, err := c.d.FindPeer(ctx, nobody); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("find unknown peer: got %v, want routing.ErrNotFound", err)
	}
}

// TestFindProvidersLimitAndSelf: FindProviders never returns the node
// itself, and stops after max providers.
func TestFindProvidersLimitAndSelf(t *testing.T) {
	ctx := testContext(t)
	a, b, c := chain(t, ctx)
	k := testCID(t, "limit and self")
	for _, n := range []*node{a, c} {
		if err := n.d.ProvideNow(ctx, k); err != nil {
			t.Fatalf("provide now: %v", err)
		}
	}
	waitFor(t, "B to find both providers", func() bool {
		_, okA := findProvider(ctx, b.d, k, a.h.ID())
		_, okC := findProvider(ctx, b.d, k, c.h.ID())
		return okA && okC
	})

	for ai := range a.d.FindProviders(ctx, k, 0) {
		if ai.ID == a.h.ID() {
			t.Fatal("A found itself as a provider")
		}
	}
	// A holds its own record locally; max counts only others.
	if ai, ok := <-a.d.FindProviders(ctx, k, 1); !ok || ai.ID != c.h.ID() {
		t.Fatalf("A's FindProviders with max 1: got %v (open %v), want C", ai, ok)
	}
	var got []peer.ID
	for ai := range b.d.FindProviders(ctx, k, 1) {
		got = append(got, ai.ID)
	}
	if len(got) != 1 {
		t.Fatalf("FindProviders with max 1 returned %v", got)
	}
}
