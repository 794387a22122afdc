package node

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/node/reach"
)

// newFilteredHost returns a loopback host and an address filter on it
// with a started reach tracker, all closed at the end of the test.
func newFilteredHost(t *testing.T) (host.Host, *addrFilter) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	tr := reach.NewTracker(reach.Options{})
	if err := tr.Start(h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	f := &addrFilter{reach: tr}
	f.h.Store(&h)
	return h, f
}

// TestAddrFilterKeepsCircuits: libp2p drops the relay circuits from a
// host's addresses once AutoNAT v2 confirmed any address. When that
// address is IPv6 and IPv4 is behind a NAT, the node is not public
// (reach.Decide) and the filter must give the circuits back, or peers with
// IPv4 only find no way in; once IPv4 is confirmed too, the node is public
// and advertises no circuits.
func TestAddrFilterKeepsCircuits(t *testing.T) {
	h, f := newFilteredHost(t)
	tr := f.reach

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

// fakeNAT stands in for libp2p's NAT manager (which would ask this
// machine's real router): it forwards one port of a public address to
// the TCP listen address, as a UPnP router does.
type fakeNAT struct {
	to, from ma.Multiaddr
	none     bool // no router answered
}

func (f fakeNAT) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	if a.Equal(f.from) {
		return f.to
	}
	return nil
}
func (f fakeNAT) HasDiscoveredNAT() bool { return !f.none }
func (fakeNAT) Close() error             { return nil }

