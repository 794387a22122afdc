package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
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
