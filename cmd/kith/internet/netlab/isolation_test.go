//go:build linux

package netlab_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestPublicRangeIsPublicToLibp2p checks that libp2p classes the lab's
// public addresses as public (AutoNAT and the DHT ignore the others) and
// its LAN addresses as private.
func TestPublicRangeIsPublicToLibp2p(t *testing.T) {
	r := netlab.PublicRange
	last := netip.AddrFrom4([4]byte{11, 255, 255, 254})
	for _, a := range []netip.Addr{r.Addr().Next(), r.Addr().Next().Next(), netip.MustParseAddr("11.0.1.7"), last} {
		if !r.Contains(a) {
			t.Fatalf("%s is not in %s", a, r)
		}
		m := ma.StringCast("/ip4/" + a.String() + "/udp/4001/quic-v1")
		if !manet.IsPublicAddr(m) {
			t.Errorf("manet.IsPublicAddr(%s) = false", m)
		}
	}
	for _, a := range []string{"192.168.1.2", "192.168.254.9", "10.1.2.3"} {
		m := ma.StringCast("/ip4/" + a + "/tcp/4001")
		if !manet.IsPrivateAddr(m) || manet.IsPublicAddr(m) {
			t.Errorf("%s: want private to libp2p", m)
		}
	}
}

// TestRootNamespaceHasNoPathIntoTheLab builds a lab and checks that the
// root namespace got no address or route in the public range, and that
// every veth in the lab has its peer in the lab.
func TestRootNamespaceHasNoPathIntoTheLab(t *testing.T) {
	lab := netlab.New(t)
	pub := lab.PublicHost("server")
	router := lab.HomeRouter("home", netlab.RouterConfig{})
	laptop := router.Laptop("laptop")
	for _, a := range []netip.Addr{pub.Addr(), router.PublicAddr()} {
		if !manet.IsPublicAddr(ma.StringCast("/ip4/" + a.String())) {
			t.Errorf("lab address %s is not public to libp2p", a)
		}
	}

	var addrs []struct {
		Ifname   string
		AddrInfo []struct {
			Family, Local string
		} `json:"addr_info"`
	}
	ipJSON(t, &addrs, "-j", "addr", "show")
	for _, link := range addrs {
		for _, a := range link.AddrInfo {
			if ip, err := netip.ParseAddr(a.Local); err == nil && netlab.PublicRange.Contains(ip) {
				t.Errorf("root namespace: %s has lab address %s", link.Ifname, ip)
			}
		}
	}
	var routes []struct {
		Dst, Dev string
		Table    any
	}
	ipJSON(t, &routes, "-j", "-4", "route", "show", "table", "all")
	for _, r := range routes {
		if r.Dst == "default" {
			continue // the machine's own way out, which carries nothing of the lab's
		}
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			a, aerr := netip.ParseAddr(r.Dst)
			if aerr != nil {
				continue // broadcast, multicast and such
			}
			p = netip.PrefixFrom(a, 32)
		}
		if p.Overlaps(netlab.PublicRange) {
			t.Errorf("root namespace: route to %s via %s (table %v) reaches the lab's range", r.Dst, r.Dev, r.Table)
		}
	}

	names := map[string]bool{}
	all := []*netlab.Namespace{lab.Internet(), pub.Namespace, router.Namespace, laptop.Namespace}
	for _, ns := range all {
		names[ns.Name()] = true
	}
	veths := 0
	for _, ns := range all {
		var ids []struct {
			Nsid int
			Name string
		}
		ipJSON(t, &ids, "-n", ns.Name(), "-j", "netns", "list-id")
		nameOf := map[int]string{}
		for _, id := range ids {
			nameOf[id.Nsid] = id.Name
		}
		var links []struct {
			Ifname   string
			LinkNsid *int `json:"link_netnsid"`
			LinkInfo struct {
				InfoKind string `json:"info_kind"`
			} `json:"linkinfo"`
		}
		ipJSON(t, &links, "-n", ns.Name(), "-j", "-d", "link", "show")
		for _, l := range links {
			if l.LinkInfo.InfoKind != "veth" {
				continue
			}
			veths++
			if l.LinkNsid == nil {
				t.Errorf("%s: veth %s has its peer in the same namespace", ns.Name(), l.Ifname)
				continue
			}
			if peer := nameOf[*l.LinkNsid]; !names[peer] {
				t.Errorf("%s: veth %s has its peer outside the lab (netns id %d, %q)", ns.Name(), l.Ifname, *l.LinkNsid, peer)
			}
		}
	}
	// Two ends for each of the server's, the router's and the laptop's links.
	if veths != 6 {
		t.Errorf("found %d veth ends in the lab, want 6", veths)
	}
}

// ipJSON runs ip with args in the test's own namespace and decodes its JSON.
func ipJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestNoDNSInTheLab checks that a name lookup in the lab fails at once
// rather than waiting on the machine's resolver, and that the lab's
// resolv.conf files go with it.
func TestNoDNSInTheLab(t *testing.T) {
	var etc string
	t.Cleanup(func() { // runs after the lab's cleanup
		if _, err := os.Stat(etc); etc != "" && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is left after the lab: %v", etc, err)
		}
	})
	lab := netlab.New(t)
	laptop := lab.HomeRouter("home", netlab.RouterConfig{}).Laptop("laptop")
	etc = filepath.Join("/etc/netns", laptop.Name())
	start := time.Now()
	f := startHelper(t, laptop.Namespace, "lookup", "example.com").fields("", step)
	took := time.Since(start)
	t.Logf("lookup in the lab: %s in %s", strings.Join(f, " "), took.Round(time.Millisecond))
	if f[0] != "error" {
		t.Errorf("example.com resolved in the lab: %v", f)
	}
	if took > 5*time.Second {
		t.Errorf("the failed lookup took %s; it should fail at once", took)
	}
}

// TestServeDNS: the lab's DNS server answers a laptop behind a NAT and a
// public host, each through its own resolver (resolv.conf), made before
// and after the server started: TXT records of its names, NXDOMAIN for
// others.
func TestServeDNS(t *testing.T) {
	lab := netlab.New(t)
	laptop := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone}).Laptop("laptop")
	lab.ServeDNS(map[string][]string{"_dnslink.Site.example.org": {"dnslink=/ipfs/bafy1", "other"}})
	public := lab.PublicHost("pub")
	for _, ns := range []*netlab.Namespace{laptop.Namespace, public.Namespace} {
		f := startHelper(t, ns, "txt", "_dnslink.site.example.org").fields("", step)
		if got := strings.Join(f, " "); got != `found ["dnslink=/ipfs/bafy1" "other"]` {
			t.Errorf("%s: TXT of _dnslink.site.example.org: %s", ns.Name(), got)
		}
		f = startHelper(t, ns, "txt", "_dnslink.elsewhere.example.org").fields("", step)
		if got := strings.Join(f, " "); !strings.HasPrefix(got, "error ") || !strings.Contains(got, "no such host") {
			t.Errorf("%s: TXT of a name the server does not hold: %s, want no such host", ns.Name(), got)
		}
	}
}
