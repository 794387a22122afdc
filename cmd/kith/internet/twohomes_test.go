//go:build linux

package internet_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestTwoHomesByCID: two laptops behind cone NATs, each with the default
// config except a bootstrap list naming the lab's small public network
// (two kith nodes and a Kubo). B gets A's file knowing only its CID; the
// bytes arrive over a direct, hole-punched connection.
func TestTwoHomesByCID(t *testing.T) {
	pub, a, b := twoConeHomes(t, true)
	waitFor(t, 60*time.Second, "the public kith nodes to find they are public", func() bool {
		return pub.kiths[0].doctor().Reachability == "public"
	})
	res, data := a.addFile(4 << 20)
	out := filepath.Join(b.files, "got.bin")
	waitFor(t, 90*time.Second, "B to get A's file by CID", func() bool {
		_, err := b.run("get", res.Cid, "-o", out)
		if err != nil {
			t.Logf("get: %v", err)
		}
		return err == nil
	})
	b.gotDirectly(out, a, data)
	out, _ = b.run("peers")
	t.Logf("B's connections after the get:\n%s", out)
	out, _ = a.run("doctor")
	t.Logf("A's doctor:\n%s", out)
}

// TestGetRightAfterStart: the lab's servers and A have just started, and
// B's daemon has just started when its user asks for A's file by CID, A
// being behind another NAT. The first get must succeed, over a direct
// connection. Two things used to fail here: A, with one public peer per
// transport, never learnt its public address (libp2p wanted two observers
// per transport: see observerThreshold) and stayed without a reachability;
// and B reaches A through A's relay before B's hole-punch service listens
// (libp2p starts it once B knows a public address of its own), so A's punch
// can fail: kith waits for a punch after a relayed dial and redials through
// the relay when none comes (connectProvider).
func TestGetRightAfterStart(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false)
	a := startKith(t, "laptop-A", lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Cone}).Laptop("a"), laptopConfig(pub.boot))
	waitFor(t, 60*time.Second, "A to be private with a relay reservation", func() bool {
		d := a.doctor()
		return d.Reachability == "private" && len(d.RelayAddrs) > 0
	})
	res, data := a.addFile(1 << 20)
	for _, p := range pub.kiths {
		waitFor(t, 60*time.Second, p.name+" to hold A's provider record", func() bool {
			out, err := p.run("dht", "findprovs", res.Cid)
			return err == nil && strings.Contains(out, a.id.PeerID)
		})
	}
	b := startKith(t, "laptop-B", lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Cone}).Laptop("b"), laptopConfig(pub.boot))
	out := filepath.Join(b.files, "got.bin")
	if _, err := b.run("get", res.Cid, "-o", out); err != nil {
		t.Fatalf("B's first get, right after its daemon started: %v", err)
	}
	b.gotDirectly(out, a, data)
}

// twoConeHomes starts the lab's public network (two kith nodes, and a Kubo
// withKubo) and two laptops behind cone NATs in homes of their own, with
// the default config but for the lab's bootstrap list, and waits until A
// is private with a relay reservation.
func twoConeHomes(t *testing.T, withKubo bool) (pub *publicNet, a, b *kith) {
	t.Helper()
	lab := netlab.New(t)
	pub = startPublicNet(t, lab, 2, withKubo)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Cone})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Cone})
	a = startKith(t, "laptop-A", homeA.Laptop("a"), laptopConfig(pub.boot))
	b = startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	waitFor(t, 60*time.Second, "A to be private with a relay reservation", func() bool {
		d := a.doctor()
		return d.Reachability == "private" && len(d.RelayAddrs) > 0
	})
	return pub, a, b
}