// TestAddrFilterPortMappings: a port the router forwards on request is
// advertised at once, even before libp2p lists it and before AutoNAT v2
// tested it (the router's word is enough); an address a peer merely
// observed still waits for AutoNAT v2.
func TestAddrFilterPortMappings(t *testing.T) {
	h, f := newFilteredHost(t)
	mapped := ma.StringCast("/ip4/11.0.0.4/tcp/18262")
	pm := &portMapper{net: h.Network(), newMgr: func(network.Network) basichost.NATManager {
		return fakeNAT{to: mapped, from: h.Network().ListenAddresses()[0]}
	}}
	pm.startLocked()
	f.ports = pm

	observed := ma.StringCast("/ip4/11.0.0.4/tcp/4101")
	got := f.factory(h.Network().ListenAddresses())
	if !slices.ContainsFunc(got, mapped.Equal) {
		t.Errorf("advertised %v, want the forwarded port %s", got, mapped)
	}
	if got := f.factory([]ma.Multiaddr{observed}); slices.ContainsFunc(got, observed.Equal) {
		t.Errorf("advertised %v, want no observed address before AutoNAT v2 tested it", got)
	}
	if m := pm.Mapped(); !slices.ContainsFunc(m, mapped.Equal) || slices.ContainsFunc(m, observed.Equal) {
		t.Errorf("Mapped() = %v, want %s and not %s", m, mapped, observed)
	}

	// AutoNAT v2 could not dial the forwarded port back: the router's word
	// no longer stands.
	em, err := h.EventBus().Emitter(new(event.EvtHostReachableAddrsChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	em.Emit(event.EvtHostReachableAddrsChanged{Unreachable: []ma.Multiaddr{mapped}})
	waitFor(t, 5*time.Second, "the tracker to take the forwarded port as unreachable", func() bool { return f.reach.IsUnreachable(mapped) })
	if got := f.factory(h.Network().ListenAddresses()); slices.ContainsFunc(got, mapped.Equal) {
		t.Errorf("advertised %v, want no forwarded port AutoNAT v2 could not dial", got)
	}
}

// TestPortForwardedByHand: for each IPv4 TCP and QUIC listen address, the
// port mapper offers libp2p (for AutoNAT v2 to test) the public address
// peers see with the port it listens on, where a port forwarded by hand
// would be: also with port mapping off, and not where the router forwards
// one on request. The address filter gives it out only once AutoNAT v2
// dialled it back; the doctor does not count it as forwarded.
func TestPortForwardedByHand(t *testing.T) {
	public := netip.MustParseAddr("11.9.0.1")
	ip := netip.Addr{}
	tcp, quic := ma.StringCast("/ip4/0.0.0.0/tcp/4101"), ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1")
	mapped := ma.StringCast("/ip4/11.9.0.1/tcp/18262")
	for _, tc := range []struct {
		name   string
		pm     *portMapper
		in     ma.Multiaddr
		before bool // peers saw the public address
		want   string
	}{
		{"TCP", &portMapper{off: true}, tcp, true, "/ip4/11.9.0.1/tcp/4101"},
		{"QUIC", &portMapper{off: true}, quic, true, "/ip4/11.9.0.1/udp/4101/quic-v1"},
		{"a specific address", &portMapper{off: true}, ma.StringCast("/ip4/192.168.1.10/tcp/4101"), true, "/ip4/11.9.0.1/tcp/4101"},
		{"before peers saw the address", &portMapper{off: true}, tcp, false, ""},
		{"loopback", &portMapper{off: true}, ma.StringCast("/ip4/127.0.0.1/tcp/4101"), true, ""},
		{"IPv6", &portMapper{off: true}, ma.StringCast("/ip6/::/tcp/4101"), true, ""},
		{"WebTransport", &portMapper{off: true}, ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1/webtransport"), true, ""},
		{"the router forwards one on request", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{from: tcp, to: mapped}
		}}, tcp, true, mapped.String()},
		{"the router forwards another, the look over", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{from: tcp, to: mapped}
		}}, quic, true, "/ip4/11.9.0.1/udp/4101/quic-v1"},
		// NAT-PMP asks for the same port outside: AutoNAT v2's verdict on
		// a guess made before would stick to the forwarded port.
		{"the router answered, is mapping", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{}
		}}, quic, true, ""},
		{"asking the router", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{none: true}
		}}, quic, true, ""},
		{"no router answered, the look over", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{none: true}
		}}, quic, true, "/ip4/11.9.0.1/udp/4101/quic-v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.pm.publicIP = func() netip.Addr { return ip }
			if tc.pm.newMgr != nil {
				tc.pm.startLocked()
				if strings.HasSuffix(tc.name, "the look over") {
					tc.pm.since = time.Now().Add(-2*portMapDiscovery - time.Second)
				}
			}
			ip = netip.Addr{}
			if tc.before {
				ip = public
			}
			wantMapping(t, tc.pm, tc.in, tc.want)
		})
	}

	h, f := newFilteredHost(t)
	f.ports = &portMapper{off: true, publicIP: func() netip.Addr { return public }, net: h.Network()}
	guess := ma.StringCast("/ip4/11.9.0.1/tcp/4101")
	if got := f.factory([]ma.Multiaddr{guess}); slices.ContainsFunc(got, guess.Equal) {
		t.Errorf("advertised %v, want no guess before AutoNAT v2 tested it", got)
	}
	if st := f.ports.state(); !st.off || len(st.mapped) > 0 {
		t.Errorf("port mapping %+v: want off, nothing mapped", st)
	}
	em, err := h.EventBus().Emitter(new(event.EvtHostReachableAddrsChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	em.Emit(event.EvtHostReachableAddrsChanged{Reachable: []ma.Multiaddr{guess}})
	waitFor(t, 5*time.Second, "the tracker to take the guess as reachable", func() bool { return f.reach.IsReachable(guess) })
	if got := f.factory([]ma.Multiaddr{guess}); !slices.ContainsFunc(got, guess.Equal) {
		t.Errorf("advertised %v, want the port AutoNAT v2 dialled back", got)
	}
}

// TestPortMapperRediscovers: libp2p looks for the router once, at start;
// the port mapper looks again when the machine's addresses changed (another
// network) or when no router answered and the look is over, and not
// otherwise, nor once the host closed it.
func TestPortMapperRediscovers(t *testing.T) {
	built := 0
	none := false
	pm := &portMapper{newMgr: func(network.Network) basichost.NATManager {
		built++
		return fakeNAT{none: none}
	}}
	pm.startLocked()
	if old := pm.Rediscover(); old != nil || built != 1 {
		t.Fatalf("same network, router found: looked again (%d managers built)", built)
	}
	pm.ifaces = "192.168.1.2/24 on another network"
	if old := pm.Rediscover(); old == nil || built != 2 {
		t.Fatalf("addresses changed: did not look again (%d managers built)", built)
	}

	none = true
	pm.startLocked()
	if old := pm.Rediscover(); old != nil {
		t.Fatal("no router yet, still looking: looked again")
	}
	pm.since = time.Now().Add(-portMapDiscovery - time.Second)
	if old := pm.Rediscover(); old == nil {
		t.Fatal("no router answered, the look is over: did not look again")
	}
	if st := pm.state(); st.looking {
		t.Error("looking again on the same network: the doctor says it is still looking, not that no router answered")
	}
	pm.Close()
	pm.ifaces = "another network again"
	if old := pm.Rediscover(); old != nil {
		t.Fatal("closed: looked again")
	}
}

// wantMapping fails t unless pm gives listen address in the mapping want
// ("" for none).
func wantMapping(t *testing.T, pm *portMapper, in ma.Multiaddr, want string) {
	t.Helper()
	got := pm.GetMapping(in)
	if (want == "" && got != nil) || (want != "" && (got == nil || got.String() != want)) {
		t.Errorf("GetMapping(%s) = %v, want %q", in, got, want)
	}
}
