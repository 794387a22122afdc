//go:build linux

package netlab

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
)

// PublicRange holds every public address in a lab. It is a real public
// range (11.0.0.0/8), so libp2p classes its addresses as public, as AutoNAT
// needs; the test-net and benchmark ranges (192.0.2/24, 198.51.100/24,
// 203.0.113/24, 198.18/15) and shared address space (100.64/10) are not.
// It exists only inside the lab's namespaces: the root namespace has no link
// or route into the lab, so nothing sent to these addresses can leave.
var PublicRange = netip.MustParsePrefix("11.0.0.0/8")

// coreAddr is the lab namespace's own address on the bridge: the default
// gateway of public hosts and routers. It forwards nothing, so packets for
// addresses outside the lab die there.
var coreAddr = netip.MustParseAddr("11.0.0.1")

const bridgeName = "internet"

// labSeq numbers the labs of this process, so that tests may build several.
var labSeq atomic.Int64

// A Lab is one emulated internet: a namespace with the public bridge and
// the public hosts, routers and laptops attached to it. Its methods fail
// the test on error and are not safe for concurrent use.
type Lab struct {
	t          testing.TB
	suffix     string // "-<pid>-<seq>", unique on this machine
	core       *Namespace
	namespaces []*Namespace
	nextPublic netip.Addr
	ports      int // veths on the bridge, named p1, p2, ...
	routers    int
	// v6 is set in a dual-stack lab (NewDualStack); nextPublic6 is then
	// the next IPv6 address of the bridge to give out.
	v6          bool
	nextPublic6 netip.Addr
	// resolv is the resolv.conf of the lab's namespaces: resolvConf, or
	// once ServeDNS runs, one that names its server.
	resolv string
}

// New builds an empty lab, removed at the end of the test. Where network
// namespaces cannot be created (not root, no iproute2 or nftables) it skips
// the test, or fails it when CI=true.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "netlab: creating network namespaces needs root")
	}
	for _, tool := range []string{"ip", "nft", "tc", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, "netlab: "+tool+" is missing (packages iproute2, nftables, procps)")
		}
	}
	removeStale(t)
	l := &Lab{
		t:          t,
		suffix:     fmt.Sprintf("-%d-%d", os.Getpid(), labSeq.Add(1)),
		nextPublic: coreAddr.Next(),
		resolv:     resolvConf,
	}
	t.Cleanup(l.close)
	core, err := l.addNamespace("inet")
	if err != nil {
		skipOrFail(t, "netlab: cannot create a network namespace here: "+err.Error())
	}
	l.core = core
	core.ip(
		"link set lo up",
		"link add "+bridgeName+" type bridge",
		"addr add "+prefix(coreAddr, PublicRange.Bits())+" dev "+bridgeName,
		"link set "+bridgeName+" up",
	)
	core.sysctl(noBridgeFilter...)
	return l
}

// noBridgeFilter keeps bridged frames out of the namespace's IP firewall
// (br_netfilter), so laptops on one LAN reach each other whatever a router's
// forward chain says.
var noBridgeFilter = []string{
	"net.bridge.bridge-nf-call-iptables=0",
	"net.bridge.bridge-nf-call-ip6tables=0",
	"net.bridge.bridge-nf-call-arptables=0",
}

// Internet returns the namespace of the public bridge (interface
// "internet", the lab's core), for captures such as
// `tcpdump -i internet` run with its Command.
func (l *Lab) Internet() *Namespace { return l.core }

// Gateway is the address of the lab's core on the public bridge, every
// public host's and router's default gateway.
func (l *Lab) Gateway() netip.Addr { return coreAddr }

// PublicHost adds a server on the public internet: a namespace with one
// address in PublicRange on the bridge and a default route to the core.
func (l *Lab) PublicHost(name string) *Host {
	l.t.Helper()
	ns := l.mustNamespace(name)
	h := &Host{Namespace: ns, addr: l.allocPublic()}
	l.attach(ns, "eth0")
	ns.ip(
		"link set lo up",
		"addr add "+prefix(h.addr, PublicRange.Bits())+" dev eth0",
		"link set eth0 up",
		"route add default via "+coreAddr.String(),
	)
	ns.sysctl(promoteSecondaries...)
	if l.v6 {
		l.publicHost6(h)
	}
	return h
}

