package node

import (
	"context"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestGroupCompactsTombstones: the record of an unshare is dropped once it
// is older than the tombstone horizon, on every member and in the state on
// disk, and a sync between members does not bring it back.
func TestGroupCompactsTombstones(t *testing.T) {
	ctx := context.Background()
	const horizon = 2 * time.Second
	tm := testTimings
	tm.sync = time.Second
	start := func(dir string) *Node {
		return groupNodeTimed(t, dir, 1<<30, tm, func(c *Config) { c.Groups.TombstoneHorizon = Duration(horizon) })
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	nodes := []*Node{start(dirs[0]), start(dirs[1])}
	formGroup(t, nodes, "family")

	root := addData(t, nodes[0], randomData(64<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "both members to hold the share", func() bool {
		return holds(t, nodes[0], "family", root) && holds(t, nodes[1], "family", root)
	})
	if err := nodes[0].GroupUnshare(ctx, "family", root); err != nil {
		t.Fatal(err)
	}
	entry := func(n *Node) (present, withdrawn bool) {
		groupOf(t, n, "family").net.Read(func(s *group.State, _ *group.Liveness) {
			var in group.Intent
			in, present = s.Intent(root)
			withdrawn = in.Withdrawn
		})
		return present, withdrawn
	}
	waitFor(t, 10*time.Second, "the unshare to reach the other member", func() bool {
		p, w := entry(nodes[1])
		return !p || w
	})
	waitFor(t, 10*horizon, "the tombstone to be compacted on both members", func() bool {
		p0, _ := entry(nodes[0])
		p1, _ := entry(nodes[1])
		return !p0 && !p1
	})

	// Restarted from disk, node 1 does not have it back, and syncing with
	// node 0 (which also forgot it) does not resurrect the live intent.
	nodes[1].Close()
	nodes[1] = start(dirs[1])
	if p, _ := entry(nodes[1]); p {
		t.Fatal("the compacted tombstone came back from disk")
	}
	g := groupOf(t, nodes[1], "family")
	waitFor(t, 20*time.Second, "a complete sync with node 0", func() bool {
		return g.net.Sync(ctx, nodes[0].host.ID()) == nil
	})
	for i, n := range nodes {
		if p, w := entry(n); p && !w {
			t.Fatalf("node %d has the unshared intent live again", i)
		}
		if holds(t, n, "family", root) {
			t.Fatalf("node %d still holds the unshared root %s", i, root)
		}
	}
}
