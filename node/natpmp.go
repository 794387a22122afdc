package node

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
	"github.com/libp2p/go-libp2p/core/network"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-netroute"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// NAT-PMP (RFC 6886) on the side of libp2p's NAT manager, which looks for
// the NAT-PMP gateway with go-netroute's Route(0.0.0.0): go-netroute v0.4
// refuses an unspecified destination on Linux, so libp2p (v0.51, v0.52)
// never finds a router that speaks NAT-PMP alone. This one asks the
// gateway of the default route, maps the node's IPv4 listen ports for a
// minute and renews them every 20 s, as libp2p does.
const (
	natpmpLifetime = time.Minute
	natpmpRenew    = natpmpLifetime / 3
	natpmpTimeout  = 2 * time.Second // per request, retries included
)

// natpmpManager is a basichost.NATManager speaking NAT-PMP to the gateway.
type natpmpManager struct {
	net    network.Network
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	client *natpmp.Client // nil until the gateway answered
	ext    netip.Addr     // the gateway's public address
	ports  map[natpmpPort]int
}

// natpmpPort is a mapped listen port: "tcp" or "udp", and the port.
type natpmpPort struct {
	proto string
	port  int
}

// newNATPMPManager starts looking for a NAT-PMP gateway, after wait (to
// let libp2p's own manager go first: a router that answers UPnP too is
// mapped by it; found reports whether it did).
func newNATPMPManager(n network.Network, wait time.Duration, found func() bool) *natpmpManager {
	ctx, cancel := context.WithCancel(context.Background())
	m := &natpmpManager{net: n, cancel: cancel, done: make(chan struct{}), ports: map[natpmpPort]int{}}
	go m.run(ctx, wait, found)
	return m
}

func (m *natpmpManager) run(ctx context.Context, wait time.Duration, found func() bool) {
	defer close(m.done)
	select {
	case <-ctx.Done():
		return
	case <-time.After(wait):
	}
	if found() {
		return
	}
	gw, err := defaultGateway()
	if err != nil {
		return
	}
	c := natpmp.NewClientWithTimeout(gw.AsSlice(), natpmpTimeout)
	res, err := c.GetExternalAddress()
	if err != nil || ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	m.client, m.ext = c, netip.AddrFrom4(res.ExternalIPAddress)
	m.mu.Unlock()
	t := time.NewTicker(natpmpRenew)
	defer t.Stop()
	for {
		m.mapAll(c)
		select {
		case <-ctx.Done():
			m.unmapAll(c)
			return
		case <-t.C:
		}
	}
}

// defaultGateway is the gateway of the route to the internet (a lookup in
// the routing table: nothing is sent).
func defaultGateway() (netip.Addr, error) {
	r, err := netroute.New()
	if err != nil {
		return netip.Addr{}, err
	}
	_, gw, _, err := r.Route(net.IPv4(1, 1, 1, 1))
	if err != nil {
		return netip.Addr{}, err
	}
	a, ok := netip.AddrFromSlice(gw)
	if !ok || !a.Unmap().Is4() || a.IsUnspecified() {
		return netip.Addr{}, net.UnknownNetworkError("no IPv4 gateway")
	}
	return a.Unmap(), nil
}

// mapAll maps (or renews) every IPv4 listen port, keeping the external
// port the gateway gave before (a port it will not map is asked again next
// time), and unmaps the ports no longer listened on.
func (m *natpmpManager) mapAll(c *natpmp.Client) {
	listen := natpmpPorts(m.net.ListenAddresses())
	m.mu.Lock()
	var gone []natpmpPort
	for p := range m.ports {
		if !slices.Contains(listen, p) {
			gone = append(gone, p)
			delete(m.ports, p)
		}
	}
	m.mu.Unlock()
	for _, p := range gone {
		c.AddPortMapping(p.proto, p.port, 0, 0) // lifetime 0 deletes
	}
	for _, p := range listen {
		m.mu.Lock()
		want := m.ports[p]
		m.mu.Unlock()
		if want == 0 {
			want = p.port
		}
		ext := 0
		if res, err := c.AddPortMapping(p.proto, p.port, want, int(natpmpLifetime/time.Second)); err == nil {
			ext = int(res.MappedExternalPort)
		}
		m.mu.Lock()
		m.ports[p] = ext
		m.mu.Unlock()
	}
}

func (m *natpmpManager) unmapAll(c *natpmp.Client) {
	m.mu.Lock()
	ports := m.ports
	m.ports = map[natpmpPort]int{}
	m.mu.Unlock()
	for p, ext := range ports {
		if ext != 0 {
			c.AddPortMapping(p.proto, p.port, 0, 0) // lifetime 0 deletes
		}
	}
}

// natpmpPorts are the TCP and UDP ports of IPv4 (or unspecified) listen
// addresses.
func natpmpPorts(listen []ma.Multiaddr) []natpmpPort {
	var out []natpmpPort
	for _, a := range listen {
		if p, ok := natpmpPortOf(a); ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func natpmpPortOf(a ma.Multiaddr) (natpmpPort, bool) {
	ip, err := manet.ToIP(a)
	if err != nil || ip.To4() == nil && !ip.IsUnspecified() || ip.IsLoopback() {
		return natpmpPort{}, false
	}
	proto, port, ok := transportPort(a)
	return natpmpPort{proto, port}, ok
}

// GetMapping returns a's address on the gateway's public side, keeping
// what follows the port (/quic-v1), or nil.
func (m *natpmpManager) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	p, ok := natpmpPortOf(a)
	if !ok {
		return nil
	}
	m.mu.Lock()
	ext, ip := m.ports[p], m.ext
	m.mu.Unlock()
	if ext == 0 || !ip.IsValid() {
		return nil
	}
	var out ma.Multiaddr
	seen := false
	for _, c := range a {
		switch {
		case !seen && (c.Code() == ma.P_IP4 || c.Code() == ma.P_IP6):
			out = append(out, ma.StringCast("/ip4/"+ip.String())...)
		case !seen && c.Code() == ma.P_TCP || !seen && c.Code() == ma.P_UDP:
			seen = true
			out = append(out, ma.StringCast("/"+p.proto+"/"+strconv.Itoa(ext))...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// HasDiscoveredNAT reports whether the gateway answered NAT-PMP.
func (m *natpmpManager) HasDiscoveredNAT() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.client != nil
}

// Close deletes the mappings and stops.
func (m *natpmpManager) Close() error {
	m.cancel()
	<-m.done
	return nil
}

// natManagers are NAT managers side by side (libp2p's, kith's NAT-PMP):
// the first that maps an address answers.
type natManagers []basichost.NATManager

// newNATManagers is libp2p's NAT manager and, when it has found no router
// once its discovery is over, kith's NAT-PMP one.
func newNATManagers(n network.Network) basichost.NATManager {
	l := basichost.NewNATManager(n)
	return natManagers{l, newNATPMPManager(n, natpmpWait, l.HasDiscoveredNAT)}
}

// natpmpWait is how long libp2p's NAT manager looks for a router (its
// DiscoveryTimeout) before kith's NAT-PMP one tries.
const natpmpWait = 10 * time.Second

func (ms natManagers) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	for _, m := range ms {
		if r := m.GetMapping(a); r != nil {
			return r
		}
	}
	return nil
}

func (ms natManagers) HasDiscoveredNAT() bool {
	return slices.ContainsFunc(ms, basichost.NATManager.HasDiscoveredNAT)
}

func (ms natManagers) Close() error {
	for _, m := range ms {
		m.Close()
	}
	return nil
}
