//go:build linux

package netlab

import (
	"encoding/json"
	"net/netip"
)

// A Host is a machine with one IPv4 address on interface eth0 (and in a
// dual-stack lab one IPv6 address): a server on the public internet (from
// Lab.PublicHost) or a laptop on a home router's LAN (from
// Router.Laptop). Processes run in it with its Namespace's Command.
type Host struct {
	*Namespace
	addr   netip.Addr
	addr6  netip.Addr // invalid without IPv6
	router *Router    // nil for a public host
	up     Rate       // eth0's upload limit (ShapeUp), 0 for none
}

// Traffic returns the bytes the host received and sent on eth0 so far:
// everything it exchanged with the rest of the lab.
func (h *Host) Traffic() (rx, tx uint64) {
	h.lab.t.Helper()
	out := h.mustRun(nil, "ip", "-s", "-j", "link", "show", "dev", "eth0")
	var links []struct {
		Stats64 struct {
			Rx struct{ Bytes uint64 } `json:"rx"`
			Tx struct{ Bytes uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		h.lab.t.Fatalf("netlab: traffic of %s: %v: %s", h.node, err, out)
	}
	return links[0].Stats64.Rx.Bytes, links[0].Stats64.Tx.Bytes
}

// Addr returns the host's address: public for a public host, private for a
// laptop (its public address is its router's).
func (h *Host) Addr() netip.Addr { return h.addr }

// Router returns the router a laptop is behind, nil for a public host.
func (h *Host) Router() *Router { return h.router }

// Renumber gives the host a new address on the same network, as a DHCP
// lease change or a new public IP does: the new address is added, the old
// one removed, and the default route set again. Sockets bound to the old
// address stop working; connections through it die. It returns the new
// address.
func (h *Host) Renumber() netip.Addr {
	h.lab.t.Helper()
	old := h.addr
	var bits int
	var gw netip.Addr
	if h.router == nil {
		h.addr, bits, gw = h.lab.allocPublic(), PublicRange.Bits(), coreAddr
	} else {
		h.addr, bits, gw = h.router.allocLAN(), h.router.lan.Bits(), h.router.gateway()
	}
	h.ip(
		"addr add "+prefix(h.addr, bits)+" dev eth0",
		"addr del "+prefix(old, bits)+" dev eth0",
		"route replace default via "+gw.String()+" dev eth0",
	)
	return h.addr
}

// Move takes a laptop to the LAN of another router, as when it leaves home
// for a café: its link is unplugged and plugged into r, and it gets an
// address on r's LAN. Its processes keep running; their connections die.
// It returns the new address.
func (h *Host) Move(r *Router) netip.Addr {
	h.lab.t.Helper()
	if h.router == nil {
		h.lab.t.Fatalf("netlab: Move: %s is a public host, not a laptop", h.node)
	}
	h.ip("link del eth0") // deletes the router's end too
	r.plug(h)
	return h.addr
}
