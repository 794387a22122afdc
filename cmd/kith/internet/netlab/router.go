//go:build linux

package netlab

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// NAT is the kind of address translation a home router does.
type NAT int

const (
	// Cone is Linux's default masquerade: a connection keeps its source
	// port when it is free, so a LAN socket has the same public port for
	// every destination (endpoint-independent mapping). Replies pass only
	// from the address and port a packet went to, but two laptops that
	// learned each other's public address and port can hole punch by
	// sending to each other at once.
	Cone NAT = iota
	// Symmetric masquerades with fully random ports: each new destination
	// gets a new public port, so the port a third party saw is useless to
	// a peer and hole punching fails. Traffic must go through a relay.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return fmt.Sprintf("NAT(%d)", int(n))
}

// RouterConfig describes a home router. The zero value is a cone NAT on
// 192.168.N.0/24 (N counts the lab's routers from 1), unshaped.
type RouterConfig struct {
	NAT NAT
	// LAN is the private network behind the router; the router takes its
	// first address, laptops the next ones. Two routers may share a LAN
	// range, as two homes' routers often do.
	LAN netip.Prefix
	// Up and Down shape the WAN link's upload and download; 0 leaves it
	// unshaped. See Router.Shape.
	Up, Down Rate
	// NoIPv6, in a dual-stack lab (NewDualStack), leaves this home with
	// IPv4 only, as many ISPs still do.
	NoIPv6 bool
	// OpenIPv6 lets connections from the internet in to the LAN over
	// IPv6, as a router whose IPv6 firewall is off (some ISPs ship them
	// so) does: the laptops are then publicly reachable over IPv6 while
	// IPv4 stays behind the NAT.
	OpenIPv6 bool
	// PortMapping runs a service on the router (miniupnpd) that forwards
	// ports on request, as most home routers do: laptops may ask it to
	// forward a port of its public address to them, and are then reachable
	// there from the internet whatever kind of NAT the router does.
	PortMapping PortMapping
}

// A Router is a home router: a namespace with a WAN side (interface wan,
// one public address on the bridge) and a LAN side (bridge lan) that
// laptops plug into. It forwards from the LAN, masquerades what leaves by
// the WAN and drops what arrives from the WAN unless it answers something
// sent from inside: no connection can be opened from the internet to the
// router or the LAN.
type Router struct {
	*Namespace
	cfg      RouterConfig
	wan      netip.Addr
	lan      netip.Prefix
	nextLAN  netip.Addr
	port     string     // the WAN veth's end on the bridge (or the parent's LAN)
	portNS   *Namespace // where port is: the core, or the parent router
	parent   *Router    // the router whose LAN the WAN is on; nil on the internet
	lanPorts int        // veths on the LAN bridge, named l1, l2, ...
	up, down Rate
	// wan6, lan6 and nextLAN6 are the IPv6 side (ipv6.go), invalid
	// where the home has none.
	wan6, nextLAN6 netip.Addr
	lan6           netip.Prefix
}

// sharedSpace is RFC 6598's shared address space, which ISPs number their
// carrier-grade NATs' customers from.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// HomeRouter adds a home router on the public internet.
func (l *Lab) HomeRouter(name string, cfg RouterConfig) *Router {
	l.t.Helper()
	return l.newRouter(name, cfg, nil)
}

// Router adds a router whose WAN side is on r's LAN, as a laptop's would
// be: a home router behind an ISP's carrier-grade NAT (r, with a LAN in
// 100.64.0.0/10), or a second router at home (a double NAT). Its public
// address, as far as it knows, is its address on r's LAN. It has no IPv6
// and cannot be renumbered.
func (r *Router) Router(name string, cfg RouterConfig) *Router {
	r.lab.t.Helper()
	return r.lab.newRouter(name, cfg, r)
}

