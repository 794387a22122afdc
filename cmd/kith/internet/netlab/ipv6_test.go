//go:build linux

package netlab_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestIPv6 checks the dual-stack lab: a laptop's IPv6 packets leave with its
// own address (no translation, even behind a symmetric IPv4 NAT), nothing
// from outside opens a way in, two laptops behind symmetric IPv4 NATs punch
// a hole over IPv6 by sending at once, and a home without IPv6 has none.
func TestIPv6(t *testing.T) {
	lab := netlab.NewDualStack(t)
	observer := lab.PublicHost("observer")
	stranger := lab.PublicHost("stranger")
	if !netlab.PublicRange6.Contains(observer.Addr6()) {
		t.Fatalf("public host's IPv6 address %v is not in %s", observer.Addr6(), netlab.PublicRange6)
	}
	startHelper(t, observer.Namespace, "udp", "-echo", "-6", "3478").expect("ready", step)
	routers := []*netlab.Router{
		lab.HomeRouter("home-a", netlab.RouterConfig{NAT: netlab.Symmetric}),
		lab.HomeRouter("home-b", netlab.RouterConfig{NAT: netlab.Symmetric}),
	}
	obs := netip.AddrPortFrom(observer.Addr6(), 3478).String()
	var peers []*helper
	var addrs []string
	for i, r := range routers {
		laptop := r.Laptop([]string{"laptop-a", "laptop-b"}[i])
		if !r.LAN6().Contains(laptop.Addr6()) {
			t.Fatalf("laptop's IPv6 address %v is not in its home's %v", laptop.Addr6(), r.LAN6())
		}
		h := startHelper(t, laptop.Namespace, "udp", "-6", "40000")
		h.expect("ready", step)
		h.send("send " + obs + " stun")
		f := h.fields("got "+obs, step)
		own := netip.AddrPortFrom(laptop.Addr6(), 40000)
		if seen := seenAddr(t, f[2]); seen != own {
			t.Fatalf("observer saw %s, want the laptop's own %s", seen, own)
		}
		peers = append(peers, h)
		addrs = append(addrs, own.String())
	}

	// Unasked, nothing gets in.
	out := startHelper(t, stranger.Namespace, "udp", "-6", "5000")
	out.expect("ready", step)
	before := routers[0].DroppedFromWAN()
	for range 3 {
		out.send("send " + addrs[0] + " unsolicited")
	}
	waitFor(t, step, "home A's router to drop 3 packets", func() bool { return routers[0].DroppedFromWAN() >= before+3 })
	select {
	case line := <-peers[0].lines:
		t.Fatalf("laptop A received an unsolicited datagram: %s", line)
	default:
	}

	// Sending at once, the two laptops meet.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	heard := []bool{false, false}
	for !heard[0] || !heard[1] {
		select {
		case <-tick.C:
			peers[0].send("send " + addrs[1] + " punch")
			peers[1].send("send " + addrs[0] + " punch")
		case line := <-peers[0].lines:
			heard[0] = heard[0] || strings.HasSuffix(line, " punch")
		case line := <-peers[1].lines:
			heard[1] = heard[1] || strings.HasSuffix(line, " punch")
		case <-deadline:
			t.Fatalf("hole punching over IPv6 behind symmetric IPv4 NATs failed: heard %v", heard)
		}
	}

	v4only := lab.HomeRouter("home-c", netlab.RouterConfig{NoIPv6: true})
	if l := v4only.Laptop("laptop-c"); v4only.HasIPv6() || l.Addr6().IsValid() {
		t.Errorf("a home without IPv6 gave its laptop %v", l.Addr6())
	}
}
