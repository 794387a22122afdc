package node

import (
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/node/reach"
)

// TestAddrFilterKeepsCircuits: libp2p drops the relay circuits from a
// host's addresses once AutoNAT v2 confirmed any address. When that
// address is IPv6 and IPv4 is behind a NAT, the node is not public
// (reach.Decide) and the filter must give the circuits back, or peers with
// IPv4 only find no way in; once IPv4 is confirmed too, the node is public
// and advertises no circuits.
func TestAddrFilterKeepsCircuits(t *testing.T) {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tr := reach.NewTracker(reach.Options{})
	if err := tr.Start(h); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	f := &addrFilter{reach: tr}
	var hh host.Host = h
	f.h.Store(&hh)

	relayEm, err := h.EventBus().Emitter(new(event.EvtAutoRelayAddrsUpdated), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer relayEm.Close()
	reachEm, err := h.EventBus().Emitter(new(event.EvtHostReachableAddrsChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer reachEm.Close()

	v6 := ma.StringCast("/ip6/3fff:0:0:1::2/tcp/4101")
	v4 := ma.StringCast("/ip4/11.0.0.4/tcp/4101")
	circuit := ma.StringCast("/ip4/11.0.0.2/tcp/4101/p2p/12D3KooWKWwQbsbqQm761kzv3P6K7WpLXBpQrAtAcYt354M9etGC/p2p-circuit")
	relayEm.Emit(event.EvtAutoRelayAddrsUpdated{RelayAddrs: []ma.Multiaddr{circuit}})
	// What libp2p hands the filter once the IPv6 address is confirmed:
	// the confirmed address, no circuit.
	reachEm.Emit(event.EvtHostReachableAddrsChanged{Reachable: []ma.Multiaddr{v6}, Unreachable: []ma.Multiaddr{v4}})
	waitFor(t, 5*time.Second, "the tracker to take IPv6 open, IPv4 closed as private", func() bool {
		return tr.Reachability() == network.ReachabilityPrivate && len(tr.RelayAddrs()) == 1
	})
	if got := f.factory([]ma.Multiaddr{v6}); !slices.ContainsFunc(got, circuit.Equal) {
		t.Errorf("private with an open IPv6 address: advertised %v, want the relay circuit too", got)
	}

	reachEm.Emit(event.EvtHostReachableAddrsChanged{Reachable: []ma.Multiaddr{v6, v4}})
	waitFor(t, 5*time.Second, "the tracker to take IPv4 open as public", func() bool {
		return tr.Reachability() == network.ReachabilityPublic
	})
	if got := f.factory([]ma.Multiaddr{v6, v4}); slices.ContainsFunc(got, circuit.Equal) {
		t.Errorf("public: advertised %v, want no relay circuit", got)
	}
}
