package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestStatusAfterRestartIsChecking: right after a member's daemon restarts,
// a copy another member holds is not "fetching" (nothing is): until that
// member's next heartbeat says what it holds, the copy, and the share
// whose other copies are held, are "checking", with a sentence that says
// why; the heartbeat then makes them held.
func TestStatusAfterRestartIsChecking(t *testing.T) {
	ctx := context.Background()
	// Heartbeats 20 s apart: the restarted member hears none for a while.
	tm := testTimings
	tm.heartbeat, tm.grace = 20*time.Second, 10*time.Minute
	dirA := t.TempDir()
	a := groupNodeTimed(t, dirA, 1<<30, tm)
	b := groupNodeTimed(t, t.TempDir(), 1<<30, tm)
	formGroup(t, []*Node{a, b}, "family")
	root := addData(t, a, randomData(100<<10))
	if _, err := a.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "both to hold it", func() bool { return holds(t, a, "family", root) && holds(t, b, "family", root) })
	waitFor(t, time.Minute, "a to see it held", func() bool {
		st, err := a.GroupStatus(ctx, root)
		return err == nil && st[0].State == "held"
	})

	a.Close()
	a = groupNodeTimed(t, dirA, 1<<30, tm)
	waitFor(t, 30*time.Second, "a to hold its copy again", func() bool { return holds(t, a, "family", root) })
	st, err := a.GroupStatus(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	heard := false
	groupOf(t, a, "family").net.Read(func(_ *group.State, l *group.Liveness) { heard = l.Heard(b.host.ID()) })
	if heard {
		t.Skip("b's heartbeat came before the status was asked: nothing to see")
	}
	if st[0].State != "checking" || !strings.Contains(st[0].Reason, "1 of the members chosen to keep a copy has not said yet what it holds") {
		t.Errorf("status right after a restart: %s (%s), want checking", st[0].State, st[0].Reason)
	}
	for _, h := range st[0].Holders {
		if want := map[bool]string{true: "held", false: "checking"}[h.Self]; h.State != want {
			t.Errorf("holder %s (self %v): %s, want %s", h.Peer, h.Self, h.State, want)
		}
	}
	waitFor(t, time.Minute, "b's next heartbeat to make the share held", func() bool {
		st, err := a.GroupStatus(ctx, root)
		return err == nil && st[0].State == "held"
	})
}
