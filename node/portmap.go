package node

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
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

// A portMapper holds libp2p's NAT manager, which asks the home router
// (UPnP IGD or NAT-PMP) to forward this node's ports to it and renews the
// mappings, so that kith knows which ports the router forwards: a friend
// behind any NAT can dial them, so they are advertised at once (the router
// promised them, unlike an address a peer observed, which waits for AutoNAT
// v2), and the doctor shows them.
type portMapper struct {
	mu    sync.Mutex
	mgr   basichost.NATManager // nil until the host is built, or port mapping is off
	net   network.Network
	since time.Time
}

// option is libp2p's NATPortMap, keeping the manager it builds.
func (p *portMapper) option() libp2p.Option {
	return libp2p.NATManager(func(n network.Network) basichost.NATManager {
		m := basichost.NewNATManager(n)
		p.set(m, n)
		return m
	})
}

func (p *portMapper) set(m basichost.NATManager, n network.Network) {
	p.mu.Lock()
	p.mgr, p.net, p.since = m, n, time.Now()
	p.mu.Unlock()
}

// Mapped returns the addresses at which the router forwards a port to one
// of this node's listen addresses: its own public address (as it reports
// it) and the port it chose.
func (p *portMapper) Mapped() []ma.Multiaddr {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	m, n := p.mgr, p.net
	p.mu.Unlock()
	if m == nil {
		return nil
	}
	var out []ma.Multiaddr
	for _, la := range n.ListenAddresses() {
		if a := m.GetMapping(la); a != nil && !slices.ContainsFunc(out, a.Equal) {
			out = append(out, a)
		}
	}
	return out
}

// IsMapped reports whether a is an address the router forwards to this
// node, reachable from the internet (a public address).
func (p *portMapper) IsMapped(a ma.Multiaddr) bool {
	return manet.IsPublicAddr(a) && slices.ContainsFunc(p.Mapped(), a.Equal)
}

// portMap is what the doctor knows of port mapping.
type portMap struct {
	off     bool // network.port_mapping is false
	looking bool // the NAT manager is still looking for the router
	found   bool // a router answered UPnP or NAT-PMP
	mapped  []ma.Multiaddr
}

func (p *portMapper) state() portMap {
	if p == nil {
		return portMap{off: true}
	}
	p.mu.Lock()
	m, since := p.mgr, p.since
	p.mu.Unlock()
	if m == nil {
		return portMap{off: true}
	}
	st := portMap{found: m.HasDiscoveredNAT(), mapped: p.Mapped()}
	st.looking = !st.found && time.Since(since) < portMapDiscovery
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
	case pm.off:
		return "off (network.port_mapping is false)"
	case len(pm.public()) > 0:
		return transportsText(pm.public()) + ": the router forwards them here (UPnP or NAT-PMP)"
	case len(pm.mapped) > 0:
		a, _ := pm.behindAnotherNAT()
		return fmt.Sprintf("%s, but the router's address %s is not public: another NAT stands in front", transportsText(pm.mapped), a)
	case pm.found:
		return "the router answered UPnP or NAT-PMP but forwards no port yet"
	case pm.looking:
		return "asking the router (UPnP, NAT-PMP)"
	}
	return "none (the router did not answer UPnP or NAT-PMP when kith started)"
}

// transportsText lists addresses as "tcp 11.0.0.6:18262, udp 11.0.0.6:3778".
func transportsText(as []ma.Multiaddr) string {
	var parts []string
	for _, a := range as {
		ip, err := manet.ToIP(a)
		if err != nil {
			continue
		}
		for _, t := range []struct {
			name string
			code int
		}{{"tcp", ma.P_TCP}, {"udp", ma.P_UDP}} {
			if port, err := a.ValueForProtocol(t.code); err == nil {
				if s := t.name + " " + net.JoinHostPort(ip.String(), port); !slices.Contains(parts, s) {
					parts = append(parts, s)
				}
			}
		}
	}
	return strings.Join(parts, ", ")
}
