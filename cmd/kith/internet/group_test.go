//go:build linux

package internet_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// groupTiming shortens the group's intervals so a test sees in seconds
// what takes minutes by default (30 s heartbeats, two missed before a
// state repair).
var groupTiming = map[string]any{"heartbeat_interval": "2s", "sync_interval": "5s"}

// inGroups is cfg with the test's group timing.
func inGroups(cfg config) config {
	g := map[string]any{}
	for k, v := range groupTiming {
		g[k] = v
	}
	if old, ok := cfg["groups"].(map[string]any); ok {
		for k, v := range old {
			g[k] = v
		}
	}
	cfg["groups"] = g
	return cfg
}

// symmetricHomes sets up two laptops behind symmetric NATs (hole punching
// cannot cross) and a public network of a kith node and a Kubo, both
// offering the usual limited relay.
func symmetricHomes(t *testing.T) (lab *netlab.Lab, pub *publicNet, a, b *kith) {
	lab = netlab.New(t)
	pub = startPublicNet(t, lab, 1, true)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
	a = startKith(t, "laptop-A", homeA.Laptop("a"), inGroups(laptopConfig(pub.boot)))
	b = startKith(t, "laptop-B", homeB.Laptop("b"), inGroups(laptopConfig(pub.boot)))
	return lab, pub, a, b
}

// makeGroup creates a group on the first node and joins the others.
func makeGroup(t testing.TB, name string, first *kith, others ...*kith) {
	t.Helper()
	var inv api.GroupInvite
	if err := first.runJSON(&inv, "group", "create", name); err != nil {
		t.Fatal(err)
	}
	for _, k := range others {
		cmd := k.host.Command(kithBin, "--repo", k.repo, "group", "join", "-")
		cmd.Stdin = strings.NewReader(inv.Token + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s joins: %v: %s", k.name, err, out)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, k := range append([]*kith{first}, others...) {
				out, _ := k.run("group", "members", name)
				t.Logf("members of %s as %s sees them:\n%s", name, k.name, out)
			}
		}
	})
	waitFor(t, 90*time.Second, "every member to see every other", func() bool {
		for _, k := range append([]*kith{first}, others...) {
			var ms []api.GroupMember
			if err := k.runJSON(&ms, "group", "members", name); err != nil || len(ms) != len(others)+1 {
				return false
			}
		}
		return true
	})
}

// TestSymmetricNATsThroughGroupRelay: both laptops are behind symmetric
// NATs; the group has a publicly reachable member (a VPS offering no disk
// to the group), whose relay carries the copy A shares to B.
func TestSymmetricNATsThroughGroupRelay(t *testing.T) {
	lab, pub, a, b := symmetricHomes(t)
	vpsCfg := serverConfig(pub.boot)
	vpsCfg["groups"] = map[string]any{"budget_percent": 0} // relays, holds nothing
	vps := startKith(t, "vps", lab.PublicHost("vps"), inGroups(vpsCfg))
	waitFor(t, 60*time.Second, "the VPS to find it is public", func() bool { return vps.doctor().Reachability == "public" })
	makeGroup(t, "family", a, b, vps)
	waitFor(t, 90*time.Second, "A and B to hold a reservation on the VPS's group relay", func() bool {
		return len(a.doctor().GroupRelays) > 0 && len(b.doctor().GroupRelays) > 0
	})

	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	path := filepath.Join(a.files, "photo.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var in api.GroupIntent
	if err := a.runJSON(&in, "share", path, "--group", "family", "--copies", "2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "B to hold a copy", func() bool {
		out, err := b.run("--json", "status", in.Cid)
		if err != nil {
			return false
		}
		var sts []api.GroupStatus
		if json.Unmarshal([]byte(strings.TrimSpace(out)), &sts) != nil {
			return false
		}
		for _, st := range sts {
			for _, h := range st.Holders {
				if h.Peer == b.id.PeerID && h.State == "held" {
					return true
				}
			}
		}
		return false
	})
	got := filepath.Join(b.files, "copy.bin")
	if _, err := b.run("get", in.Cid, "-o", got); err != nil {
		t.Fatal(err)
	}
	if g, _ := os.ReadFile(got); !bytes.Equal(g, data) {
		t.Fatal("B's copy differs")
	}
	// The copy came through the VPS's relay: no hole punch crosses two
	// symmetric NATs, so B has no direct connection to A, only an
	// unlimited one through the VPS.
	throughVPS, direct := false, false
	for _, p := range b.peers() {
		if p.ID != a.id.PeerID {
			continue
		}
		if !p.Relayed {
			direct = true
		}
		if p.Relayed && !p.Limited && strings.Contains(p.Addr, vps.id.PeerID) && p.BytesIn > 0 {
			throughVPS = true
		}
	}
	if !throughVPS || direct {
		out, _ := b.run("peers")
		t.Fatalf("the copy did not come through the VPS's relay (direct: %v):\n%s", direct, out)
	}
	if d := b.doctor(); d.NAT != "symmetric" {
		t.Errorf("B's doctor says NAT %q, want symmetric", d.NAT)
	}
}

// TestSymmetricNATsWithoutGroupRelay: with no publicly reachable member
// to relay, B's get fails within 30 s and says why: symmetric NAT.
func TestSymmetricNATsWithoutGroupRelay(t *testing.T) {
	_, _, a, b := symmetricHomes(t)
	waitFor(t, 60*time.Second, "A to hold a relay reservation", func() bool { return len(a.doctor().RelayAddrs) > 0 })
	waitFor(t, 60*time.Second, "B to see its symmetric NAT", func() bool { return b.doctor().NAT == "symmetric" })
	res, _ := a.addFile(1 << 20)
	waitFor(t, 60*time.Second, "B to find A as a provider", func() bool {
		out, err := b.run("dht", "findprovs", res.Cid)
		return err == nil && strings.Contains(out, a.id.PeerID)
	})
	start := time.Now()
	_, err := b.run("get", res.Cid, "-o", filepath.Join(b.files, "x"))
	took := time.Since(start)
	if err == nil {
		t.Fatal("get succeeded across two symmetric NATs with no relay that carries transfers")
	}
	if took > 30*time.Second {
		t.Errorf("get took %v to fail, want at most 30s", took)
	}
	// What the user read: the CLI's line on stderr.
	msg := err.Error()[strings.LastIndex(err.Error(), "kith: "):]
	if !strings.Contains(msg, "symmetric NAT") || strings.Count(msg, res.Cid) > 1 {
		t.Fatalf("get failed with %q; want one line naming the symmetric NAT, the CID at most once", msg)
	}
	t.Logf("get failed after %v: %s", took, msg)
}
