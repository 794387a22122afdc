package reach

import (
	"net/netip"
	"slices"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// NATType is what the addresses peers observe say about the router in
// front of this node.
type NATType int

const (
	// NATUnknown: too few observers (at least two are needed).
	NATUnknown NATType = iota
	// NATNone: peers see the address this node listens on; no NAT.
	NATNone
	// NATCone: every observer sees the same public address and port
	// (endpoint-independent mapping); hole punching can work.
	NATCone
	// NATSymmetric: observers see the same public address with different
	// ports (endpoint-dependent mapping); hole punching will fail.
	NATSymmetric
)

func (t NATType) String() string {
	switch t {
	case NATNone:
		return "none"
	case NATCone:
		return "cone"
	case NATSymmetric:
		return "symmetric"
	}
	return "unknown"
}

// Observation is one peer's report of the address our connection to it
// came from.
type Observation struct {
	// Observer is the remote peer's IP (one vote per IP, as libp2p counts).
	Observer netip.Addr
	// Local is the local end of the connection: IP, transport and port.
	Local netip.AddrPort
	// Transport is "tcp" or "udp".
	Transport string
	// Observed is what the observer saw.
	Observed netip.AddrPort
	// At is when it was reported.
	At time.Time
}

// observationTTL drops old reports: after a network change they describe a
// router this node is no longer behind.
const observationTTL = 30 * time.Minute

// InferNAT decides the NAT type from observations made at or after
// since. Reports from observers on private addresses (a LAN peer sees the
// LAN address) are ignored. The most telling transport wins: symmetric on
// any transport means hole punches on that transport fail.
//
// A dual-stack node is judged on IPv4: its IPv6 is not translated (peers
// see its own address; PublicIPv6 tells), and hole punching between IPv4
// NATs is what the answer is for. IPv6 observations decide only where there
// is no IPv4 one (an IPv6-only network).
func InferNAT(obs []Observation, since time.Time) NATType {
	v4 := slices.ContainsFunc(obs, func(o Observation) bool { return o.Observed.Addr().Is4() && counts(o, since) })
	return inferNAT(slices.DeleteFunc(slices.Clone(obs), func(o Observation) bool { return o.Observed.Addr().Is4() != v4 }), since)
}

// counts reports whether o is a recent enough report, by a public
// observer, of a public address.
func counts(o Observation, since time.Time) bool {
	return !o.At.Before(since) && isPublicIP(o.Observer) && isPublicIP(o.Observed.Addr())
}

// PublicIPv6 returns this node's public IPv6 address: among own, the
// node's interface addresses, the one peers saw most recently (at or after
// since) as the address of a connection, else the first public one. IPv6
// is not translated, so an interface's public address is the one peers
// see; a report confirms it (a socket listening on every address reports
// "::" as its local end, so reports are matched against own). The zero
// Addr when the node has no public IPv6 address.
func PublicIPv6(obs []Observation, since time.Time, own []netip.Addr) netip.Addr {
	var out netip.Addr
	var at time.Time
	for _, o := range obs {
		a := o.Observed.Addr()
		if a.Is6() && !a.Is4In6() && counts(o, since) && slices.Contains(own, a) && !o.At.Before(at) {
			out, at = a, o.At
		}
	}
	if out.IsValid() {
		return out
	}
	for _, a := range own {
		if a.Is6() && !a.Is4In6() && isPublicIP(a) {
			return a
		}
	}
	return netip.Addr{}
}

// PublicIPv4 returns the public IPv4 address that at least two public
// observers saw this node's connections come from (at or after since), the
// one most of them saw (the lowest of a tie); the zero Addr when none was
// seen so, or when it is one of own, the node's interface addresses (no
// NAT in front). Two, so that one peer's word does not make this node try
// an address (a peer may lie; AutoNAT v2 would dial it).
func PublicIPv4(obs []Observation, since time.Time, own []netip.Addr) netip.Addr {
	observers := map[netip.Addr]map[netip.Addr]bool{} // observed IP -> observers
	for _, o := range obs {
		ip := o.Observed.Addr()
		if !ip.Is4() || !counts(o, since) {
			continue
		}
		if observers[ip] == nil {
			observers[ip] = map[netip.Addr]bool{}
		}
		observers[ip][o.Observer] = true
	}
	var best netip.Addr
	for ip, by := range observers {
		if len(by) < 2 || slices.Contains(own, ip) {
			continue
		}
		if n := len(observers[best]); !best.IsValid() || len(by) > n || len(by) == n && ip.Less(best) {
			best = ip
		}
	}
	return best
}

func inferNAT(obs []Observation, since time.Time) NATType {
	type group struct {
		transport string
		local     netip.AddrPort
		observed  netip.Addr
	}
	ports := map[group]map[netip.Addr]uint16{} // observer -> port seen
	none := false
	for _, o := range obs {
		if !counts(o, since) {
			continue
		}
		if o.Observed == o.Local {
			none = true
			continue
		}
		g := group{o.Transport, o.Local, o.Observed.Addr()}
		if ports[g] == nil {
			ports[g] = map[netip.Addr]uint16{}
		}
		ports[g][o.Observer] = o.Observed.Port()
	}
	result := NATUnknown
	if none {
		result = NATNone
	}
	decided := false
	for _, byObserver := range ports {
		if len(byObserver) < 2 {
			continue
		}
		decided = true
		distinct := map[uint16]bool{}
		for _, p := range byObserver {
			distinct[p] = true
		}
		if len(distinct) > 1 {
			return NATSymmetric
		}
		result = NATCone
	}
	if decided || result == NATNone {
		return result
	}
	// No transport has two observers yet (a laptop may reach one public
	// peer over TCP and another over QUIC). kith listens on the same port
	// for both, so the ports still tell: kept on every mapping, the NAT
	// preserves ports (cone); changed on each, to a different port every
	// time, it maps per destination (symmetric).
	var seen []uint16
	kept, changed := 0, 0
	for g, byObserver := range ports {
		for _, p := range byObserver {
			if p == g.local.Port() {
				kept++
			} else {
				changed++
				seen = append(seen, p)
			}
		}
	}
	distinct := map[uint16]bool{}
	for _, p := range seen {
		distinct[p] = true
	}
	switch {
	case kept >= 2 && changed == 0:
		return NATCone
	case changed >= 2 && kept == 0 && len(distinct) == changed:
		return NATSymmetric
	}
	return result
}

func isPublicIP(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	a, err := manet.FromIP(ip.AsSlice())
	return err == nil && manet.IsPublicAddr(a)
}

// thinWaist splits /ip4|ip6/.../tcp|udp/PORT... into an address and port
// and the transport name; ok is false for anything else (circuits, DNS).
func thinWaist(a ma.Multiaddr) (ap netip.AddrPort, transport string, ok bool) {
	if len(a) < 2 {
		return netip.AddrPort{}, "", false
	}
	var ip netip.Addr
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6:
		var okIP bool
		ip, okIP = netip.AddrFromSlice(a[0].RawValue())
		if !okIP {
			return netip.AddrPort{}, "", false
		}
		ip = ip.Unmap()
	default:
		return netip.AddrPort{}, "", false
	}
	switch a[1].Code() {
	case ma.P_TCP:
		transport = "tcp"
	case ma.P_UDP:
		transport = "udp"
	default:
		return netip.AddrPort{}, "", false
	}
	raw := a[1].RawValue()
	if len(raw) != 2 {
		return netip.AddrPort{}, "", false
	}
	return netip.AddrPortFrom(ip, uint16(raw[0])<<8|uint16(raw[1])), transport, true
}
