package node

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestWatchGroupsTellsChanges: a WatchGroups watcher (the web UI's
// "groups" event) hears of a group opened, of a member joining, of a copy
// the group places here, of another member heard to hold a copy, and of
// a group left.
func TestWatchGroupsTellsChanges(t *testing.T) {
	ctx := context.Background()
	a, b := groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30)
	var onA, onB atomic.Int64
	stopA := a.WatchGroups(func() { onA.Add(1) })
	defer stopA()
	stopB := b.WatchGroups(func() { onB.Add(1) })
	defer stopB()
	told := func(what string, n *atomic.Int64, act func()) {
		t.Helper()
		before := n.Load()
		act()
		waitFor(t, 30*time.Second, what, func() bool { return n.Load() > before })
	}

	told("a group created", &onA, func() { formGroup(t, []*Node{a}, "family") })
	inv, err := a.GroupInvite(ctx, "family", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	told("b's join, on a", &onA, func() {
		if _, err := b.GroupJoin(ctx, inv.Token); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, 30*time.Second, "a knows b", func() bool { ms, _ := a.GroupMembers(ctx, "family"); return len(ms) == 2 })

	root := addData(t, a, randomData(64<<10))
	beforeA := onA.Load()
	told("the copy placed on b, on b", &onB, func() {
		if _, err := a.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "b's copy", func() bool { return groupPinned(t, b, root) })
	})
	// a hears b's heartbeat with the new copy.
	waitFor(t, 30*time.Second, "a status held", func() bool {
		st, err := a.GroupStatus(ctx, root)
		return err == nil && st[0].State == "held"
	})
	if onA.Load() == beforeA {
		t.Fatal("a's watcher was not told of the share or of b's copy")
	}
	told("b left, on b", &onB, func() {
		if err := b.GroupLeave(ctx, "family"); err != nil {
			t.Fatal(err)
		}
	})
}
