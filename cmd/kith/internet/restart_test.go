//go:build linux

package internet_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// TestDHTServerRestart: the public DHT servers restart; A's content is
// still found, because they kept its provider record in their repos.
func TestDHTServerRestart(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false)
	a := startKith(t, "laptop-A", lab.HomeRouter("homea", netlab.RouterConfig{}).Laptop("a"), laptopConfig(pub.boot))
	waitFor(t, 60*time.Second, "A to hold a relay reservation", func() bool { return len(a.doctor().RelayAddrs) > 0 })
	res, data := a.addFile(1 << 20)
	for _, p := range pub.kiths {
		waitFor(t, 60*time.Second, p.name+" to hold A's provider record", func() bool {
			out, err := p.run("dht", "findprovs", res.Cid)
			return err == nil && strings.Contains(out, a.id.PeerID)
		})
	}
	for _, p := range pub.kiths {
		p.stop()
	}
	for _, p := range pub.kiths {
		p.start()
	}
	// Straight after the restart, before A can have announced anything
	// again (it only re-announces seconds after its relays come back), a
	// server answers from its repo. (Which server A's announcement reached
	// first is not known, so either will do.)
	found := false
	var outs []string
	for _, p := range pub.kiths {
		out, err := p.run("dht", "findprovs", res.Cid)
		found = found || (err == nil && strings.Contains(out, a.id.PeerID))
		outs = append(outs, fmt.Sprintf("%s: %v %s", p.name, err, out))
	}
	if !found {
		t.Fatalf("the restarted servers lost A's record: %v", outs)
	}
	// A lost every peer with the restart; it rejoins by itself (the
	// servers' earlier failures must not hold its dials back) and its
	// routing table fills again.
	waitFor(t, 60*time.Second, "A to rejoin the restarted servers", func() bool {
		d := a.doctor()
		return d.BootstrapConnected > 0 && d.DHTWAN > 0
	})
	b := startKith(t, "laptop-B", lab.HomeRouter("homeb", netlab.RouterConfig{}).Laptop("b"), laptopConfig(pub.boot))
	got := filepath.Join(b.files, "got.bin")
	waitFor(t, 90*time.Second, "B to get A's file after the restart", func() bool {
		_, err := b.run("get", res.Cid, "-o", got)
		return err == nil
	})
	if g, _ := os.ReadFile(got); !bytes.Equal(g, data) {
		t.Fatal("B's copy differs")
	}
}

// TestAddressChange: A's laptop moves to another network (from home to a
// café: a new address behind another router, with another public
// address). Its connections through the old address are dead; within 60 s
// it is back in touch with its group.
func TestAddressChange(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, false)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{})
	a := startKith(t, "laptop-A", homeA.Laptop("a"), inGroups(laptopConfig(pub.boot)))
	b := startKith(t, "laptop-B", lab.HomeRouter("homeb", netlab.RouterConfig{}).Laptop("b"), inGroups(laptopConfig(pub.boot)))
	makeGroup(t, "family", a, b)
	heardFrom := func(k *kith, from string, since time.Time) bool {
		var ms []api.GroupMember
		if err := k.runJSON(&ms, "group", "members", "family"); err != nil {
			return false
		}
		for _, m := range ms {
			if m.Peer == from && m.LastSeen.After(since) {
				return true
			}
		}
		return false
	}
	now := time.Now()
	waitFor(t, 60*time.Second, "A and B to hear each other's heartbeats", func() bool {
		return heardFrom(a, b.id.PeerID, now) && heardFrom(b, a.id.PeerID, now)
	})

	old := a.host.Addr()
	cafe := lab.HomeRouter("cafe", netlab.RouterConfig{})
	renumbered := a.host.Move(cafe)
	t.Logf("A moved from %s behind %s to %s behind %s", old, homeA.PublicAddr(), renumbered, cafe.PublicAddr())
	moved := time.Now()
	// Heartbeats already on their way may still arrive; one sent after
	// the move proves the group reaches A again.
	waitFor(t, 60*time.Second, "A and B to hear each other again after the move", func() bool {
		return heardFrom(a, b.id.PeerID, moved.Add(3*time.Second)) && heardFrom(b, a.id.PeerID, moved.Add(3*time.Second))
	})
	if took := time.Since(moved); took > 60*time.Second {
		t.Fatalf("reconnecting took %v", took)
	}
}
