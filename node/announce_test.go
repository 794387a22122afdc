package node

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
)

// TestAnnouncedMappings: the port mapper hands libp2p, as a listen
// address's mapping (for AutoNAT v2 to test), the first address of
// network.announce_addrs with its IP version and transport, 0.0.0.0
// replaced by the public address peers see; before the guess at a port
// forwarded by hand, after the router's own mapping; never a name.
func TestAnnouncedMappings(t *testing.T) {
	public := netip.MustParseAddr("11.9.0.1")
	announce := parseAnnounce([]string{
		"/dns4/home.example.org/tcp/4101",
		"/ip4/81.2.69.160/tcp/40000",
		"/ip4/81.2.69.160/tcp/40001", // a second for TCP: given out, not tested
		"/ip4/0.0.0.0/udp/40000/quic-v1",
		"/ip6/2a01:4f8::7/tcp/4101",
	})
	tcp, quic := ma.StringCast("/ip4/0.0.0.0/tcp/4101"), ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1")
	mapped := ma.StringCast("/ip4/11.9.0.1/tcp/18262")
	for _, tc := range []struct {
		name string
		pm   *portMapper
		in   ma.Multiaddr
		seen bool // peers saw the public address
		want string
	}{
		{"TCP", &portMapper{off: true}, tcp, true, "/ip4/81.2.69.160/tcp/40000"},
		{"TCP, the public address not seen yet", &portMapper{off: true}, tcp, false, "/ip4/81.2.69.160/tcp/40000"},
		{"QUIC at 0.0.0.0", &portMapper{off: true}, quic, true, "/ip4/11.9.0.1/udp/40000/quic-v1"},
		{"QUIC at 0.0.0.0, the public address not seen yet", &portMapper{off: true}, quic, false, ""},
		{"IPv6", &portMapper{off: true}, ma.StringCast("/ip6/::/tcp/4101"), true, "/ip6/2a01:4f8::7/tcp/4101"},
		{"IPv6, another transport", &portMapper{off: true}, ma.StringCast("/ip6/::/udp/4101/quic-v1"), true, ""},
		{"loopback", &portMapper{off: true}, ma.StringCast("/ip4/127.0.0.1/tcp/4101"), true, ""},
		{"the router forwards one on request", &portMapper{newMgr: func(network.Network) basichost.NATManager {
			return fakeNAT{from: tcp, to: mapped}
		}}, tcp, true, mapped.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.Addr{}
			if tc.seen {
				ip = public
			}
			tc.pm.publicIP = func() netip.Addr { return ip }
			tc.pm.announce = announce
			if tc.pm.newMgr != nil {
				tc.pm.startLocked()
			}
			wantMapping(t, tc.pm, tc.in, tc.want)
		})
	}

	// The guess at a port forwarded by hand is not made where an
	// address is announced.
	h, f := newFilteredHost(t)
	f.ports = &portMapper{off: true, publicIP: func() netip.Addr { return public }, net: h.Network(),
		announce: parseAnnounce([]string{"/ip4/0.0.0.0/tcp/40000"})}
	if g := f.ports.Guesses(); len(g) > 0 {
		t.Errorf("Guesses() = %v with an announced TCP address, want none", g)
	}
}

// TestAnnouncedGivenOut: the addresses of network.announce_addrs are given
// out at once, on the user's word (a name as it is), until AutoNAT v2
// finds one no peer can dial; the doctor says which is which.
func TestAnnouncedGivenOut(t *testing.T) {
	h, f := newFilteredHost(t)
	ip := netip.Addr{}
	f.ports = &portMapper{off: true, publicIP: func() netip.Addr { return ip }, net: h.Network(),
		announce: parseAnnounce([]string{"/ip4/81.2.69.160/tcp/40000", "/ip4/0.0.0.0/udp/40000/quic-v1", "/dns4/home.example.org/tcp/4101"})}
	tcp, quic := ma.StringCast("/ip4/81.2.69.160/tcp/40000"), ma.StringCast("/ip4/11.9.0.1/udp/40000/quic-v1")
	name := ma.StringCast("/dns4/home.example.org/tcp/4101")
	got := f.factory(h.Network().ListenAddresses())
	if !slices.ContainsFunc(got, tcp.Equal) || !slices.ContainsFunc(got, name.Equal) {
		t.Errorf("advertised %v, want %s and %s at once", got, tcp, name)
	}
	if slices.ContainsFunc(got, func(a ma.Multiaddr) bool { return a.String() == "/ip4/0.0.0.0/udp/40000/quic-v1" }) {
		t.Errorf("advertised %v, want no 0.0.0.0 before peers saw the public address", got)
	}
	if how := announceHow(f.ports.announceStates(f.reach.IsReachable, f.reach.IsUnreachable)); how !=
		"tcp 81.2.69.160:40000 (given out; not dialled back yet), /ip4/0.0.0.0/udp/40000/quic-v1 (waiting for peers to see this node's public address), /dns4/home.example.org/tcp/4101 (a name: given out as it is)" {
		t.Errorf("doctor: announced %q", how)
	}

	ip = netip.MustParseAddr("11.9.0.1")
	if got := f.factory(h.Network().ListenAddresses()); !slices.ContainsFunc(got, quic.Equal) {
		t.Errorf("advertised %v, want %s once peers saw the public address", got, quic)
	}
	em, err := h.EventBus().Emitter(new(event.EvtHostReachableAddrsChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	em.Emit(event.EvtHostReachableAddrsChanged{Reachable: []ma.Multiaddr{quic}, Unreachable: []ma.Multiaddr{tcp}})
	waitFor(t, 5*time.Second, "the tracker to take the verdicts", func() bool { return f.reach.IsUnreachable(tcp) && f.reach.IsReachable(quic) })
	got = f.factory(h.Network().ListenAddresses())
	if slices.ContainsFunc(got, tcp.Equal) || !slices.ContainsFunc(got, quic.Equal) {
		t.Errorf("advertised %v, want %s (dialled back) and not %s (no peer could dial it)", got, quic, tcp)
	}
	if how := announceHow(f.ports.announceStates(f.reach.IsReachable, f.reach.IsUnreachable)); how !=
		"tcp 81.2.69.160:40000 (no peer could dial it back: not given out), udp 11.9.0.1:40000 (peers dialled it back), /dns4/home.example.org/tcp/4101 (a name: given out as it is)" {
		t.Errorf("doctor: announced %q", how)
	}
}
