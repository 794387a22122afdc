package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestConnectByPeerID: `kith connect PEERID` finds the peer's addresses
// through the DHT when this node knows none.
func TestConnectByPeerID(t *testing.T) {
	a := newNodeAt(t, t.TempDir(), nil)
	b := newNodeAt(t, t.TempDir(), nil)
	c := newNodeAt(t, t.TempDir(), nil)
	connect(t, b, c.host)
	connect(t, a, c.host)
	// C must know B (a size over 1 is not enough: a peer in both the WAN
	// and the LAN table counts twice) and A must know C.
	waitFor(t, 20*time.Second, "C's routing table to hold B and A's to hold C", func() bool {
		return inRoutingTable(a, c) && inRoutingTable(c, b)
	})
	// A may have met B through the DHT's own queries: make it forget.
	_ = a.host.Network().ClosePeer(b.host.ID())
	a.host.Peerstore().ClearAddrs(b.host.ID())
	if _, err := a.Connect(context.Background(), b.host.ID().String()); err != nil {
		// Rare in CI: say what the DHT knew, so that the next failure
		// tells why the lookup missed B.
		t.Fatalf("%v\n(now: A's table holds C %v; C's table holds B %v; C has B's addresses %v; C connected to B %v)", err,
			inRoutingTable(a, c), inRoutingTable(c, b), c.host.Peerstore().Addrs(b.host.ID()),
			c.host.Network().Connectedness(b.host.ID()))
	}
	if len(a.host.Network().ConnsToPeer(b.host.ID())) == 0 {
		t.Fatal("not connected to B")
	}
	_, err := a.Connect(context.Background(), "not-a-peer")
	if !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("connect to garbage: %v", err)
	}
}

// inRoutingTable reports whether n's DHT routing table holds peer's host.
func inRoutingTable(n, peer *Node) bool {
	for _, ai := range n.dht.RoutingPeers() {
		if ai.ID == peer.host.ID() {
			return true
		}
	}
	return false
}
