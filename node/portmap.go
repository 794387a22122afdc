package node

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// portMapDiscovery is how long libp2p's NAT manager looks for a router
// that forwards ports on request (its DiscoveryTimeout, 10 s, and a
// margin): it asks once, at start.
const portMapDiscovery = 15 * time.Second

// A portMapper is the host's NAT manager: libp2p's, which asks the home
// router (UPnP IGD or NAT-PMP) to forward this node's ports to it and
// renews the mappings, held so that kith knows which ports the router
// forwards (a friend behind any NAT can dial them, so they are advertised
// at once: the router promised them, unlike an address a peer observed,
// which waits for AutoNAT v2; and the doctor shows them), and replaced when
// the laptop joins another network (libp2p looks for the router only once,
// at start: a laptop that comes home to its UPnP router would get no port
// until kith restarted).
type portMapper struct {
	mu     sync.Mutex
	mgr    basichost.NATManager // nil until the host is built, or port mapping is off
	net    network.Network
	since  time.Time // when mgr started looking for the router
	ifaces string    // the machine's addresses then
	closed bool      // the host closed it: no new manager
	missed bool      // an earlier look on this network found no router
	// newMgr builds a NAT manager: libp2p's and kith's NAT-PMP
	// (newNATManagers), or a fake in tests (the real ones would ask this
	// machine's router).
	newMgr func(network.Network) basichost.NATManager
	// off: network.port_mapping is false, so no router is asked; a port
	// forwarded by hand is still tried (byHand).
	off bool
	// publicIP is the public IPv4 address peers see this node's
	// connections come from (reach.Tracker.PublicIPv4); nil or the zero
	// Addr: not known.
	publicIP func() netip.Addr
	// announce is network.announce_addrs (announce.go).
	announce []ma.Multiaddr
}

// option makes p the host's NAT manager (libp2p's NATPortMap).
func (p *portMapper) option() libp2p.Option {
	return libp2p.NATManager(func(n network.Network) basichost.NATManager {
		if p.newMgr == nil {
			p.newMgr = newNATManagers
		}
		p.mu.Lock()
		p.net = n
		if !p.off {
			p.startLocked()
		}
		p.mu.Unlock()
		return p
	})
}

func (p *portMapper) startLocked() {
	p.mgr, p.since, p.ifaces = p.newMgr(p.net), time.Now(), machineAddrs()
}

// machineAddrs lists the machine's IPv4 interface addresses (loopback
// aside): UPnP and NAT-PMP forward IPv4 ports, and IPv6 addresses change
// on their own (temporary addresses rotate daily).
func machineAddrs() string {
	as, _ := manet.InterfaceMultiaddrs()
	var ss []string
	for _, a := range as {
		if len(a) > 0 && a[0].Code() == ma.P_IP4 && !manet.IsIPLoopback(a) {
			ss = append(ss, a.String())
		}
	}
	slices.Sort(ss)
	return strings.Join(ss, " ")
}

// GetMapping, HasDiscoveredNAT and Close make a portMapper libp2p's
// basichost.NATManager. GetMapping gives, for a listen address, the port
// the router forwards on request, else the address of the same transport
// that network.announce_addrs names (announcedFor), else where a port
// forwarded by hand would be (byHand): libp2p's AutoNAT v2 tests each.
func (p *portMapper) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	if m := p.current(); m != nil {
		if got := m.GetMapping(a); got != nil {
			return got
		}
	}
	if got := p.announcedFor(a); got != nil {
		return got
	}
	return p.byHand(a)
}

// byHand is where a port forwarded by hand in the router's settings would
// bring peers to the IPv4 TCP or QUIC listen address a: the public address
// peers see this node at, and a's port (README asks for the same port
// outside as inside). Nothing else tells libp2p of such a port: behind a
// NAT that does not keep ports (symmetric) peers see others. It is a
// guess: AutoNAT v2 dials it back, and the node gives it out only once a
// peer could (addrFilter keeps a public address that is not an
// interface's only when confirmed). nil for any other address, before
// peers have seen the public address, or before the router answered.
func (p *portMapper) byHand(a ma.Multiaddr) ma.Multiaddr {
	if p == nil || p.publicIP == nil || len(a) < 2 || a[0].Code() != ma.P_IP4 || manet.IsIPLoopback(a) || !tcpOrQUIC(a[1:]) {
		return nil
	}
	if !p.answered() {
		return nil
	}
	return atIPv4(a, p.publicIP())
}

