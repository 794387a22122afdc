package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	circuitproto "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// TestPingConn: the probe dropStaleDirect uses before it closes a direct
// connection answers on a live connection, and fails (so the connection
// would be closed) when nothing answers the ping.
func TestPingConn(t *testing.T) {
	newHost := func() host.Host {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	a, b := newHost(), newHost()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	conns := a.Network().ConnsToPeer(b.ID())
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	if err := pingConn(ctx, conns[0]); err != nil {
		t.Fatalf("ping over a live connection: %v", err)
	}
	b.RemoveStreamHandler(ping.ID)
	short, cancel2 := context.WithTimeout(ctx, staleProbe)
	defer cancel2()
	if err := pingConn(short, conns[0]); err == nil {
		t.Fatal("ping succeeded with nobody answering")
	}
}

// TestConfirmProtocol: a relay whose identify did not tell this node that
// it relays (the push saying so was dropped) is asked directly, and then
// looks like a relay, and the host's services hear of it as from identify;
// a second ask within protoProbeEvery is not made.
func TestConfirmProtocol(t *testing.T) {
	n := newNodeAt(t, t.TempDir(), nil)
	rh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rh.Close() })
	r, err := relayv2.New(rh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.host.Connect(ctx, peer.AddrInfo{ID: rh.ID(), Addrs: rh.Addrs()}); err != nil {
		t.Fatal(err)
	}
	supports := func() bool {
		ok, _ := n.host.Peerstore().SupportsProtocols(rh.ID(), circuitproto.ProtoIDv2Hop)
		return len(ok) > 0
	}
	waitFor(t, 10*time.Second, "identify to list the relay protocol", supports)
	if err := n.host.Peerstore().RemoveProtocols(rh.ID(), circuitproto.ProtoIDv2Hop); err != nil {
		t.Fatal(err)
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerProtocolsUpdated))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	n.confirmProtocol(rh.ID(), circuitproto.ProtoIDv2Hop)
	waitFor(t, 10*time.Second, "the relay protocol to be confirmed", supports)
	select {
	case e := <-sub.Out():
		if ev := e.(event.EvtPeerProtocolsUpdated); ev.Peer != rh.ID() || !slices.Contains(ev.Added, circuitproto.ProtoIDv2Hop) {
			t.Errorf("event %+v, want the relay protocol added for %s", ev, rh.ID())
		}
	case <-ctx.Done():
		t.Fatal("no EvtPeerProtocolsUpdated after the relay protocol was confirmed")
	}
	if n.protoProbes.due(string(rh.ID())+" "+string(circuitproto.ProtoIDv2Hop), time.Now(), protoProbeEvery) {
		t.Error("a second probe of the same peer was due at once")
	}
}

// TestProbeTimes: a peer is probed at most once per period; others are not
// held back by it.
func TestProbeTimes(t *testing.T) {
	var pt probeTimes
	now := time.Now()
	a, b := "a", "b"
	steps := []struct {
		p    string
		at   time.Duration
		want bool
	}{
		{a, 0, true}, {a, time.Second, false}, {b, time.Second, true},
		{a, 29 * time.Second, false}, {a, 31 * time.Second, true}, {a, 32 * time.Second, false},
	}
	for i, s := range steps {
		if got := pt.due(s.p, now.Add(s.at), 30*time.Second); got != s.want {
			t.Errorf("step %d (%s at +%v): due %v, want %v", i, s.p, s.at, got, s.want)
		}
	}
}
