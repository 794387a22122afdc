//go:build linux

package internet_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	kticket "github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

// TestUPnPRouter: both homes are behind symmetric NATs, where no hole can
// be punched, but A's router forwards ports on request (UPnP IGD and
// NAT-PMP, on by default on most home routers; or NAT-PMP alone, which
// libp2p's client cannot find on Linux and kith's own NAT-PMP client
// maps). A's daemon asks it for its ports and puts the forwarded one in
// its ticket at once (AutoNAT v2 may take minutes to confirm it): B's get
// dials A there directly, with no relay and no hole punch. A's doctor
// names the forwarded ports and does not say that peers behind NATs cannot
// connect; B's says its router forwards nothing.
func TestUPnPRouter(t *testing.T) {
	for _, pm := range []netlab.PortMapping{netlab.UPnPAndNATPMP, netlab.NATPMPOnly} {
		t.Run(pm.String(), func(t *testing.T) { testPortMappingRouter(t, pm) })
	}
}

func testPortMappingRouter(t *testing.T, pm netlab.PortMapping) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false) // two observers of A's ports
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric, PortMapping: pm})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
	a := startKith(t, "laptop-A", homeA.Laptop("a"), laptopConfig(pub.boot))
	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	forwarded := homeA.PublicAddr().String() + ":"
	waitFor(t, 30*time.Second, "A's router to forward a TCP and a UDP port to A", func() bool {
		pm := a.doctor().PortMapping
		return strings.Contains(pm, "tcp "+forwarded) && strings.Contains(pm, "udp "+forwarded)
	})
	waitFor(t, 60*time.Second, "A's doctor to see its symmetric NAT", func() bool { return a.doctor().NAT == "symmetric" })
	d := a.doctor()
	t.Logf("A: port mapping %s; %s (%s)", d.PortMapping, d.Reachability, d.ReachabilityHow)
	for _, c := range d.Checks {
		if strings.Contains(c.Text, "cannot connect") || strings.Contains(c.Text, "hole punching will fail") {
			t.Errorf("A's doctor: %s %s", c.Status, c.Text)
		}
	}
	if !slices.ContainsFunc(d.Checks, func(c api.Check) bool {
		return c.Status == "ok" && strings.Contains(c.Text, "The router forwards tcp "+forwarded)
	}) {
		t.Errorf("A's doctor does not say its router forwards a port: %+v", d.Checks)
	}

	res, data := a.addFile(4 << 20)
	tk, err := kticket.Parse(res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tk.Peers[0].Addrs, func(m ma.Multiaddr) bool {
		return strings.HasPrefix(m.String(), "/ip4/"+homeA.PublicAddr().String()+"/")
	}) {
		t.Fatalf("A's ticket holds no forwarded address: %v", tk.Peers[0].Addrs)
	}
	t.Logf("get by ticket took %v", b.getsDirectly(res.Ticket, a, data))

	waitFor(t, 30*time.Second, "B's doctor to say its router forwards nothing", func() bool {
		return strings.HasPrefix(b.doctor().PortMapping, "none")
	})
}

// TestUPnPAfterMove: A's daemon starts at a café (symmetric NAT, no UPnP)
// and the laptop then comes home, to a router that forwards ports on
// request. libp2p looks for such a router only at start; kith looks again
// when the network changes, so A's port is forwarded without a restart
// and B, behind a symmetric NAT too, gets A's file directly.
func TestUPnPAfterMove(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false)
	cafe := lab.HomeRouter("cafe", netlab.RouterConfig{NAT: netlab.Symmetric})
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric, PortMapping: netlab.UPnPAndNATPMP})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
	laptopA := cafe.Laptop("a")
	a := startKith(t, "laptop-A", laptopA, laptopConfig(pub.boot))
	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	waitFor(t, 30*time.Second, "A's doctor to say the café's router forwards nothing", func() bool {
		return strings.HasPrefix(a.doctor().PortMapping, "none")
	})

	laptopA.Move(homeA)
	forwarded := homeA.PublicAddr().String() + ":"
	waitFor(t, 60*time.Second, "A's home router to forward a TCP port to A", func() bool {
		return strings.Contains(a.doctor().PortMapping, "tcp "+forwarded)
	})
	res, data := a.addFile(1 << 20)
	b.getsDirectly(res.Ticket, a, data)
}

