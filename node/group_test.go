package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
	groupnet "github.com/kith-p2p/kith/protocol/group/net"
	"github.com/kith-p2p/kith/web/api"
)

// Group timings for tests: fast enough to see grace periods and releases
// in seconds, slow enough for -race on a loaded machine.
const (
	testHeartbeat    = 100 * time.Millisecond
	testGrace        = 2 * time.Second
	testReleaseDelay = time.Second
)

// groupTimings are the group timings of a test.
type groupTimings struct {
	heartbeat, grace, release, sync, gossip time.Duration
}

// testTimings are the tests' group timings.
var testTimings = groupTimings{testHeartbeat, testGrace, testReleaseDelay, 3 * time.Second, 200 * time.Millisecond}

// groupNode starts (or restarts) a node on dir with short group timings,
// offering budget bytes to groups.
func groupNode(t testing.TB, dir string, budget int64) *Node {
	t.Helper()
	return groupNodeTimed(t, dir, budget, testTimings)
}

// groupNodeTimed is groupNode with the given timings, and then any other
// settings.
func groupNodeTimed(t testing.TB, dir string, budget int64, tm groupTimings, more ...func(*Config)) *Node {
	t.Helper()
	return newNodeAt(t, dir, groupConfig(budget, tm, more...))
}

// groupConfig is the configuration of groupNodeTimed.
func groupConfig(budget int64, tm groupTimings, more ...func(*Config)) func(*Config) {
	return func(c *Config) {
		c.Groups.HeartbeatInterval = Duration(tm.heartbeat)
		c.Groups.Grace = Duration(tm.grace)
		c.Groups.ReleaseDelay = Duration(tm.release)
		c.Groups.SyncInterval = Duration(tm.sync)
		c.Groups.GossipHeartbeat = Duration(tm.gossip)
		c.Groups.BudgetMax = budget
		c.Groups.BudgetPercent = 100
		for _, f := range more {
			f(c)
		}
	}
}

