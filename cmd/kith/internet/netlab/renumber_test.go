//go:build linux

package netlab_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestAddressChanges renumbers a laptop, moves it to another router and
// renumbers that router, checking after each change which addresses the
// laptop has and how an observer on the internet sees it.
func TestAddressChanges(t *testing.T) {
	lab := netlab.New(t)
	observer := lab.PublicHost("observer")
	startHelper(t, observer.Namespace, "tcp-observe", "3479").expect("ready", step)
	home := lab.HomeRouter("home", netlab.RouterConfig{})
	cafe := lab.HomeRouter("cafe", netlab.RouterConfig{NAT: netlab.Symmetric})
	laptop := home.Laptop("laptop")

	// seen dials the observer from the laptop and returns what it saw.
	seen := func() netip.Addr {
		t.Helper()
		f := startHelper(t, laptop.Namespace, "tcp-dial", "0", observer.Addr().String()+":3479").fields("", step)
		if f[0] != "seen" {
			t.Fatalf("laptop cannot reach the observer: %v", f)
		}
		return seenAddr(t, f[2]).Addr()
	}
	// has reports whether the laptop's eth0 has exactly the address want.
	has := func(want netip.Addr) {
		t.Helper()
		out, err := laptop.Command("ip", "-4", "-o", "addr", "show", "dev", "eth0").Output()
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(out), " inet "); n != 1 || !strings.Contains(string(out), " "+want.String()+"/") {
			t.Fatalf("laptop's addresses: %s, want only %s", out, want)
		}
	}

	first := laptop.Addr()
	has(first)
	if got := seen(); got != home.PublicAddr() {
		t.Fatalf("observer saw %s, want home's %s", got, home.PublicAddr())
	}

	second := laptop.Renumber()
	if second == first || !home.LAN().Contains(second) {
		t.Fatalf("Renumber: %s -> %s, want a new address in %s", first, second, home.LAN())
	}
	has(second)
	if got := seen(); got != home.PublicAddr() {
		t.Fatalf("after Renumber, observer saw %s, want home's %s", got, home.PublicAddr())
	}

	third := laptop.Move(cafe)
	if !cafe.LAN().Contains(third) || laptop.Router() != cafe {
		t.Fatalf("Move: address %s, want one in the cafe's %s", third, cafe.LAN())
	}
	has(third)
	if got := seen(); got != cafe.PublicAddr() {
		t.Fatalf("after Move, observer saw %s, want the cafe's %s", got, cafe.PublicAddr())
	}

	old := cafe.PublicAddr()
	renewed := cafe.Renumber()
	if renewed == old || !netlab.PublicRange.Contains(renewed) {
		t.Fatalf("Router.Renumber: %s -> %s", old, renewed)
	}
	if got := seen(); got != renewed {
		t.Fatalf("after the router's Renumber, observer saw %s, want %s", got, renewed)
	}
	t.Logf("laptop %s -> %s -> %s (cafe), seen as %s -> %s", first, second, third, old, renewed)
}
