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
	waitFor(t, 20*time.Second, "the DHT routing tables to fill", func() bool {
		return a.dht.RoutingTableSize() > 0 && c.dht.RoutingTableSize() > 1
	})
	// A may have met B through the DHT's own queries: make it forget.
	_ = a.host.Network().ClosePeer(b.host.ID())
	a.host.Peerstore().ClearAddrs(b.host.ID())
	if _, err := a.Connect(context.Background(), b.host.ID().String()); err != nil {
		t.Fatal(err)
	}
	if len(a.host.Network().ConnsToPeer(b.host.ID())) == 0 {
		t.Fatal("not connected to B")
	}
	_, err := a.Connect(context.Background(), "not-a-peer")
	if !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("connect to garbage: %v", err)
	}
}
