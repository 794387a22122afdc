package reach

import (
	"net/netip"
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
func InferNAT(obs []Observation, since time.Time) NATType {
	type group struct {
		transport string
		local     netip.AddrPort
		observed  netip.Addr
	}
	ports := map[group]map[netip.Addr]uint16{} // observer -> port seen
	none := false
	for _, o := range obs {
		if o.At.Before(since) || !isPublicIP(o.Observer) || !isPublicIP(o.Observed.Addr()) {
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
