package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestReconnectedMemberHearsSoon: when two members connect again (a
// restart, a network back), each hears the other's heartbeat, and so what
// it holds, within about a quarter of the heartbeat interval, not up to a
// whole interval later. The test reconnects them just after a heartbeat,
// so the next regular one is an interval away.
func TestReconnectedMemberHearsSoon(t *testing.T) {
	const every = 12 * time.Second
	tm := testTimings
	tm.heartbeat, tm.grace = every, time.Minute
	nodes := []*Node{groupNodeTimed(t, t.TempDir(), 1<<30, tm), groupNodeTimed(t, t.TempDir(), 1<<30, tm)}
	formGroup(t, nodes, "family")
	a, b := nodes[0], nodes[1]
	lastSeen := func() time.Time { // when b last heard a's heartbeat
		var at time.Time
		groupOf(t, b, "family").net.Read(func(_ *group.State, l *group.Liveness) { at = l.LastSeen(a.host.ID()) })
		return at
	}
	// Wait for one of a's regular heartbeats to reach b.
	before := lastSeen()
	waitFor(t, 2*every, "a heartbeat of a", func() bool { return lastSeen().After(before) })
	heard := lastSeen()

	// Cut the connection and connect again at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info := peer.AddrInfo{ID: a.host.ID(), Addrs: a.host.Addrs()}
	if err := b.host.Network().ClosePeer(a.host.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.host.Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	waitFor(t, every*2/3, "a heartbeat after the reconnection, before the next regular one", func() bool { return lastSeen().After(heard) })
	t.Logf("heard again %v after the previous heartbeat (interval %v)", lastSeen().Sub(heard).Round(time.Millisecond), every)
}

// TestStoppedMemberShowsOffline: a daemon that stops says goodbye, and the
// other members show it offline at once (not alive until its silence makes
// it suspect); its copies still count until the grace period.
func TestStoppedMemberShowsOffline(t *testing.T) {
	// Silent for 3 heartbeats (6 s) b would turn suspect, never offline.
	tm := testTimings
	tm.heartbeat, tm.grace = 2*time.Second, time.Minute
	nodes := []*Node{groupNodeTimed(t, t.TempDir(), 1<<30, tm), groupNodeTimed(t, t.TempDir(), 1<<30, tm)}
	formGroup(t, nodes, "family")
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	// Once a heartbeat of b's reached a, the gossip mesh between them is
	// up (what is published in the first moments after a join may find
	// no path yet, and a member stops long after it joined).
	lastSeen := func() time.Time {
		var at time.Time
		groupOf(t, a, "family").net.Read(func(_ *group.State, l *group.Liveness) { at = l.LastSeen(b.host.ID()) })
		return at
	}
	joined := lastSeen()
	waitFor(t, 3*tm.heartbeat, "a heartbeat of b", func() bool { return lastSeen().After(joined) })
	health := func() string {
		ms, err := a.GroupMembers(ctx, "family")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Peer == b.host.ID().String() {
				return m.Health
			}
		}
		return "not a member"
	}
	if h := health(); h != "alive" {
		t.Fatalf("b is %s before it stops", h)
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 4*time.Second, "b offline", func() bool { return health() == "offline" })
	t.Logf("offline %v after b stopped", time.Since(start).Round(time.Millisecond))
}

// TestJoinerHearsHoldingsSoon: a device that joins learns what the members
// it is connected to hold within about a quarter of the heartbeat
// interval: they beat early for it. The join comes just after the
// inviter's heartbeat, so its next regular one is an interval away.
func TestJoinerHearsHoldingsSoon(t *testing.T) {
	const every = 12 * time.Second
	tm := testTimings
	tm.heartbeat, tm.grace = every, time.Minute
	a := groupNodeTimed(t, t.TempDir(), 1<<30, tm)
	b := groupNodeTimed(t, t.TempDir(), 1<<30, tm)
	ctx := context.Background()
	inv, err := a.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	root := addData(t, a, randomData(10<<10))
	if _, err := a.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	beat := func() time.Time { // a's last heartbeat, as a itself received it
		var at time.Time
		groupOf(t, a, "family").net.Read(func(_ *group.State, l *group.Liveness) { at = l.LastSeen(a.host.ID()) })
		return at
	}
	holds := func() bool { // b's view: a holds root
		ok := false
		groupOf(t, b, "family").net.Read(func(s *group.State, l *group.Liveness) {
			for _, v := range l.Views(s) {
				if v.ID == a.host.ID() {
					ok = v.Holds.Has(root)
				}
			}
		})
		return ok
	}
	// a heartbeat of a that lists root
	waitFor(t, 2*every, "a's heartbeat", func() bool {
		var held bool
		groupOf(t, a, "family").net.Read(func(s *group.State, l *group.Liveness) {
			for _, v := range l.Views(s) {
				held = held || (v.ID == a.host.ID() && v.Holds.Has(root))
			}
		})
		return held
	})
	last := beat()
	waitFor(t, 2*every, "a's next heartbeat", func() bool { return beat().After(last) })
	start := time.Now()
	if _, err := b.GroupJoin(ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	waitFor(t, every*2/3, "b to hear what a holds, before a's next regular heartbeat", holds)
	t.Logf("b heard a's holdings %v after joining (interval %v)", time.Since(start).Round(time.Millisecond), every)
}
