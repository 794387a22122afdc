package node

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Addresses named in network.announce_addrs: where peers on the internet
// reach this node that it cannot learn by itself, as Kubo's
// Addresses.AppendAnnounce. A port the router forwards from another port
// outside (40000 to 4101) is one: behind a NAT peers see other ports, and
// kith tries only the listen port by itself (portMapper.byHand). A name
// (/dns4/home.example.org/tcp/4101) is another, for a home whose address
// changes; and 0.0.0.0 stands for the public IPv4 address peers see, which
// a name service would otherwise have to follow.
//
// They are given out at once, on the user's word, as a router's mapping
// is on the router's word: the port mapper hands the IP ones to libp2p as
// the mapping of the listen address of the same transport (GetMapping),
// so AutoNAT v2 dials them back, a confirmed one makes the node public,
// and one no peer could dial is given out no more and the doctor says so.
// A name is given out as it is: AutoNAT v2 tests addresses, not names.

// validateAnnounce checks one entry of network.announce_addrs.
func validateAnnounce(s string) error {
	const example = "for example /ip4/203.0.113.7/tcp/40000, /ip4/0.0.0.0/udp/40000/quic-v1 or /dns4/home.example.org/tcp/4101"
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return fmt.Errorf("network.announce_addrs: %q is not a multiaddr (%s)", s, example)
	}
	if _, err := a.ValueForProtocol(ma.P_P2P); err == nil {
		return fmt.Errorf("network.announce_addrs: %q names a peer ID: leave /p2p/... out, kith adds its own", s)
	}
	if !announceTransport(a) {
		return fmt.Errorf("network.announce_addrs: %q is neither TCP nor QUIC at an address or name (%s)", s, example)
	}
	if _, port, ok := transportPort(a); !ok || port == 0 {
		return fmt.Errorf("network.announce_addrs: %q has no port: name the one the router forwards", s)
	}
	switch a[0].Code() {
	case ma.P_IP4:
		if !manet.IsIPUnspecified(a) && !manet.IsPublicAddr(a) {
			return fmt.Errorf("network.announce_addrs: %q is not a public address: peers on the LAN get this machine's own addresses already (0.0.0.0 stands for the public address peers see)", s)
		}
	case ma.P_IP6:
		if manet.IsIPUnspecified(a) || !manet.IsPublicAddr(a) {
			return fmt.Errorf("network.announce_addrs: %q is not a public IPv6 address (this machine's own are given out already)", s)
		}
	}
	return nil
}

// announceTransport reports whether a is an IP address or DNS name with
// TCP, or UDP with QUIC v1, and nothing after.
func announceTransport(a ma.Multiaddr) bool {
	if len(a) < 2 {
		return false
	}
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		return tcpOrQUIC(a[1:])
	}
	return false
}

// tcpOrQUIC reports whether t, an address's part after its IP address or
// name, is TCP, or UDP with QUIC v1, and nothing after.
func tcpOrQUIC(t ma.Multiaddr) bool {
	switch {
	case len(t) == 1 && t[0].Code() == ma.P_TCP:
	case len(t) == 2 && t[0].Code() == ma.P_UDP && t[1].Code() == ma.P_QUIC_V1:
	default:
		return false
	}
	return true
}

// parseAnnounce turns network.announce_addrs (validated) into multiaddrs.
func parseAnnounce(ss []string) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range ss {
		if a, err := ma.NewMultiaddr(s); err == nil && announceTransport(a) {
			out = append(out, a)
		}
	}
	return out
}

// resolveAnnounce returns a with 0.0.0.0 replaced by ip, the public IPv4
// address peers see; nil when a has 0.0.0.0 and ip is not known.
func resolveAnnounce(a ma.Multiaddr, ip netip.Addr) ma.Multiaddr {
	if a[0].Code() != ma.P_IP4 || !manet.IsIPUnspecified(a) {
		return a
	}
	return atIPv4(a, ip)
}

// atIPv4 returns a with its IPv4 address replaced by ip; nil when ip is
// not an IPv4 address (not known).
func atIPv4(a ma.Multiaddr, ip netip.Addr) ma.Multiaddr {
	if !ip.Is4() {
		return nil
	}
	c, err := ma.NewComponent("ip4", ip.String())
	if err != nil {
		return nil
	}
	return append(ma.Multiaddr{*c}, a[1:]...)
}