// promoteSecondaries lets an interface keep its new address when the old
// one is deleted during a renumbering (otherwise deleting the primary
// address deletes the secondaries of its subnet too).
var promoteSecondaries = []string{
	"net.ipv4.conf.all.promote_secondaries=1",
	"net.ipv4.conf.default.promote_secondaries=1",
}

// attach links ns to the public bridge with a veth pair whose end in ns is
// called ifname, and returns the name of the end on the bridge. Both ends
// are created in their namespaces: the root namespace never holds either.
func (l *Lab) attach(ns *Namespace, ifname string) string {
	l.t.Helper()
	l.ports++
	port := fmt.Sprintf("p%d", l.ports)
	l.core.ip(
		"link add "+port+" type veth peer name "+ifname+" netns "+ns.name,
		"link set "+port+" master "+bridgeName,
		"link set "+port+" up",
	)
	return port
}

// allocPublic returns the next unused public address.
func (l *Lab) allocPublic() netip.Addr {
	for {
		a := l.nextPublic
		l.nextPublic = a.Next()
		if b := a.As4(); b[3] != 0 && b[3] != 255 {
			if !PublicRange.Contains(a) {
				l.t.Fatal("netlab: out of public addresses")
			}
			return a
		}
	}
}

var nodeName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// mustNamespace creates the namespace of a new host or router.
func (l *Lab) mustNamespace(name string) *Namespace {
	l.t.Helper()
	if !nodeName.MatchString(name) || name == "inet" {
		l.t.Fatalf("netlab: name %q: want 1-20 of [a-z0-9-], starting with a letter, and not \"inet\"", name)
	}
	for _, ns := range l.namespaces {
		if ns.node == name {
			l.t.Fatalf("netlab: name %q is already in this lab", name)
		}
	}
	ns, err := l.addNamespace(name)
	if err != nil {
		l.t.Fatal(err)
	}
	return ns
}

func (l *Lab) addNamespace(node string) (*Namespace, error) {
	ns := &Namespace{lab: l, node: node, name: "nl-" + node + l.suffix}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", ns.name, err, out)
	}
	l.namespaces = append(l.namespaces, ns)
	dir := etcDir(ns.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(l.resolv), 0o644); err != nil {
		return nil, err
	}
	return ns, nil
}

// resolvConf is the /etc/resolv.conf of programs in a lab namespace (`ip
// netns exec` mounts /etc/netns/NAME/resolv.conf over it). The lab has no
// DNS server unless a test starts one (ServeDNS): asking the namespace's
// own loopback fails at once, where the machine's resolver, out of reach,
// would time out after seconds.
const resolvConf = "# netlab: no DNS in the lab\nnameserver 127.0.0.1\n"

// etcDir holds the files `ip netns exec` puts over /etc in namespace name.
func etcDir(name string) string { return filepath.Join("/etc/netns", name) }

// close ends what is left in the lab's namespaces and deletes them, the core
// last. Processes started with Start have been stopped by their own cleanup
// (registered later, so run earlier); any other process still in a lab
// namespace was started in it by this test, and is killed.
func (l *Lab) close() {
	for i := len(l.namespaces) - 1; i >= 0; i-- {
		ns := l.namespaces[i]
		if pids := ns.pids(); len(pids) > 0 {
			l.t.Logf("netlab: killing processes left in %s: %v", ns.name, pids)
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			l.t.Errorf("netlab: ip netns del %s: %v: %s", ns.name, err, out)
		}
		os.RemoveAll(etcDir(ns.name))
	}
	l.namespaces = nil
	os.Remove("/etc/netns") // if no one else uses it
}

var staleName = regexp.MustCompile(`^nl-[a-z][a-z0-9-]*-([0-9]+)-[0-9]+$`)

// removeStale deletes the empty namespaces of labs whose test process died
// before its cleanup ran, so that a reused pid does not collide with them.
// A namespace with a process still in it is left alone.
func removeStale(t testing.TB) {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		ns := &Namespace{name: e.Name()}
		if len(ns.pids()) > 0 {
			continue
		}
		if exec.Command("ip", "netns", "del", e.Name()).Run() == nil {
			os.RemoveAll(etcDir(e.Name()))
			t.Logf("netlab: removed %s, left by dead test process %d", e.Name(), pid)
		}
	}
}

func prefix(a netip.Addr, bits int) string {
	return netip.PrefixFrom(a, bits).String()
}

// skipOrFail skips outside CI and fails in CI, where every test must run.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
