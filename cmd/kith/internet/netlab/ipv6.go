//go:build linux

package netlab

import (
	"net/netip"
	"testing"
)

// PublicRange6 holds every IPv6 address of a dual-stack lab
// ([NewDualStack]). It is 3fff::/20, the documentation prefix of RFC 9637:
// routed nowhere on the real internet, yet inside 2000::/3 and so public to
// libp2p's address classification (the older 2001:db8::/32 is not). As for
// [PublicRange], it exists only inside the lab.
var PublicRange6 = netip.MustParsePrefix("3fff::/20")

// bridgeNet6 is the public bridge's IPv6 network: public hosts' and
// routers' WAN addresses. Homes get the /64s after it (homeNet6).
var bridgeNet6 = netip.MustParsePrefix("3fff::/64")

// coreAddr6 is the core's IPv6 address on the bridge, the default gateway
// of public hosts and routers. Unlike the IPv4 core it routes: each home's
// /64 lies behind its router's WAN address, as an ISP routes a delegated
// prefix. It has no default route, so packets for addresses outside the lab
// die there.
var coreAddr6 = netip.MustParseAddr("3fff::1")

// NewDualStack builds an empty lab whose internet carries IPv6 too: every
// public host gets an address in PublicRange6, every home router a WAN
// address and a /64 for its LAN (unless RouterConfig.NoIPv6), and laptops an
// address in it. IPv6 is routed, not translated: the router's stateful
// firewall (the same rules as for IPv4) is what keeps the LAN closed, as on
// a home router that follows RFC 6092. Connections from outside are dropped
// unless they answer something sent from inside, so two laptops can still
// reach each other only by sending at once (a hole punch), but with no port
// translation in the way even behind a symmetric IPv4 NAT.
func NewDualStack(t testing.TB) *Lab {
	t.Helper()
	l := New(t)
	l.v6 = true
	l.nextPublic6 = coreAddr6.Next()
	l.core.ip("addr add " + prefix(coreAddr6, bridgeNet6.Bits()) + " dev " + bridgeName + " nodad")
	l.core.sysctl("net.ipv6.conf.all.forwarding=1")
	return l
}

// allocPublic6 returns the next unused IPv6 address on the bridge.
func (l *Lab) allocPublic6() netip.Addr {
	a := l.nextPublic6
	l.nextPublic6 = a.Next()
	return a
}

// homeNet6 is the /64 of the lab's n-th router's LAN: 3fff:0:0:n::/64.
func homeNet6(n int) netip.Prefix {
	b := bridgeNet6.Addr().As16()
	b[6], b[7] = byte(n>>8), byte(n)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// publicHost6 gives a public host its IPv6 address and route.
func (l *Lab) publicHost6(h *Host) {
	h.addr6 = l.allocPublic6()
	h.ip(
		"addr add "+prefix(h.addr6, bridgeNet6.Bits())+" dev eth0 nodad",
		"route add default via "+coreAddr6.String(),
	)
}

// router6 gives a router its WAN address, its LAN's /64 and the core's
// route to it.
func (l *Lab) router6(r *Router) {
	r.wan6 = l.allocPublic6()
	r.lan6 = homeNet6(l.routers)
	r.nextLAN6 = r.gateway6().Next()
	r.ip(
		"addr add "+prefix(r.wan6, bridgeNet6.Bits())+" dev wan nodad",
		"route add default via "+coreAddr6.String(),
		"addr add "+prefix(r.gateway6(), r.lan6.Bits())+" dev lan nodad",
	)
	r.sysctl("net.ipv6.conf.all.forwarding=1")
	l.core.ip("route add " + r.lan6.String() + " via " + r.wan6.String())
}

func (r *Router) gateway6() netip.Addr { return r.lan6.Addr().Next() }

// HasIPv6 reports whether the router gives its LAN IPv6.
func (r *Router) HasIPv6() bool { return r.lan6.IsValid() }

// plug6 gives a laptop just plugged into r an IPv6 address and route, if r
// has IPv6.
func (r *Router) plug6(h *Host) {
	if !r.HasIPv6() {
		h.addr6 = netip.Addr{}
		return
	}
	h.addr6 = r.nextLAN6
	r.nextLAN6 = h.addr6.Next()
	h.ip(
		"addr add "+prefix(h.addr6, r.lan6.Bits())+" dev eth0 nodad",
		"route add default via "+r.gateway6().String(),
	)
}

// Addr6 returns the host's IPv6 address, the zero Addr if it has none (a
// lab without IPv6, a laptop behind a router without). A laptop's is
// public: IPv6 is not translated.
func (h *Host) Addr6() netip.Addr { return h.addr6 }

// PublicAddr6 returns the router's IPv6 address on the public internet (not
// the source of its laptops' packets: they send from their own).
func (r *Router) PublicAddr6() netip.Addr { return r.wan6 }

// LAN6 returns the router's IPv6 network, invalid if it has none.
func (r *Router) LAN6() netip.Prefix { return r.lan6 }