// TestCarrierGradeNAT: A's home router, which forwards ports on request,
// sits behind the ISP's carrier-grade NAT (both cone NATs, as most are).
// The home router (miniupnpd) forwards no port on an address that is not
// public, and A's doctor says why it may not; A gives out no address of
// the ISP's network. The hole punch goes through both NATs, so B's get
// comes over a direct connection.
func TestCarrierGradeNAT(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false)
	isp := lab.HomeRouter("isp", netlab.RouterConfig{LAN: netip.MustParsePrefix("100.64.0.0/24")})
	homeA := isp.Router("homea", netlab.RouterConfig{PortMapping: netlab.UPnPAndNATPMP})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{})
	a := startKith(t, "laptop-A", homeA.Laptop("a"), laptopConfig(pub.boot))
	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	waitFor(t, 60*time.Second, "A to see its cone NAT and hold a relay reservation", func() bool {
		d := a.doctor()
		return d.NAT == "cone" && len(d.RelayAddrs) > 0
	})
	waitFor(t, 60*time.Second, "A's doctor to say the router forwards no port", func() bool {
		return strings.HasPrefix(a.doctor().PortMapping, "none: the router answered")
	})
	d := a.doctor()
	t.Logf("A: port mapping %q; NAT %s (%s)", d.PortMapping, d.NAT, d.NATHow)
	for _, s := range d.Share {
		if strings.Contains(s, "/ip4/"+homeA.WANAddr().String()+"/") {
			t.Errorf("A gives out its home router's carrier-grade address: %s", s)
		}
	}
	for _, c := range d.Checks {
		t.Logf("A doctor: %s %s", c.Status, c.Text)
	}

	res, data := a.addFile(1 << 20)
	b.getsDirectly(res.Ticket, a, data)
}

// TestPortForwardedByHand: A's router does a symmetric NAT and forwards no
// port on request, but its owner forwarded kith's port (4101, TCP and UDP)
// in the router's settings, as README's way out says. No peer sees that
// port (what A sends out leaves from others), so kith tries it: the public
// address peers saw with the port it listens on, which AutoNAT v2 dials
// back. Confirmed, A gives it out, and B, behind a symmetric NAT too (no
// hole punch), gets A's file directly.
func TestPortForwardedByHand(t *testing.T) {
	lab := netlab.New(t)
	// The port is tried once the router's answer to UPnP and NAT-PMP is
	// in (15 s), after AutoNAT v2's first probes, which leave the lab's
	// servers throttled (each is asked at most once in 2 minutes) and the
	// client backing off: here the port is confirmed after about 3
	// minutes, with 5 or 8 servers. On the internet a laptop knows
	// hundreds.
	pub := startPublicNet(t, lab, 5, false)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
	laptopA := homeA.Laptop("a")
	homeA.Forward("tcp", 4101, netip.AddrPortFrom(laptopA.Addr(), 4101))
	homeA.Forward("udp", 4101, netip.AddrPortFrom(laptopA.Addr(), 4101))
	start := time.Now()
	a := startKith(t, "laptop-A", laptopA, laptopConfig(pub.boot))
	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	forwarded := "/ip4/" + homeA.PublicAddr().String() + "/"
	waitFor(t, 6*time.Minute, "A to give out the port forwarded to it", func() bool {
		return slices.ContainsFunc(a.doctor().Share, func(s string) bool {
			return s == forwarded+"tcp/4101" || s == forwarded+"udp/4101/quic-v1"
		})
	})
	d := a.doctor()
	t.Logf("A gives out its forwarded port %v after start: %s (%s); port mapping %q", time.Since(start).Round(time.Second), d.Reachability, d.ReachabilityHow, d.PortMapping)
	for _, c := range d.Checks {
		if strings.Contains(c.Text, "cannot connect") || strings.Contains(c.Text, "hole punching will fail") {
			t.Errorf("A's doctor: %s %s", c.Status, c.Text)
		}
	}
	if !strings.Contains(d.PortMapping, "forwarded here in the router's settings") {
		t.Errorf("A's doctor says port mapping %q, want the port forwarded in the router's settings", d.PortMapping)
	}
	res, data := a.addFile(1 << 20)
	b.getsDirectly(res.Ticket, a, data)
}