// sameTransport reports whether a and b are both IPv4 or both IPv6, with
// the same protocols after (TCP, or UDP and QUIC v1), whatever the
// addresses and ports.
func sameTransport(a, b ma.Multiaddr) bool {
	return slices.EqualFunc(a, b, func(x, y ma.Component) bool { return x.Code() == y.Code() })
}

// announcedFor is the address of network.announce_addrs that the port
// mapper gives libp2p as listen address la's mapping: the first at an IP
// address (not a name) with la's IP version and transport, resolved. nil
// if none, or if it has 0.0.0.0 and peers have not seen the public
// address yet.
func (p *portMapper) announcedFor(la ma.Multiaddr) ma.Multiaddr {
	if p == nil || len(la) < 2 || manet.IsIPLoopback(la) {
		return nil
	}
	for _, a := range p.announce {
		if (a[0].Code() == ma.P_IP4 || a[0].Code() == ma.P_IP6) && sameTransport(a, la) {
			return resolveAnnounce(a, p.ip())
		}
	}
	return nil
}

// Announced returns network.announce_addrs as given out: resolved, and
// without those that have 0.0.0.0 before peers saw the public address.
func (p *portMapper) Announced() []ma.Multiaddr {
	if p == nil {
		return nil
	}
	var out []ma.Multiaddr
	for _, a := range p.announce {
		if r := resolveAnnounce(a, p.ip()); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// ip is the public IPv4 address peers see, or the zero Addr.
func (p *portMapper) ip() netip.Addr {
	if p.publicIP == nil {
		return netip.Addr{}
	}
	return p.publicIP()
}

// announceVerdict is what the node knows of one address of
// network.announce_addrs.
type announceVerdict int

const (
	announceUntested    announceVerdict = iota // given out, no dial-back yet
	announceReachable                          // AutoNAT v2 dialled it back
	announceUnreachable                        // no peer could: given out no more
	announceName                               // a DNS name: given out as it is
	announceWaiting                            // 0.0.0.0: peers have not seen the public address yet
)

// announceState is one address of network.announce_addrs for the doctor:
// as configured, as given out (resolved), and its verdict.
type announceState struct {
	conf, addr ma.Multiaddr
	verdict    announceVerdict
}

// announceStates judges each address of network.announce_addrs.
func (p *portMapper) announceStates(reachable, unreachable func(ma.Multiaddr) bool) []announceState {
	if p == nil {
		return nil
	}
	var out []announceState
	for _, a := range p.announce {
		st := announceState{conf: a, addr: resolveAnnounce(a, p.ip())}
		switch {
		case a[0].Code() != ma.P_IP4 && a[0].Code() != ma.P_IP6:
			st.verdict = announceName
		case st.addr == nil:
			st.verdict = announceWaiting
		case reachable(st.addr):
			st.verdict = announceReachable
		case unreachable(st.addr):
			st.verdict = announceUnreachable
		}
		out = append(out, st)
	}
	return out
}

// announceHow is the doctor's line on network.announce_addrs ("" when none
// is set): each address and what is known of it.
func announceHow(states []announceState) string {
	var parts []string
	for _, st := range states {
		var s string
		switch st.verdict {
		case announceReachable:
			s = transportsText([]ma.Multiaddr{st.addr}) + " (peers dialled it back)"
		case announceUnreachable:
			s = transportsText([]ma.Multiaddr{st.addr}) + " (no peer could dial it back: not given out)"
		case announceUntested:
			s = transportsText([]ma.Multiaddr{st.addr}) + " (given out; not dialled back yet)"
		case announceName:
			s = st.conf.String() + " (a name: given out as it is)"
		case announceWaiting:
			s = st.conf.String() + " (waiting for peers to see this node's public address)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// announceAddrs returns the addresses of states with verdict v.
func announceAddrs(states []announceState, v announceVerdict) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, st := range states {
		if st.verdict == v {
			out = append(out, st.addr)
		}
	}
	return out
}