func (l *Lab) newRouter(name string, cfg RouterConfig, parent *Router) *Router {
	l.t.Helper()
	l.routers++
	lan := cfg.LAN
	if !lan.IsValid() {
		if l.routers > 254 {
			l.t.Fatal("netlab: more than 254 routers need RouterConfig.LAN")
		}
		lan = netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(l.routers), 0}), 24)
	}
	if !lan.Addr().Is4() || lan.Bits() > 30 || lan != lan.Masked() || !(lan.Addr().IsPrivate() || sharedSpace.Contains(lan.Addr())) {
		l.t.Fatalf("netlab: router %s: LAN %s: want a private IPv4 network such as 192.168.1.0/24 (or one in 100.64.0.0/10)", name, lan)
	}
	ns := l.mustNamespace(name)
	r := &Router{Namespace: ns, cfg: cfg, lan: lan, parent: parent}
	r.nextLAN = r.gateway().Next()
	var bits int
	var gw netip.Addr
	if parent == nil {
		r.wan, bits, gw = l.allocPublic(), PublicRange.Bits(), coreAddr
		r.port, r.portNS = l.attach(ns, "wan"), l.core
	} else {
		r.wan, bits, gw = parent.allocLAN(), parent.lan.Bits(), parent.gateway()
		r.port, r.portNS = parent.link(ns, "wan"), parent.Namespace
	}
	ns.ip(
		"link set lo up",
		"addr add "+prefix(r.wan, bits)+" dev wan",
		"link set wan up",
		"route add default via "+gw.String(),
		"link add lan type bridge",
		"addr add "+prefix(r.gateway(), lan.Bits())+" dev lan",
		"link set lan up",
	)
	ns.sysctl(append(append([]string{"net.ipv4.ip_forward=1"}, promoteSecondaries...), noBridgeFilter...)...)
	if l.v6 && !cfg.NoIPv6 && parent == nil {
		l.router6(r)
	}
	ns.mustRun(strings.NewReader(r.ruleset()), "nft", "-f", "-")
	if cfg.PortMapping != NoPortMapping {
		r.startPortMapping()
	}
	if cfg.Up != 0 || cfg.Down != 0 {
		r.Shape(cfg.Up, cfg.Down)
	}
	return r
}

// ruleset is the router's nftables configuration: a stateful firewall (for
// IPv4 and IPv6 alike, letting in only IPv6 neighbour discovery beside
// answers) and the IPv4 masquerade. Packets from the WAN that answer nothing are counted in
// wan_dropped before they are dropped (see DroppedFromWAN).
func (r *Router) ruleset() string {
	masquerade := "masquerade"
	if r.cfg.NAT == Symmetric {
		masquerade = "masquerade fully-random"
	}
	upnp, upnpJump := "", ""
	if r.cfg.PortMapping != NoPortMapping {
		upnp, upnpJump = upnpChains, "jump miniupnpd"
	}
	open6 := ""
	if r.cfg.OpenIPv6 {
		open6 = `iifname "wan" oifname "lan" meta nfproto ipv6 accept`
	}
	return `
table inet netlab {
	counter wan_dropped {
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iif "lo" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct state established,related accept
		ct state invalid drop
		iifname "wan" counter name "wan_dropped" drop
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lan" oifname "wan" accept
		` + open6 + `
		` + upnpJump + `
		jump forwards
		iifname "wan" counter name "wan_dropped" drop
	}
	chain miniupnpd {
	}
	chain forwards {
	}
}
table ip netlab_nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" ` + masquerade + `
	}
}
` + upnp
}

// PublicAddr returns the router's address on the public internet: the
// source address of everything its laptops send out. For a router behind
// another (Router.Router) it is the outermost router's.
func (r *Router) PublicAddr() netip.Addr {
	if r.parent != nil {
		return r.parent.PublicAddr()
	}
	return r.wan
}

// WANAddr returns the router's address on its WAN side: its public address,
// or for a router behind another its address on that router's LAN.
func (r *Router) WANAddr() netip.Addr { return r.wan }