// TestAnnouncedPort: A is behind a symmetric NAT whose router forwards
// port 40000 outside to kith's 4101 inside: another port, which kith
// cannot find by itself (no peer sees it, and its guess is the listen
// port). A names it in network.announce_addrs, for TCP at the router's
// address and for QUIC at 0.0.0.0 (the public address peers see). A gives
// both out at once, on its user's word: a peer on the internet connects to
// A at each, and B (behind a symmetric NAT too: no hole punch) gets A's
// file over a direct connection. AutoNAT v2 then dials them back, and A is
// public.
func TestAnnouncedPort(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 5, false)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
	laptopA := homeA.Laptop("a")
	homeA.Forward("tcp", 40000, netip.AddrPortFrom(laptopA.Addr(), 4101))
	homeA.Forward("udp", 40000, netip.AddrPortFrom(laptopA.Addr(), 4101))
	tcp := "/ip4/" + homeA.PublicAddr().String() + "/tcp/40000"
	quic := "/ip4/" + homeA.PublicAddr().String() + "/udp/40000/quic-v1"
	cfg := laptopConfig(pub.boot)
	cfg["network"].(map[string]any)["announce_addrs"] = []string{tcp, "/ip4/0.0.0.0/udp/40000/quic-v1"}
	start := time.Now()
	a := startKith(t, "laptop-A", laptopA, cfg)
	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	waitFor(t, time.Minute, "A to give out both announced addresses", func() bool {
		share := a.doctor().Share
		return slices.Contains(share, tcp) && slices.Contains(share, quic)
	})
	t.Logf("A gives out %s and %s %v after start", tcp, quic, time.Since(start).Round(time.Second))

	// Each address leads to A: a peer that knows no other (no bootstrap
	// peers, no mDNS) dials it.
	for name, addr := range map[string]string{"tcp": tcp, "quic": quic} {
		c := startKith(t, "stranger-"+name, lab.PublicHost("c"+name), config{"network": map[string]any{"bootstrap": []string{}, "mdns": false}})
		if out, err := c.run("connect", addr+"/p2p/"+a.id.PeerID); err != nil {
			t.Fatalf("connect to A at %s: %v: %s", addr, err, out)
		}
		if ps := c.peers(); !slices.ContainsFunc(ps, func(p api.Peer) bool { return p.ID == a.id.PeerID && p.Addr == addr }) {
			t.Errorf("connected to A at %s, but the connection is not there: %+v", addr, ps)
		}
	}
	res, data := a.addFile(1 << 20)
	b.getsDirectly(res.Ticket, a, data)

	// AutoNAT v2 asks each of the lab's few servers at most once in 2
	// minutes, and symmetric NATs' observed ports take probes too: one
	// address is dialled back in 3 to 4 minutes here, the other often
	// later (on the internet a laptop knows hundreds of servers).
	waitFor(t, 6*time.Minute, "peers to dial an announced address back", func() bool {
		return strings.Contains(a.doctor().Announced, "(peers dialled it back)")
	})
	d := a.doctor()
	t.Logf("an announced address confirmed %v after start: %s (%s); announced %q", time.Since(start).Round(time.Second), d.Reachability, d.ReachabilityHow, d.Announced)
	if d.Reachability != "public" {
		t.Errorf("A is %s (%s), want public: peers dialled an announced address back", d.Reachability, d.ReachabilityHow)
	}
	found := false
	for _, c := range d.Checks {
		found = found || strings.Contains(c.Text, "(network.announce_addrs): they dialled it back")
		if strings.Contains(c.Text, "hole punching will fail") || strings.Contains(c.Text, "No peer could dial") {
			t.Errorf("A's doctor: %s %s", c.Status, c.Text)
		}
	}
	if !found {
		t.Errorf("A's doctor does not say peers dial it at its announced addresses: %+v", d.Checks)
	}
}
