//go:build linux

package netlab_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

const step = 10 * time.Second // how long a helper may take to answer

// seenAddr parses an observer's "seen:ADDR" payload.
func seenAddr(t *testing.T, payload string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(strings.TrimPrefix(payload, "seen:"))
	if err != nil {
		t.Fatalf("observer's answer %q: %v", payload, err)
	}
	return a
}

// TestNATMapping sends from one laptop socket to two public observers,
// over UDP and TCP: behind a cone NAT both see the same public port, behind
// a symmetric NAT each sees its own.
func TestNATMapping(t *testing.T) {
	for _, nat := range []netlab.NAT{netlab.Cone, netlab.Symmetric} {
		t.Run(nat.String(), func(t *testing.T) {
			lab := netlab.New(t)
			obs := []*netlab.Host{lab.PublicHost("obs1"), lab.PublicHost("obs2")}
			router := lab.HomeRouter("home", netlab.RouterConfig{NAT: nat})
			laptop := router.Laptop("laptop")
			for _, o := range obs {
				startHelper(t, o.Namespace, "udp", "-echo", "3478").expect("ready", step)
				startHelper(t, o.Namespace, "tcp-observe", "3479").expect("ready", step)
			}

			udp := startHelper(t, laptop.Namespace, "udp", "40000")
			udp.expect("ready", step)
			var udpSeen []netip.AddrPort
			for _, o := range obs {
				udp.send("send " + o.Addr().String() + ":3478 hello")
				f := udp.fields("got "+o.Addr().String()+":3478", step)
				udpSeen = append(udpSeen, seenAddr(t, f[2]))
			}
			tcp := startHelper(t, laptop.Namespace, "tcp-dial", "40001", obs[0].Addr().String()+":3479", obs[1].Addr().String()+":3479")
			var tcpSeen []netip.AddrPort
			for range obs {
				f := tcp.fields("seen", step)
				tcpSeen = append(tcpSeen, seenAddr(t, f[2]))
			}
			t.Logf("%s NAT: UDP from :40000 seen as %v, TCP from :40001 seen as %v", nat, udpSeen, tcpSeen)

			for _, seen := range [][]netip.AddrPort{udpSeen, tcpSeen} {
				for _, s := range seen {
					if s.Addr() != router.PublicAddr() {
						t.Errorf("observer saw %s, want the router's public address %s", s, router.PublicAddr())
					}
				}
				same := seen[0].Port() == seen[1].Port()
				if nat == netlab.Cone && !same {
					t.Errorf("cone NAT: observers saw ports %d and %d, want one", seen[0].Port(), seen[1].Port())
				}
				if nat == netlab.Symmetric && same {
					t.Errorf("symmetric NAT: both observers saw port %d, want one per destination", seen[0].Port())
				}
			}
			if nat == netlab.Cone && (udpSeen[0].Port() != 40000 || tcpSeen[0].Port() != 40001) {
				t.Errorf("cone NAT: source ports not kept: %v %v", udpSeen, tcpSeen)
			}
		})
	}
}

// TestUnsolicitedInboundIsDropped sends UDP and TCP from a public host to
// the router's public address, at ports where a laptop listens: nothing
// gets through, and the router counts the drops. Once the laptop has sent
// to the public host, its answers do get through.
func TestUnsolicitedInboundIsDropped(t *testing.T) {
	lab := netlab.New(t)
	stranger := lab.PublicHost("stranger")
	router := lab.HomeRouter("home", netlab.RouterConfig{})
	laptop := router.Laptop("laptop")
	target := router.PublicAddr().String()

	listener := startHelper(t, laptop.Namespace, "udp", "40000")
	listener.expect("ready", step)
	startHelper(t, laptop.Namespace, "tcp-observe", "40001").expect("ready", step)
	sender := startHelper(t, stranger.Namespace, "udp", "5000")
	sender.expect("ready", step)

	before := router.DroppedFromWAN()
	for range 3 {
		sender.send("send " + target + ":40000 unsolicited")
	}
	waitFor(t, step, "the router to drop 3 packets", func() bool { return router.DroppedFromWAN() >= before+3 })
	// Dropped at the router: they cannot turn up later.
	select {
	case line := <-listener.lines:
		t.Fatalf("laptop received an unsolicited datagram: %s", line)
	default:
	}

	before = router.DroppedFromWAN()
	dial := startHelper(t, stranger.Namespace, "tcp-dial", "-timeout", "1s", "0", target+":40001")
	if f := dial.fields("", step); f[0] != "error" {
		t.Fatalf("TCP connection from the internet to the laptop: %v", f)
	}
	if n := router.DroppedFromWAN(); n <= before {
		t.Errorf("router dropped no TCP SYN (counter %d -> %d)", before, n)
	}

	// The laptop opens the way: now the stranger's answer reaches it.
	listener.send("send " + stranger.Addr().String() + ":5000 hello")
	f := sender.fields("got", step)
	if f[1] != target+":40000" {
		t.Fatalf("stranger got the laptop's datagram from %s, want %s:40000", f[1], target)
	}
	sender.send("send " + f[1] + " welcome")
	if f := listener.fields("got", step); f[2] != "welcome" || f[1] != stranger.Addr().String()+":5000" {
		t.Fatalf("laptop got %v, want welcome from the stranger", f)
	}
}

