//go:build linux

package netlab

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// PortMapping is how a router forwards ports on request.
type PortMapping int

const (
	// NoPortMapping: the router forwards nothing on request.
	NoPortMapping PortMapping = iota
	// UPnPAndNATPMP answers UPnP IGD (found by SSDP multicast on the LAN)
	// and NAT-PMP / PCP (asked of the gateway), as most home routers do.
	UPnPAndNATPMP
	// NATPMPOnly answers NAT-PMP / PCP only, as Apple's routers did.
	NATPMPOnly
)

func (p PortMapping) String() string {
	switch p {
	case NoPortMapping:
		return "none"
	case UPnPAndNATPMP:
		return "UPnP and NAT-PMP"
	case NATPMPOnly:
		return "NAT-PMP"
	}
	return fmt.Sprintf("PortMapping(%d)", int(p))
}

// upnpChains are the nftables chains miniupnpd fills with the port
// forwards laptops ask for: a filter chain in the router's own table
// (jumped to from its forward chain before what comes from the WAN is
// dropped: nftables has no jump between tables, and a drop in any table is
// final) and the NAT chains in a table of their own.
const upnpChains = `
table inet netlab_upnp {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority srcnat - 1; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
`

// startPortMapping runs miniupnpd in the router, as most home routers run
// a UPnP IGD and NAT-PMP service (RouterConfig.PortMapping says which): a
// laptop on the LAN may ask for a port of the router's public address to
// be forwarded to a port of its own (only to its own address: secure
// mode), and connections from the internet to that port then reach it.
// miniupnpd stops at the end of the test.
func (r *Router) startPortMapping() {
	t := r.lab.t
	t.Helper()
	bin, err := exec.LookPath("miniupnpd")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/miniupnpd") // not in a user's PATH
	}
	if err != nil {
		skipOrFail(t, "netlab: miniupnpd is missing (package miniupnpd-nftables)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "miniupnpd.conf")
	lines := []string{
		"ext_ifname=wan",
		"listening_ip=lan",
		"http_port=0",
		"enable_upnp=" + map[bool]string{true: "yes", false: "no"}[r.cfg.PortMapping == UPnPAndNATPMP],
		"enable_natpmp=yes",
		"secure_mode=yes",
		"system_uptime=no",
		"lease_file=" + filepath.Join(dir, "leases"),
		"uuid=" + fmt.Sprintf("3d3cec3a-8cf0-11e0-98ee-%012x", r.lab.routers),
		"upnp_table_name=netlab",
		"upnp_nat_table_name=netlab_upnp",
		"upnp_forward_chain=miniupnpd",
		"upnp_nat_chain=prerouting_miniupnpd",
		"upnp_nat_postrouting_chain=postrouting_miniupnpd",
		"allow 1024-65535 " + r.lan.String() + " 1024-65535",
		"deny 0-65535 0.0.0.0/0 0-65535",
	}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Start(t, r.Command(bin, "-d", "-4", "-f", conf, "-P", filepath.Join(dir, "pid")))
}

// Forward forwards port of the router's WAN address (proto "tcp" or "udp")
// to the laptop's address and port to, as a user sets in the router's
// settings page ("port forwarding"; the port outside may be another than
// inside): connections from the internet to that port reach the laptop,
// whatever NAT the router does to what the laptop sends out (a symmetric
// one still gives its outgoing connections other ports).
func (r *Router) Forward(proto string, port uint16, to netip.AddrPort) {
	r.lab.t.Helper()
	if proto != "tcp" && proto != "udp" {
		r.lab.t.Fatalf("netlab: router %s: forward %s: want tcp or udp", r.node, proto)
	}
	if !r.lan.Contains(to.Addr()) {
		r.lab.t.Fatalf("netlab: router %s: forward to %s, not on its LAN %s", r.node, to, r.lan)
	}
	r.mustRun(nil, "nft", "add", "rule", "ip", "netlab_nat", "prerouting",
		"iifname", "wan", proto, "dport", strconv.Itoa(int(port)), "dnat", "to", to.String())
	r.mustRun(nil, "nft", "add", "rule", "inet", "netlab", "forwards",
		"iifname", "wan", "ip", "daddr", to.Addr().String(), proto, "dport", strconv.Itoa(int(to.Port())), "ct", "status", "dnat", "accept")
}