// LAN returns the router's private network.
func (r *Router) LAN() netip.Prefix { return r.lan }

// NAT returns the router's kind of NAT.
func (r *Router) NAT() NAT { return r.cfg.NAT }

func (r *Router) gateway() netip.Addr { return r.lan.Addr().Next() }

// Gateway returns the router's address on its LAN: its laptops' default
// gateway.
func (r *Router) Gateway() netip.Addr { return r.gateway() }

// Laptop adds a host on the router's LAN, with the next free address of the
// LAN and a default route through the router.
func (r *Router) Laptop(name string) *Host {
	r.lab.t.Helper()
	h := &Host{Namespace: r.lab.mustNamespace(name)}
	h.ip("link set lo up")
	h.sysctl(promoteSecondaries...)
	r.plug(h)
	return h
}

// plug links h to the router's LAN bridge with a veth pair (eth0 in h) and
// gives it an address and a default route.
func (r *Router) plug(h *Host) {
	r.lab.t.Helper()
	r.link(h.Namespace, "eth0")
	h.router, h.addr = r, r.allocLAN()
	h.ip(
		"addr add "+prefix(h.addr, r.lan.Bits())+" dev eth0",
		"link set eth0 up",
		"route add default via "+r.gateway().String(),
	)
	r.plug6(h)
}

// link adds a veth pair from the router's LAN bridge to ns, where it is
// called ifname, and returns the name of the bridge's end.
func (r *Router) link(ns *Namespace, ifname string) string {
	r.lab.t.Helper()
	r.lanPorts++
	port := fmt.Sprintf("l%d", r.lanPorts)
	r.ip(
		"link add "+port+" type veth peer name "+ifname+" netns "+ns.name,
		"link set "+port+" master lan",
		"link set "+port+" up",
	)
	return port
}

// allocLAN returns the next unused address of the LAN.
func (r *Router) allocLAN() netip.Addr {
	a := r.nextLAN
	if !r.lan.Contains(a.Next()) { // the last one is the broadcast address
		r.lab.t.Fatalf("netlab: router %s: LAN %s is full", r.node, r.lan)
	}
	r.nextLAN = a.Next()
	return a
}

// Renumber gives the router a new public address, as an ISP does at a
// reconnection: the old address goes, and the masquerade forgets the
// mappings it made with it, so every connection from the LAN dies and new
// ones come from the new address. It returns the new address.
func (r *Router) Renumber() netip.Addr {
	r.lab.t.Helper()
	if r.parent != nil {
		r.lab.t.Fatalf("netlab: Renumber: router %s is behind another router", r.node)
	}
	old := r.wan
	r.wan = r.lab.allocPublic()
	bits := PublicRange.Bits()
	r.ip(
		"addr add "+prefix(r.wan, bits)+" dev wan",
		"addr del "+prefix(old, bits)+" dev wan",
		"route replace default via "+coreAddr.String()+" dev wan",
	)
	return r.wan
}

// DroppedFromWAN returns how many packets the router's firewall has dropped
// because they came from the WAN unasked: new connections to the router or
// the LAN, probes to unmapped ports, early hole-punching packets.
func (r *Router) DroppedFromWAN() uint64 {
	r.lab.t.Helper()
	out := r.mustRun(nil, "nft", "-j", "list", "counter", "inet", "netlab", "wan_dropped")
	var list struct {
		Nftables []struct {
			Counter *struct {
				Packets uint64 `json:"packets"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		r.lab.t.Fatalf("netlab: router %s: reading nft counter: %v: %s", r.node, err, out)
	}
	for _, item := range list.Nftables {
		if item.Counter != nil {
			return item.Counter.Packets
		}
	}
	r.lab.t.Fatalf("netlab: router %s: no counter wan_dropped in %s", r.node, out)
	return 0
}