// groupOf returns n's group called name.
func groupOf(t testing.TB, n *Node, name string) *localGroup {
	t.Helper()
	g, err := n.groups.find(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// holds reports whether n counts root as its copy in the group and has
// every block of it.
func holds(t testing.TB, n *Node, name string, root cid.Cid) bool {
	g := groupOf(t, n, name)
	if !g.rep.Holds(root) {
		return false
	}
	missing, err := missingBlocks(context.Background(), n.store, root, nil)
	return err == nil && missing == 0
}

// groupPinned reports whether any group keeps a pin record on root on n.
func groupPinned(t testing.TB, n *Node, root cid.Cid) bool {
	t.Helper()
	ps, err := n.store.PinsOf(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := groupPin(ps)
	return ok
}

// userPinned returns the user's pin on root on n.
func userPinned(t testing.TB, n *Node, root cid.Cid) (blockstore.Pin, error) {
	t.Helper()
	return n.store.GetPin(context.Background(), root, blockstore.OwnerUser)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// formGroup makes nodes[0] create a group the others join, and waits until
// every node sees every member.
func formGroup(t testing.TB, nodes []*Node, name string) {
	t.Helper()
	ctx := context.Background()
	inv, err := nodes[0].GroupCreate(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		if _, err := n.GroupJoin(ctx, inv.Token); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, time.Duration(20+2*len(nodes))*time.Second, "every node to see every member", func() bool {
		for _, n := range nodes {
			ms, err := n.GroupMembers(ctx, name)
			if err != nil || len(ms) != len(nodes) {
				return false
			}
		}
		return true
	})
}

func countHolders(t testing.TB, nodes []*Node, root cid.Cid) (n int, who []int) {
	for i, nd := range nodes {
		if nd != nil && holds(t, nd, "family", root) {
			n++
			who = append(who, i)
		}
	}
	return n, who
}

func TestGroupKeepsCopies(t *testing.T) {
	size := 10
	if testing.Short() {
		size = 5
	}
	ctx := context.Background()
	dirs := make([]string, size)
	nodes := make([]*Node, size)
	for i := range nodes {
		dirs[i] = t.TempDir()
		nodes[i] = groupNode(t, dirs[i], 1<<30)
	}
	start := time.Now()
	formGroup(t, nodes, "family")
	t.Logf("%d nodes formed a group in %v", size, time.Since(start))

	root := addData(t, nodes[0], randomData(300<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 3}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFor(t, 30*time.Second, "3 holders", func() bool { c, _ := countHolders(t, nodes, root); return c == 3 })
	_, who := countHolders(t, nodes, root)
	t.Logf("3 copies on %v in %v", who, time.Since(start))
	st, err := nodes[0].GroupStatus(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "status held", func() bool {
		st, err = nodes[0].GroupStatus(ctx, root)
		return err == nil && st[0].State == "held"
	})
	for _, h := range st[0].Holders { // the sharer holds a copy, and only it is "this device"
		if want := h.Peer == nodes[0].host.ID().String(); h.Self != want {
			t.Errorf("holder %s: self = %v, want %v", h.Peer, h.Self, want)
		}
	}

	// Stop a holder (not the sharer): after the grace period another member
	// takes its copy.
	victim := who[0]
	if victim == 0 {
		victim = who[1]
	}
	nodes[victim].Close()
	nodes[victim] = nil
	start = time.Now()
	waitFor(t, 30*time.Second, "3 holders after one stopped", func() bool { c, _ := countHolders(t, nodes, root); return c == 3 })
	_, who = countHolders(t, nodes, root)
	t.Logf("copy moved after %v (grace %v): holders %v", time.Since(start), testGrace, who)

	// Restart it: it comes back with its copy, and one stand-in releases.
	nodes[victim] = groupNode(t, dirs[victim], 1<<30)
	start = time.Now()
	waitFor(t, 30*time.Second, "the restarted holder to hold again", func() bool { return holds(t, nodes[victim], "family", root) })
	ok := false
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && !ok; time.Sleep(20 * time.Millisecond) {
		c, _ := countHolders(t, nodes, root)
		ok = c == 3
	}
	if !ok {
		_, who = countHolders(t, nodes, root)
		for _, i := range who {
			t.Logf("node %d sees: %s", i, dumpViews(groupOf(t, nodes[i], "family"), root))
		}
		t.Fatalf("not back to 3 holders: %v", who)
	}
	_, who = countHolders(t, nodes, root)
	t.Logf("back to 3 holders %v in %v", who, time.Since(start))
	// No flapping: the holders stay the same for several release delays.
	for end := time.Now().Add(3 * testReleaseDelay); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, w := countHolders(t, nodes, root); c != 3 || fmt.Sprint(w) != fmt.Sprint(who) {
			// What a holder that came (back) saw: a member ranked above it
			// silent for longer than the grace period makes it stand in.
			for _, i := range w {
				if !slices.Contains(who, i) {
					t.Logf("node %d (holds now) sees: %s", i, dumpViews(groupOf(t, nodes[i], "family"), root))
				}
			}
			t.Fatalf("holders changed from %v to %v", who, w)
		}
	}

	// Unshare: every replica is released and collected.
	if err := nodes[0].GroupUnshare(ctx, "family", root); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every replica released", func() bool {
		for _, n := range nodes[1:] {
			if groupPinned(t, n, root) {
				return false
			}
		}
		return true
	})
	for _, n := range nodes[1:] {
		if _, err := n.GC(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if ok, _ := n.store.Has(ctx, root); ok {
			t.Fatalf("%s still has the root after gc", n.host.ID())
		}
	}
	if _, err := userPinned(t, nodes[0], root); err != nil {
		t.Fatalf("the sharer's own pin was touched: %v", err)
	}
}

func TestGroupBudgetsAndOutsiders(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{
		groupNode(t, t.TempDir(), 1<<20),
		groupNode(t, t.TempDir(), 1<<20),
		groupNode(t, t.TempDir(), 1<<10), // too small for anything
	}
	formGroup(t, nodes, "family")

	root := addData(t, nodes[0], randomData(200<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 3}); err != nil {
		t.Fatal(err)
	}
	huge := addData(t, nodes[1], randomData(1<<20+1))
	if _, err := nodes[1].GroupShare(ctx, "family", huge, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the two members with room to hold it", func() bool {
		return holds(t, nodes[0], "family", root) && holds(t, nodes[1], "family", root)
	})
	for _, c := range []cid.Cid{root, huge} {
		var st []api.GroupStatus
		waitFor(t, 10*time.Second, "under-replicated status", func() bool {
			s, err := nodes[2].GroupStatus(ctx, c)
			st = s
			return err == nil && s[0].State == "under-replicated" && s[0].Reason != ""
		})
		t.Logf("%s: %s (%s)", c, st[0].State, st[0].Reason)
	}
	if holds(t, nodes[2], "family", root) || holds(t, nodes[2], "family", huge) {
		t.Fatal("the member with no room holds a copy")
	}

	// An outsider who learnt the topic publishes junk and dials the sync
	// protocol: nothing changes.
	g := groupOf(t, nodes[0], "family")
	digestOf := func(n *Node) (d [32]byte) {
		groupOf(t, n, "family").net.Read(func(s *group.State, _ *group.Liveness) { d = s.Digest() })
		return d
	}
	// Let the members agree first, so any later change is the outsider's.
	waitFor(t, 30*time.Second, "the members to agree on the group state", func() bool {
		d0 := digestOf(nodes[0])
		for _, n := range nodes[1:] {
			if digestOf(n) != d0 {
				return false
			}
		}
		return true
	})
	before := digestOf(nodes[0])
	h, ps := outsider(t, nodes...)
	topic, err := ps.Join(g.secret.Topic())
	if err != nil {
		t.Fatal(err)
	}
	defer topic.Close()
	for range 5 {
		_ = topic.Publish(ctx, []byte("junk junk junk junk junk junk junk junk junk junk"))
	}
	s, err := h.NewStream(ctx, nodes[0].host.ID(), groupnet.SyncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	id := g.id
	_, _ = s.Write(append(id[:], []byte("\x10junk junk junk junk")...))
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err == nil {
		t.Fatal("the sync handler answered an outsider")
	}
	s.Reset()
	time.Sleep(5 * testHeartbeat) // let the junk reach everyone
	if after := digestOf(nodes[0]); before != after {
		t.Fatal("the outsider changed the group state")
	}
	if ms, _ := nodes[0].GroupMembers(ctx, "family"); len(ms) != 3 {
		t.Fatalf("%d members after the outsider", len(ms))
	}
}

// outsider is a libp2p host running GossipSub, not in any group,
// connected to the given nodes; both stop when the test ends.
func outsider(t *testing.T, to ...*Node) (host.Host, *pubsub.PubSub) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range to {
		if err := h.Connect(ctx, peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	return h, ps
}

// dumpViews says what g knows of every member's liveness and holdings of
// root, for failure messages.
func dumpViews(g *localGroup, root cid.Cid) string {
	var out string
	now := time.Now()
	g.net.Read(func(s *group.State, l *group.Liveness) {
		for _, v := range l.Views(s) {
			out += fmt.Sprintf("\n  %s seen %v ago holds=%v", v.ID.ShortString(), now.Sub(v.LastSeen).Round(time.Millisecond), v.Holds.Has(root))
		}
	})
	return out
}

// TestUserPinOfReplicaIsKept (the lost-pin case): a member pins (kith pin
// add, no name) a root a group placed on it. The user's pin is added beside
// the group's, named after the share, and kept, blocks and all, when the
// share is withdrawn and the group releases its copy.
func TestUserPinOfReplicaIsKept(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30)}
	formGroup(t, nodes, "family")
	root := addData(t, nodes[0], randomData(200<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a replica on the second member", func() bool { return holds(t, nodes[1], "family", root) })
	if _, err := nodes[1].PinAdd(ctx, root, api.PinOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := userPinned(t, nodes[1], root)
	if err != nil || p.Name == "" || !groupPinned(t, nodes[1], root) {
		t.Fatalf("after the user pinned it: the user's pin %+v, %v, the group's record %v; want both, the user's named after the share", p, err, groupPinned(t, nodes[1], root))
	}
	// What a group keeps stays out of the DHT, pinned by a member too; the
	// sharer's pin, added (announced) before it was shared, stays as it was.
	if !p.Private {
		t.Error("the member's pin of the group's copy is announced in the DHT")
	}
	if p, err := userPinned(t, nodes[0], root); err != nil || p.Private {
		t.Errorf("the sharer's own earlier pin: %+v, %v; want it as it was, announced", p, err)
	}
	if err := nodes[0].GroupUnshare(ctx, "family", root); err != nil {
		t.Fatal(err)
	}
	// The group lets go of the root (it no longer counts it as a copy of
	// a share); the user's pin stays.
	waitFor(t, 30*time.Second, "the group to let go", func() bool {
		return !holds(t, nodes[1], "family", root) && !groupPinned(t, nodes[1], root)
	})
	if _, err := nodes[1].GC(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := userPinned(t, nodes[1], root); err != nil {
		t.Fatalf("the user's pin was released with the group's copy: %v", err)
	}
	if ok, _ := nodes[1].store.Has(ctx, root); !ok {
		t.Fatal("the user's pinned root was collected")
	}
}

// TestGroupOutsiderLearnsNoMembers: a peer connected to one member, which
// subscribes to the group's topic (members announce it to every peer they
// are connected to), receives none of the group's messages, so it cannot
// learn the members from their signers, while the members hear each
// other's heartbeats.
func TestGroupOutsiderLearnsNoMembers(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30)}
	formGroup(t, nodes, "family")

	_, ps := outsider(t, nodes[0])
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	topic, err := ps.Join(groupOf(t, nodes[0], "family").secret.Topic())
	if err != nil {
		t.Fatal(err)
	}
	defer topic.Close()
	sub, err := topic.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	var heard atomic.Int32
	var signers sync.Map
	go func() {
		for {
			m, err := sub.Next(octx)
			if err != nil {
				return
			}
			heard.Add(1)
			signers.Store(m.GetFrom(), true)
		}
	}()

	// Several heartbeats of every member after the outsider subscribed:
	// the second member has heard each of the others since then.
	since := time.Now().Add(3 * testHeartbeat)
	waitFor(t, 30*time.Second, "heartbeats of every member, heard by a member", func() bool {
		fresh := 0
		groupOf(t, nodes[1], "family").net.Read(func(s *group.State, l *group.Liveness) {
			for _, v := range l.Views(s) {
				if v.ID != nodes[1].host.ID() && v.LastSeen.After(since) {
					fresh++
				}
			}
		})
		return fresh == 2
	})
	if n := heard.Load(); n != 0 {
		var who []string
		signers.Range(func(k, _ any) bool { who = append(who, k.(peer.ID).ShortString()); return true })
		t.Fatalf("the outsider received %d group messages, signed by %v", n, who)
	}
}

// TestShareOfAnotherGroupsReplica: sharing in one group a root that another
// group placed here adds the user's pin, named after the share, beside the
// other group's copy.
func TestShareOfAnotherGroupsReplica(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30)}
	formGroup(t, nodes, "family")
	formGroup(t, nodes, "work")
	root := addData(t, nodes[0], randomData(100<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "family's replica on the second member", func() bool { return holds(t, nodes[1], "family", root) })
	in, err := nodes[1].GroupShare(ctx, "work", root, api.ShareOptions{Copies: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := userPinned(t, nodes[1], root)
	if err != nil || p.Name != in.Name || in.Name == "" || !p.Private {
		t.Fatalf("after sharing it in work, the user's pin is %+v, %v (share named %q); want the user's, named after the share, private", p, err, in.Name)
	}
	if !groupPinned(t, nodes[1], root) {
		t.Fatal("sharing it in work took family's copy")
	}
	// pin ls shows the root once, as the user's pin that both groups keep;
	// unpinned, it is the groups' replica, and not the user's to unpin.
	entry := func() api.Pin {
		pins, err := nodes[1].Pins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var found []api.Pin
		for _, p := range pins {
			if p.Cid == root.String() {
				found = append(found, p)
			}
		}
		if len(found) != 1 {
			t.Fatalf("pin ls lists the root %d times: %+v", len(found), found)
		}
		return found[0]
	}
	waitFor(t, 30*time.Second, "both groups keeping the root", func() bool { return fmt.Sprint(entry().Groups) == "[family work]" })
	if e := entry(); e.Replica || e.Name != in.Name {
		t.Fatalf("the user's pin kept by two groups shows as %+v", e)
	}
	if err := nodes[1].PinRm(ctx, root); err != nil {
		t.Fatal(err)
	}
	if e := entry(); !e.Replica || e.Group == "" || fmt.Sprint(e.Groups) != "[family work]" {
		t.Fatalf("after pin rm, the groups' copy shows as %+v", e)
	}
	err = nodes[1].PinRm(ctx, root)
	if want := "is not your pin: your groups family and work keep a copy here"; err == nil || !strings.Contains(api.Sentence(err), want) {
		t.Fatalf("pin rm of the groups' copy: %v; want %q", err, want)
	}
}

// TestShareOfUnpinnedContentIsPrivate: sharing content held here but not
// pinned (kith add --no-pin, or blocks fetched by kith get) makes the
// user's pin, private: what a group keeps is not announced in the DHT.
func TestShareOfUnpinnedContentIsPrivate(t *testing.T) {
	ctx := context.Background()
	n := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{n}, "family")
	res, err := n.Add(ctx, "notes.txt", files.NewBytesFile(randomData(10<<10)), api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := cid.MustParse(res.Cid)
	if _, err := n.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	if p, err := userPinned(t, n, root); err != nil || !p.Private {
		t.Fatalf("the pin the share made: %+v, %v; want the user's, private", p, err)
	}
}

// TestPinOfAGroupsShareIsPrivate: a member pinning what its group shares
// but keeps elsewhere (kith pin add, the web UI's Keep a copy here) pins
// it private. The member offers the group one byte, so the group keeps
// nothing there.
func TestPinOfAGroupsShareIsPrivate(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1)}
	formGroup(t, nodes, "family")
	root := addData(t, nodes[0], randomData(50<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the share heard by the other member", func() bool { _, err := nodes[1].GroupStatus(ctx, root); return err == nil })
	if groupPinned(t, nodes[1], root) {
		t.Fatal("the group placed its one copy on the member that did not share it")
	}
	if _, err := nodes[1].PinAdd(ctx, root, api.PinOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if p, err := userPinned(t, nodes[1], root); err != nil || !p.Private {
		t.Fatalf("the member's pin of the group's share: %+v, %v; want it private", p, err)
	}
}

// TestDoctorNamesAnnouncedShares: content added announced and then shared
// in a group (what every share was before shares were private) is named by
// the doctor until pin add --private makes it private.
func TestDoctorNamesAnnouncedShares(t *testing.T) {
	ctx := context.Background()
	n := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{n}, "family")
	root := addData(t, n, randomData(10<<10)) // announced
	if _, err := n.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	announced := func() bool {
		d, err := n.Doctor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Checks {
			if strings.Contains(c.Text, "your groups share is announced") && strings.Contains(c.Fix, root.String()) {
				return true
			}
		}
		return false
	}
	waitFor(t, 30*time.Second, "the doctor to name the group share announced in the DHT", announced)
	if _, err := n.PinAdd(ctx, root, api.PinOptions{Private: new(true)}, nil); err != nil {
		t.Fatal(err)
	}
	if announced() {
		t.Fatal("after pin add --private the doctor still names the share")
	}
}