func (p *portMapper) HasDiscoveredNAT() bool {
	m := p.current()
	return m != nil && m.HasDiscoveredNAT()
}

func (p *portMapper) Close() error {
	p.mu.Lock()
	m := p.mgr
	p.closed = true
	p.mu.Unlock()
	if m != nil {
		return m.Close()
	}
	return nil
}

func (p *portMapper) current() basichost.NATManager {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mgr
}

// Rediscover looks for the router again when the machine's addresses
// changed since the last look (another network), or when the last look
// found none and is over (a laptop started before its network was up).
// The old manager is returned for the caller to close: closing deletes its
// mappings, which may wait on a router no longer there.
func (p *portMapper) Rediscover() (old basichost.NATManager) {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mgr == nil || p.closed {
		return nil
	}
	moved := machineAddrs() != p.ifaces
	missing := !p.mgr.HasDiscoveredNAT() && time.Since(p.since) > portMapDiscovery
	if !moved && !missing {
		return nil
	}
	old = p.mgr
	p.missed = missing && !moved
	p.startLocked()
	return old
}

// Mapped returns the addresses at which the router forwards a port to one
// of this node's listen addresses: its own public address (as it reports
// it) and the port it chose.
func (p *portMapper) Mapped() []ma.Multiaddr {
	mapped, _ := p.listenMappings(false)
	return mapped
}

// Guesses returns, for the IPv4 TCP and QUIC listen addresses the router
// forwards no port to on request and network.announce_addrs names none
// for, where a port forwarded by hand would be (byHand).
func (p *portMapper) Guesses() []ma.Multiaddr {
	_, guesses := p.listenMappings(true)
	return guesses
}

// listenMappings returns, of the listen addresses, the router's mappings
// and (with guess) where a port forwarded by hand would be for the others.
func (p *portMapper) listenMappings(guess bool) (mapped, guesses []ma.Multiaddr) {
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	m, n := p.mgr, p.net
	p.mu.Unlock()
	if n == nil {
		return nil, nil
	}
	for _, la := range n.ListenAddresses() {
		var a ma.Multiaddr
		if m != nil {
			a = m.GetMapping(la)
		}
		switch {
		case a != nil:
			if !slices.ContainsFunc(mapped, a.Equal) {
				mapped = append(mapped, a)
			}
		case guess && p.announcedFor(la) == nil:
			if g := p.byHand(la); g != nil && !slices.ContainsFunc(guesses, g.Equal) {
				guesses = append(guesses, g)
			}
		}
	}
	return mapped, guesses
}

// answered reports whether the router's answer to UPnP and NAT-PMP is in
// (or it is not asked): before, a guess at a port may be the port the
// router is about to forward (NAT-PMP asks for the same port outside), and
// AutoNAT v2's verdict on the guess, made before the forward, would stick
// to the forwarded port.
func (p *portMapper) answered() bool {
	p.mu.Lock()
	m, since, missed := p.mgr, p.since, p.missed
	p.mu.Unlock()
	switch {
	case m == nil || missed: // off; or looking again where none answered
		return true
	case m.HasDiscoveredNAT(): // a router answered: its mappings made
		return time.Since(since) > 2*portMapDiscovery
	}
	return time.Since(since) > portMapDiscovery
}

// portMap is what the doctor knows of port mapping.
type portMap struct {
	off     bool // network.port_mapping is false
	looking bool // the NAT manager is still looking for the router
	found   bool // a router answered UPnP or NAT-PMP
	settled bool // long enough after that for a mapping to have been made
	mapped  []ma.Multiaddr
	// blocked are mappings AutoNAT v2 could not dial back (taken out of
	// mapped by the node, which knows): something between the router and
	// the internet drops them.
	blocked []ma.Multiaddr
	// byHand are ports forwarded by hand in the router (Guesses that
	// AutoNAT v2 dialled back; the node knows).
	byHand []ma.Multiaddr
}

