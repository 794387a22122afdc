package groupnet

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
)

// TestShareRightAfterAJoinArrives: b joins (its first sync with a, as
// kith group join does) and a shares at once, before GossipSub has
// grafted b into the topic's mesh, so that gossip reaches no one. a syncs
// with the new member once the mesh has had time to form, and b gets the
// share: with every other sync pushed an hour away, it has no other way.
func TestShareRightAfterAJoinArrives(t *testing.T) {
	was := openResync
	openResync = time.Hour
	t.Cleanup(func() { openResync = was })
	joinThenShare(t, time.Second, time.Hour, 20*time.Second)
}

// BenchmarkShareRightAfterAJoin: how long after a share made the moment b
// joined b has it, with GossipSub's and the groups' own timings (a 1 s
// heartbeat, a sync every 5 minutes). In make bench.
func BenchmarkShareRightAfterAJoin(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		total += joinThenShare(b, time.Second, 5*time.Minute, time.Minute)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/share")
}

// joinThenShare runs what TestShareRightAfterAJoinArrives describes, with
// GossipSub's heartbeat and the groups' sync interval, and returns how
// long after the share b had it (failing after wait).
func joinThenShare(tb testing.TB, heartbeat, syncEvery, wait time.Duration) time.Duration {
	tb.Helper()
	ctx := context.Background()
	sec, _ := group.NewSecret()
	a := startMemberTimed(tb, newKey(tb), sec, nil, nil, heartbeat, syncEvery)
	b := startMemberTimed(tb, newKey(tb), sec, nil, nil, heartbeat, syncEvery)
	defer a.stop()
	defer b.stop()
	join := func(s *group.State, c *group.Clock) (group.Update, error) { return s.Join(c, "laptop", nil, 1<<30) }
	if err := a.g.Apply(ctx, join); err != nil {
		tb.Fatal(err)
	}
	if err := a.host.Connect(ctx, peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}); err != nil {
		tb.Fatal(err)
	}
	// Each takes the other for a stranger (neither lists the other) and
	// tries a sync, which fails (b has not joined) and is not tried again
	// for strangerSyncEvery: let those end first.
	waitUntil(tb, "the syncs with strangers to end", func() bool {
		return triedStranger(a.g, b.host.ID()) && triedStranger(b.g, a.host.ID())
	})
	// b joins and syncs with a, as kith group join does; a learns of b.
	if err := b.g.Apply(ctx, join); err != nil {
		tb.Fatal(err)
	}
	if err := b.g.Sync(ctx, a.host.ID()); err != nil {
		tb.Fatal(err)
	}
	if !a.g.isMember(b.host.ID()) {
		tb.Fatal("a did not learn of b at b's sync")
	}
	root := testRoot(tb, "right after the join")
	if err := a.g.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Share(c, root, "photos", 10, 2)
	}); err != nil {
		tb.Fatal(err)
	}
	shared := time.Now()
	deadline := shared.Add(wait)
	for !hasIntent(b.g, "right after the join") {
		if time.Now().After(deadline) {
			tb.Fatalf("b never heard of the share made right after it joined (%s)", wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(shared)
}

// triedStranger reports whether g tried a sync with p as a stranger and
// is done with it.
func triedStranger(g *Group, p peer.ID) bool {
	g.syncMu.Lock()
	defer g.syncMu.Unlock()
	_, tried := g.strangers[p]
	return tried && !g.syncing[p]
}

func newKey(tb testing.TB) crypto.PrivKey {
	tb.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
