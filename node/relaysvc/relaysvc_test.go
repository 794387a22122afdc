package relaysvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type memberSet map[peer.ID]bool

func (m memberSet) IsMember(p peer.ID) bool      { return m[p] }
func (m memberSet) ShareGroup(a, b peer.ID) bool { return m[a] && m[b] }

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.EnableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

const echoProto = "/kith-test/echo"

// circuitTo is the address of target through relay r.
func circuitTo(r host.Host, target peer.ID) peer.AddrInfo {
	var addrs []ma.Multiaddr
	for _, a := range r.Addrs() {
		addrs = append(addrs, a.Encapsulate(ma.StringCast("/p2p/"+r.ID().String()+"/p2p-circuit")))
	}
	return peer.AddrInfo{ID: target, Addrs: addrs}
}

// TestGroupMembersGetAnUnlimitedRelay: through a public node's relay,
// group members reach each other over a connection that carries a file
// (far more than the 128 KiB a limited circuit allows), while a stranger
// gets only the limited relay and cannot reach a member through it.
func TestGroupMembersGetAnUnlimitedRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	relayHost, a, b, stranger := newHost(t), newHost(t), newHost(t), newHost(t)
	svc := New(relayHost, Options{Public: true, Groups: true, Members: memberSet{a.ID(): true, b.ID(): true}})
	defer svc.Close()
	if err := svc.SetReachability(network.ReachabilityPublic); err != nil {
		t.Fatal(err)
	}
	if pub, grp := svc.Running(); !pub || !grp {
		t.Fatalf("Running() = %v, %v after becoming public", pub, grp)
	}
	relayInfo := peer.AddrInfo{ID: relayHost.ID(), Addrs: relayHost.Addrs()}

	// A member reserves on the unlimited relay.
	res := NewReservations(a)
	res.Refresh(ctx, []peer.AddrInfo{relayInfo})
	if got := res.Relays(); !slices.Equal(got, []peer.ID{relayHost.ID()}) {
		t.Fatalf("A holds reservations on %v, want the relay", got)
	}
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	a.SetStreamHandler(echoProto, func(s network.Stream) {
		defer s.Close()
		io.Copy(s, s)
	})

	// Another member connects through it: not limited, and 1 MiB each way passes.
	if err := b.Connect(ctx, circuitTo(relayHost, a.ID())); err != nil {
		t.Fatalf("member B through the relay to member A: %v", err)
	}
	conns := b.Network().ConnsToPeer(a.ID())
	if len(conns) != 1 || conns[0].Stat().Limited {
		t.Fatalf("B's connection to A: %d conns, limited=%v; want one unlimited relayed conn", len(conns), len(conns) == 1 && conns[0].Stat().Limited)
	}
	s, err := b.NewStream(ctx, a.ID(), echoProto)
	if err != nil {
		t.Fatal(err)
	}
	go func() { s.Write(payload); s.CloseWrite() }()
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("echo through the group relay: %d of %d bytes, err %v", len(got), len(payload), err)
	}

	// A stranger cannot use a member's reservation...
	if err := stranger.Connect(ctx, circuitTo(relayHost, a.ID())); err == nil {
		t.Fatal("a stranger reached a member through the group relay")
	}
	// ...and gets a limited relay for itself.
	sres := NewReservations(stranger)
	sres.Refresh(ctx, []peer.AddrInfo{relayInfo})
	if len(sres.Relays()) != 1 {
		t.Fatal("the stranger got no reservation on the public relay")
	}
	if err := b.Connect(ctx, circuitTo(relayHost, stranger.ID())); err != nil {
		t.Fatalf("B to the stranger through the public relay: %v", err)
	}
	for _, c := range b.Network().ConnsToPeer(stranger.ID()) {
		if !c.Stat().Limited {
			t.Fatal("a circuit to a stranger is not limited")
		}
	}

	// Private again: both relays stop.
	if err := svc.SetReachability(network.ReachabilityPrivate); err != nil {
		t.Fatal(err)
	}
	if pub, grp := svc.Running(); pub || grp {
		t.Fatalf("Running() = %v, %v after becoming private", pub, grp)
	}
}