func (p *portMapper) state() portMap {
	if p == nil {
		return portMap{off: true}
	}
	p.mu.Lock()
	m, since, missed := p.mgr, p.since, p.missed
	p.mu.Unlock()
	if m == nil {
		return portMap{off: true}
	}
	st := portMap{found: m.HasDiscoveredNAT(), mapped: p.Mapped()}
	// Looking again on the same network is no news: the first look's
	// answer stands meanwhile.
	st.looking = !st.found && !missed && time.Since(since) < portMapDiscovery
	st.settled = time.Since(since) > 2*portMapDiscovery
	return st
}

// public returns the mapped addresses that are public: those a peer on the
// internet can dial.
func (pm portMap) public() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range pm.mapped {
		if manet.IsPublicAddr(a) {
			out = append(out, a)
		}
	}
	return out
}

// behindAnotherNAT returns the router's own address when the router
// forwards ports but that address is not public: another NAT (the ISP's
// carrier-grade NAT, a second router) stands in front of it.
func (pm portMap) behindAnotherNAT() (netip.Addr, bool) {
	if len(pm.mapped) == 0 || len(pm.public()) > 0 {
		return netip.Addr{}, false
	}
	ip, err := manet.ToIP(pm.mapped[0])
	if err != nil {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

// portMapHow is the doctor's port-mapping line.
func portMapHow(pm portMap) string {
	switch {
	case len(pm.public()) > 0:
		return transportsText(pm.public()) + ": the router forwards them here (UPnP or NAT-PMP)"
	case len(pm.byHand) > 0:
		return transportsText(pm.byHand) + ": forwarded here in the router's settings (peers dialled them back)"
	case pm.off:
		return "off (network.port_mapping is false)"
	case len(pm.blocked) > 0:
		return transportsText(pm.blocked) + ": the router says it forwards them here (UPnP or NAT-PMP), but no peer could dial them back"
	case len(pm.mapped) > 0:
		a, _ := pm.behindAnotherNAT()
		return fmt.Sprintf("%s, but the router's address %s is not public: another NAT stands in front", transportsText(pm.mapped), a)
	case pm.found && pm.settled:
		// miniupnpd, for one, refuses to map on an address that is not
		// public; libp2p also keeps no mapping whose external address the
		// router would not tell.
		return "none: the router answered UPnP or NAT-PMP but forwards no port (it may itself be behind another NAT, such as the ISP's)"
	case pm.found:
		return "the router answered UPnP or NAT-PMP but forwards no port yet"
	case pm.looking:
		return "asking the router (UPnP, NAT-PMP)"
	}
	return "none (no router answered UPnP or NAT-PMP)"
}

// transportsText lists addresses as "tcp 11.0.0.6:18262, udp 11.0.0.6:3778",
// sorted.
func transportsText(as []ma.Multiaddr) string {
	var parts []string
	for _, a := range as {
		ip, err := manet.ToIP(a)
		if err != nil {
			continue
		}
		if proto, port, ok := transportPort(a); ok {
			if s := proto + " " + net.JoinHostPort(ip.String(), strconv.Itoa(port)); !slices.Contains(parts, s) {
				parts = append(parts, s)
			}
		}
	}
	slices.Sort(parts) // tcp before udp, whatever order the listeners came in
	return strings.Join(parts, ", ")
}

// transportPort returns a's transport, "tcp" or "udp", and its port.
func transportPort(a ma.Multiaddr) (proto string, port int, ok bool) {
	for _, t := range []struct {
		name string
		code int
	}{{"tcp", ma.P_TCP}, {"udp", ma.P_UDP}} {
		if v, err := a.ValueForProtocol(t.code); err == nil {
			port, err := strconv.Atoi(v)
			return t.name, port, err == nil && port > 0
		}
	}
	return "", 0, false
}
