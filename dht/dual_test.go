package dht

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
)

// TestDefaultsJoinAmino: with no options a DHT speaks the Amino protocols,
// WAN and LAN, as Kubo does, so kith nodes are part of the public network.
func TestDefaultsJoinAmino(t *testing.T) {
	h := newHost(t)
	d, err := New(context.Background(), h, WithMode(ModeServer))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []protocol.ID{"/ipfs/kad/1.0.0", "/ipfs/lan/kad/1.0.0"} {
		if !slices.Contains(h.Mux().Protocols(), p) {
			t.Errorf("default DHT does not serve %s; host protocols: %v", p, h.Mux().Protocols())
		}
	}
	if st := d.Stats(); st.Protocol != "/ipfs/kad/1.0.0" || !st.Server {
		t.Errorf("Stats = %+v, want the Amino protocol in server mode", st)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Mux().Protocols() {
		if slices.Contains([]protocol.ID{"/ipfs/kad/1.0.0", "/ipfs/lan/kad/1.0.0"}, p) {
			t.Errorf("closed DHT still serves %s", p)
		}
	}
}

// TestSmallNetworkProvide: on a network of three DHT servers, far fewer
// than a bucket, every key given to Provide (not ProvideNow) becomes
// findable by another node. The sweeping provider alone skips keyspace
// regions that have no peers of their own.
func TestSmallNetworkProvide(t *testing.T) {
	ctx := testContext(t)
	b := newNode(t)
	c := newNode(t, bootstrapPeers(b))
	a := newNode(t, bootstrapPeers(b))
	bootstrap(t, ctx, c, a)
	var keys []cid.Cid
	for i := 0; i < 24; i++ {
		k := testCID(t, fmt.Sprintf("small network %d", i))
		keys = append(keys, k)
		if err := a.d.Provide(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		waitFor(t, fmt.Sprintf("key %d to be found by C", i), func() bool {
			_, ok := findProvider(ctx, c.d, k, a.h.ID())
			return ok
		})
	}
}

// TestRoutingPeersSurviveRestart: a node restarted with the same datastore
// and no bootstrap peers rejoins through the peers its routing table held.
func TestRoutingPeersSurviveRestart(t *testing.T) {
	ctx := testContext(t)
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	b := newNode(t)
	a := newNode(t, bootstrapPeers(b), WithDatastore(ds))
	bootstrap(t, ctx, a)
	if err := a.d.Close(); err != nil {
		t.Fatal(err)
	}
	// A new host stands in for the restarted daemon (a new process would
	// have no connections and an empty peerstore).
	again := newNode(t, WithDatastore(ds))
	if err := again.d.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap from saved peers: %v", err)
	}
	if again.d.RoutingTableSize() == 0 || len(again.h.Network().ConnsToPeer(b.h.ID())) == 0 {
		t.Fatalf("restarted node did not rejoin through the saved peer %s", b.h.ID())
	}
}

// TestStatsServerFollowsReachability: in auto mode, Stats says "server"
// exactly while the node answers DHT queries, which follows the host's
// reachability (kad-dht's own Mode() only gives the configured option).
func TestStatsServerFollowsReachability(t *testing.T) {
	h := newHost(t)
	d, err := New(context.Background(), h, WithMode(ModeAuto))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	em, err := h.EventBus().Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	for _, step := range []struct {
		r      network.Reachability
		server bool
	}{
		{network.ReachabilityPublic, true},
		{network.ReachabilityPrivate, false},
		{network.ReachabilityPublic, true},
	} {
		if err := em.Emit(event.EvtLocalReachabilityChanged{Reachability: step.r}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for d.Stats().Server != step.server {
			if time.Now().After(deadline) {
				t.Fatalf("reachability %v: Stats().Server stayed %v", step.r, !step.server)
			}
			time.Sleep(10 * time.Millisecond) // polling pace for a condition with a deadline
		}
	}
}
