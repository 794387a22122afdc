package dht

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
)

// TestFiveNodeNetwork: five nodes bootstrap from the first one; each
// provides its own key, and every node finds every other node's key.
func TestFiveNodeNetwork(t *testing.T) {
	ctx := testContext(t)
	const n = 5
	nodes := []*node{newNode(t)}
	for i := 1; i < n; i++ {
		nodes = append(nodes, newNode(t, bootstrapPeers(nodes[0])))
	}
	bootstrap(t, ctx, nodes[1:]...)
	for i, nd := range nodes {
		if nd.d.RoutingTableSize() == 0 {
			t.Fatalf("node %d has an empty routing table after bootstrap", i)
		}
	}

	keys := make([]cid.Cid, n)
	for i, nd := range nodes {
		keys[i] = testCID(t, fmt.Sprintf("five nodes %d", i))
		if err := nd.d.ProvideNow(ctx, keys[i]); err != nil {
			t.Fatalf("node %d provide now: %v", i, err)
		}
	}
	for i, finder := range nodes {
		for j, prov := range nodes {
			if i == j {
				continue
			}
			waitFor(t, fmt.Sprintf("node %d to find node %d's key", i, j), func() bool {
				ai, ok := findProvider(ctx, finder.d, keys[j], prov.h.ID())
				return ok && len(ai.Addrs) > 0
			})
		}
	}
}

// TestBootstrapConfirmsLostProtocol: A connected to B before B's DHT
// server started, and B's identify push announcing the DHT protocol did not
// reach A (pushes are rate-limited per /24: a server restarting beside
// others can have its push dropped; here A refuses pushes). kad-dht alone
// never looks at B again while the connection lasts; Bootstrap must find
// out by itself and fill the routing table.
func TestBootstrapConfirmsLostProtocol(t *testing.T) {
	ctx := testContext(t)
	hb := newHost(t)
	// A is a client, as a laptop behind a NAT is.
	a := newNode(t, WithMode(ModeClient))
	a.h.RemoveStreamHandler(identify.IDPush)
	if err := a.h.Connect(ctx, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	db, err := New(ctx, hb, WithMode(ModeServer), WithDual(false), WithProtocolPrefix(KithPrefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if ps, _ := a.h.Peerstore().SupportsProtocols(hb.ID(), kithProtocol); len(ps) > 0 {
		t.Fatal("A learnt B's DHT protocol without a push: this test no longer checks what it should")
	}
	if err := a.d.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap with B's protocol unknown: %v", err)
	}
	if !slices.Contains(a.d.kads[0].RoutingTable().ListPeers(), hb.ID()) {
		t.Fatal("B is not in A's routing table")
	}
}

// TestConfirmEachProtocol: a restarting dual-DHT server lists the LAN
// protocol at once and the WAN one only once it knows it is reachable; a
// peer that learnt the first but missed the second (its push dropped) must
// still have the WAN protocol confirmed.
func TestConfirmEachProtocol(t *testing.T) {
	ctx := testContext(t)
	hb := newHost(t)
	db, err := New(ctx, hb, WithMode(ModeServer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ha := newHost(t)
	da, err := New(ctx, ha, WithMode(ModeClient))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { da.Close() })
	if err := ha.Connect(ctx, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	const wan, lan = "/ipfs/kad/1.0.0", "/ipfs/lan/kad/1.0.0"
	waitFor(t, "A to learn B's protocols", func() bool {
		ps, _ := ha.Peerstore().SupportsProtocols(hb.ID(), wan, lan)
		return len(ps) == 2
	})
	if err := ha.Peerstore().RemoveProtocols(hb.ID(), wan); err != nil {
		t.Fatal(err)
	}
	if n := da.confirmDHTPeers(ctx); n != 1 {
		t.Errorf("confirmed %d protocols, want 1 (the WAN one)", n)
	}
	if ps, _ := ha.Peerstore().SupportsProtocols(hb.ID(), wan); len(ps) != 1 {
		t.Fatal("B's WAN DHT protocol is still unknown to A")
	}
}