// TestUDPHolePunching has two laptops behind two routers learn their public
// address from an observer and send to each other at once: through cone
// NATs the packets meet, through symmetric NATs they do not.
func TestUDPHolePunching(t *testing.T) {
	tests := []struct {
		nat     netlab.NAT
		punches bool
	}{
		{netlab.Cone, true},
		{netlab.Symmetric, false},
	}
	for _, tt := range tests {
		t.Run(tt.nat.String(), func(t *testing.T) {
			lab := netlab.New(t)
			observer := lab.PublicHost("observer")
			startHelper(t, observer.Namespace, "udp", "-echo", "3478").expect("ready", step)
			routers := []*netlab.Router{
				lab.HomeRouter("home-a", netlab.RouterConfig{NAT: tt.nat}),
				lab.HomeRouter("home-b", netlab.RouterConfig{NAT: tt.nat}),
			}
			var peers []*helper
			var mapped []string
			for i, r := range routers {
				laptop := r.Laptop([]string{"laptop-a", "laptop-b"}[i])
				h := startHelper(t, laptop.Namespace, "udp", "40000")
				h.expect("ready", step)
				h.send("send " + observer.Addr().String() + ":3478 stun")
				f := h.fields("got "+observer.Addr().String()+":3478", step)
				peers = append(peers, h)
				mapped = append(mapped, seenAddr(t, f[2]).String())
			}
			t.Logf("%s NATs: laptops mapped to %v", tt.nat, mapped)

			dropped := routers[0].DroppedFromWAN() + routers[1].DroppedFromWAN()
			// Both send every 50 ms until each has heard the other, or
			// the deadline: 10 s to succeed, 3 s to show it cannot.
			limit := 10 * time.Second
			if !tt.punches {
				limit = 3 * time.Second
			}
			deadline := time.After(limit)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			heard := []bool{false, false}
			sent := 0
			start := time.Now()
		punch:
			for !heard[0] || !heard[1] {
				select {
				case <-tick.C:
					peers[0].send("send " + mapped[1] + " punch")
					peers[1].send("send " + mapped[0] + " punch")
					sent++
				case line := <-peers[0].lines:
					heard[0] = heard[0] || strings.HasSuffix(line, " punch")
				case line := <-peers[1].lines:
					heard[1] = heard[1] || strings.HasSuffix(line, " punch")
				case <-deadline:
					break punch
				}
			}
			dropped = routers[0].DroppedFromWAN() + routers[1].DroppedFromWAN() - dropped
			t.Logf("after %d rounds in %s: heard %v; routers dropped %d punch packets", sent, time.Since(start).Round(time.Millisecond), heard, dropped)
			if tt.punches && (!heard[0] || !heard[1]) {
				t.Fatalf("hole punching through %s NATs failed", tt.nat)
			}
			if !tt.punches {
				if heard[0] || heard[1] {
					t.Fatalf("hole punching through %s NATs worked; it must not", tt.nat)
				}
				if dropped == 0 {
					t.Errorf("the routers dropped no punch packets")
				}
			}
		})
	}
}

// TestCarrierGradeNAT: a home router behind the ISP's carrier-grade NAT
// (its WAN on the ISP's 100.64.0.0/10 network). A laptop's packets leave
// from the ISP's public address, with their port kept through both cone
// NATs; the home router's own idea of its public address is in 100.64/10.
func TestCarrierGradeNAT(t *testing.T) {
	lab := netlab.New(t)
	observer := lab.PublicHost("observer")
	isp := lab.HomeRouter("isp", netlab.RouterConfig{LAN: netip.MustParsePrefix("100.64.0.0/24")})
	home := isp.Router("home", netlab.RouterConfig{})
	laptop := home.Laptop("laptop")
	if home.PublicAddr() != isp.PublicAddr() || !netip.MustParsePrefix("100.64.0.0/10").Contains(home.WANAddr()) {
		t.Fatalf("home router: public %s, WAN %s; want the ISP's %s and an address in 100.64/10", home.PublicAddr(), home.WANAddr(), isp.PublicAddr())
	}
	startHelper(t, observer.Namespace, "udp", "-echo", "3478").expect("ready", step)
	udp := startHelper(t, laptop.Namespace, "udp", "40000")
	udp.expect("ready", step)
	udp.send("send " + observer.Addr().String() + ":3478 hello")
	f := udp.fields("got "+observer.Addr().String()+":3478", step)
	if seen := seenAddr(t, f[2]); seen != netip.AddrPortFrom(isp.PublicAddr(), 40000) {
		t.Errorf("the observer saw %s, want the ISP's address %s and the laptop's port 40000", seen, isp.PublicAddr())
	}
}
