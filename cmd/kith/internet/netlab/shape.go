//go:build linux

package netlab

import (
	"fmt"
	"os/exec"
)

// Rate is a link rate in bits per second.
type Rate int64

// Units of Rate: 50 * netlab.Mbit is a 50 Mbit/s link.
const (
	Kbit Rate = 1000
	Mbit Rate = 1000 * Kbit
	Gbit Rate = 1000 * Mbit
)

func (r Rate) String() string {
	switch {
	case r >= Gbit && r%Gbit == 0:
		return fmt.Sprintf("%dGbit/s", r/Gbit)
	case r >= Mbit && r%Mbit == 0:
		return fmt.Sprintf("%dMbit/s", r/Mbit)
	case r >= Kbit && r%Kbit == 0:
		return fmt.Sprintf("%dKbit/s", r/Kbit)
	}
	return fmt.Sprintf("%dbit/s", int64(r))
}

// Shape limits the router's WAN link to up (what its LAN sends out) and down
// (what it receives), each with a token bucket filter (tc tbf) on the
// sending side of the WAN veth: the router's end for up, the far end (on
// the bridge, or on the LAN of the router in front) for down. A rate of 0 removes the limit. It may be called again to change
// the rates mid-test.
func (r *Router) Shape(up, down Rate) {
	r.lab.t.Helper()
	if up < 0 || down < 0 {
		r.lab.t.Fatalf("netlab: router %s: negative rate", r.node)
	}
	shapeLink(r.Namespace, "wan", r.up != 0, up)
	shapeLink(r.portNS, r.port, r.down != 0, down)
	r.up, r.down = up, down
}

// shapeLink sets dev's egress in ns to the given rate (tbf), replacing
// what was there (had says whether anything was), or removes it for 0.
// (There is no delay emulation: the kernels these tests run on have no
// netem.)
func shapeLink(ns *Namespace, dev string, had bool, rate Rate) {
	ns.lab.t.Helper()
	var args []string
	switch {
	case rate == 0 && !had:
		return
	case rate == 0:
		args = []string{"qdisc", "del", "dev", dev, "root"}
	default:
		// The bucket holds 20 ms of traffic (at least 32 KiB, so that
		// full-size segments pass at low rates); the queue 100 ms more.
		burst := max(int64(rate)/8/50, 32<<10)
		args = []string{"qdisc", "replace", "dev", dev, "root", "tbf",
			"rate", fmt.Sprintf("%dbit", int64(rate)),
			"burst", fmt.Sprint(burst), "latency", "100ms"}
	}
	cmd := exec.Command("tc", append([]string{"-n", ns.name}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		ns.lab.t.Fatalf("netlab: in %s: tc %v: %v: %s", ns.name, args, err, out)
	}
}

// ShapeUp limits what the host sends on eth0 (its upload: for a public
// host, everything it sends to the internet, relayed traffic included) with
// a tbf of the given rate; 0 removes the limit.
func (h *Host) ShapeUp(rate Rate) {
	h.lab.t.Helper()
	if rate < 0 {
		h.lab.t.Fatalf("netlab: host %s: negative rate", h.node)
	}
	shapeLink(h.Namespace, "eth0", h.up != 0, rate)
	h.up = rate
}
