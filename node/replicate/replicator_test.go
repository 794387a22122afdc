package replicate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

func TestPinOwner(t *testing.T) {
	var id, other group.GroupID
	copy(id[:], "0123456789abcdef0123456789abcdef")
	copy(other[:], "fedcba9876543210fedcba9876543210")
	want := blockstore.Owner("group:" + id.String() + ":album")
	if got := PinOwner(id, "album"); got != want {
		t.Fatalf("PinOwner = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		owner blockstore.Owner
		want  bool
	}{
		{want, true},
		{PinOwner(id, "trip: rome"), true},
		{PinOwner(id, ""), true},
		{PinOwner(other, "album"), false},
		{blockstore.OwnerUser, false},
	} {
		if got := OwnedBy(blockstore.Pin{Owner: tc.owner}, id); got != tc.want {
			t.Errorf("OwnedBy(%q) = %v, want %v", tc.owner, got, tc.want)
		}
	}
}

// A root this member is chosen for is fetched and pinned as the group's
// own record, named after the share, and then counts in the heartbeat.
func TestChosenRootIsFetchedAndPinned(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2) // two copies in a group of two: we are chosen
	f.rep.Tick(f.ctx)
	f.waitFor("the replica", func() bool { return f.rep.Holds(root) })
	p, ok := f.pin(root)
	if !ok || p.Owner != PinOwner(f.id, "album") || p.Name != "album" || p.Size != 1000 {
		t.Fatalf("pin = %+v, %v; want the group's record on album", p, ok)
	}
	if _, ok := f.userPin(root); ok {
		t.Fatal("the group's copy made a pin of the user's")
	}
	if has, _ := f.node.store.Has(f.ctx, root); !has {
		t.Fatal("the replica's block is not in the store")
	}
	if f.rep.Fetching(root) || f.rep.FetchErr(root) != "" {
		t.Fatalf("fetching %v, err %q", f.rep.Fetching(root), f.rep.FetchErr(root))
	}
	used, roots := f.rep.Holdings()
	if used != 1000 || !slices.Equal(roots, []cid.Cid{root}) {
		t.Fatalf("holdings = %d %v", used, roots)
	}
	// A restart finds the replica again from its pin.
	again := New(f.rep.cfg)
	if err := again.Load(f.ctx); err != nil || !again.Holds(root) {
		t.Fatalf("after Load: holds %v, err %v", again.Holds(root), err)
	}
}

// TestReplicaKeepsMeta: a holder fetches a share's file of modes and times
// with it and its record keeps both (a mirror gets them from a holder,
// the sharer gone); a gc leaves both, and the release lets both go.
func TestReplicaKeepsMeta(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	root, meta := f.root(1, 1000), f.root(2, 10)
	f.net.as(f.t, f.other, func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.ShareWithMeta(c, root, meta, "album", 1000, 2)
	})
	f.rep.Tick(f.ctx)
	f.waitFor("the replica", func() bool { return f.rep.Holds(root) })
	p, ok := f.pin(root)
	if !ok || !p.Meta.Equals(meta) {
		t.Fatalf("pin = %+v, %v; want the meta %s kept with it", p, ok, meta)
	}
	if _, err := blockstore.CollectGarbage(f.ctx, f.node.store, f.node.store, f.node.gcl, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []cid.Cid{root, meta} {
		if has, _ := f.node.store.Has(f.ctx, c); !has {
			t.Fatalf("%s is not in the store after a gc", c)
		}
	}
	f.unshare(root)
	f.waitFor("the release", func() bool { return !f.rep.Holds(root) })
	if _, err := blockstore.CollectGarbage(f.ctx, f.node.store, f.node.store, f.node.gcl, nil); err != nil {
		t.Fatal(err)
	}
	if has, _ := f.node.store.Has(f.ctx, meta); has {
		t.Fatal("the meta outlived the released replica")
	}
}

// TestReplicaMetaFollowsTheIntent: a copy adopted from the user's pin
// fetches its meta after; the same root shared again with a new meta (a
// file touched) has our record keep the new one; a meta no one has is
// tried again, not every tick.
func TestReplicaMetaFollowsTheIntent(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	root, meta1, meta2 := f.root(1, 1000), f.root(2, 10), f.root(3, 10)
	if err := f.node.store.AddPin(f.ctx, blockstore.Pin{Cid: root, Name: "album", Size: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := f.node.store.Put(f.ctx, mustGet(t, f.node.remote, root)); err != nil {
		t.Fatal(err)
	}
	shareMeta := func(meta cid.Cid) {
		f.net.as(f.t, f.other, func(s *group.State, c *group.Clock) (group.Update, error) {
			return s.ShareWithMeta(c, root, meta, "album", 1000, 2)
		})
	}
	shareMeta(meta1)
	hasMeta := func(meta cid.Cid) func() bool {
		return func() bool {
			p, ok := f.pin(root)
			has, _ := f.node.store.Has(f.ctx, meta)
			return ok && p.Meta.Equals(meta) && has
		}
	}
	f.waitFor("the adopted copy to keep its meta", hasMeta(meta1))
	shareMeta(meta2)
	f.waitFor("the copy to keep the new meta", hasMeta(meta2))

	// A meta that cannot be fetched: tried once, then after metaRetry.
	missing := testMetaCID(t, "nowhere")
	shareMeta(missing)
	f.waitFor("a try of the missing meta", func() bool {
		f.rep.mu.Lock()
		defer f.rep.mu.Unlock()
		_, tried := f.rep.metas[root]
		return tried && f.node.fetchCount() > 0
	})
	before := f.node.fetchCount()
	for range 5 {
		f.rep.Replan(f.ctx)
	}
	if got := f.node.fetchCount(); got > before+1 {
		t.Fatalf("%d fetches of a meta no one has in 5 plans, want at most one", got-before)
	}
	if p, _ := f.pin(root); !p.Meta.Equals(meta2) {
		t.Fatalf("the record lost its meta: %s", p.Meta)
	}
}

// A root the user pinned is already here: the group adds its own record
// beside the user's without fetching, and never removes or changes the
// user's, by a release or by leaving the group.
func TestUserPinCountsAndIsKept(t *testing.T) {
	cfg := group.TestConfig()
	cfg.ReleaseDelay = 0
	f := newFixture(t, cfg, 1<<30)
	root := f.root(1, 1000)
	user := blockstore.Pin{Cid: root, Name: "my album", Size: 1000}
	if err := f.node.store.AddPin(f.ctx, user); err != nil {
		t.Fatal(err)
	}
	f.share(root, "album", 1000, 2)
	f.rep.Replan(f.ctx)
	if _, ok := f.pin(root); !f.rep.Holds(root) || !ok || f.rep.Fetching(root) {
		t.Fatalf("holds %v, group record %v, fetching %v: want the group's record beside the user's", f.rep.Holds(root), ok, f.rep.Fetching(root))
	}
	f.unshare(root)
	f.waitFor("the release", func() bool { return !f.rep.Holds(root) })
	if _, ok := f.pin(root); ok {
		t.Fatal("the group's record stays after the release")
	}
	if p, ok := f.userPin(root); !ok || p.Name != "my album" {
		t.Fatalf("the user's pin is %+v, %v after the release", p, ok)
	}
	f.share(root, "album", 1000, 2)
	f.rep.Replan(f.ctx)
	if !f.rep.Stop(f.ctx) {
		t.Fatal("Stop reported the group already stopped")
	}
	if p, ok := f.userPin(root); !ok || p.Name != "my album" {
		t.Fatalf("the user's pin is %+v, %v after leaving", p, ok)
	}
	if _, ok := f.pin(root); ok {
		t.Fatal("the group's record stays after leaving")
	}
	if f.rep.Stop(f.ctx) {
		t.Fatal("a second Stop reported stopping the group")
	}
	f.node.get(func(n *node) {
		if n.fetches != 0 {
			t.Errorf("%d fetches of a root the user holds", n.fetches)
		}
		if slices.Contains(n.stopped, root) {
			t.Error("releasing the group's copy stopped announcing the user's pin")
		}
	})
}

// refresh follows the records: the user pinning or unpinning the root
// leaves the group's copy alone; the group's record removed behind the
// loop's back means we no longer hold it.
func TestRefreshFollowsThePins(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.waitFor("the replica", func() bool { return f.rep.Holds(root) })

	if err := f.node.store.AddPin(f.ctx, blockstore.Pin{Cid: root, Name: "mine"}); err != nil {
		t.Fatal(err)
	}
	if err := f.node.store.RemovePin(f.ctx, root, blockstore.OwnerUser); err != nil {
		t.Fatal(err)
	}
	f.rep.refresh(f.ctx)
	if !f.rep.Holds(root) {
		t.Fatal("the user's unpin took the group's copy")
	}
	if err := f.node.store.RemovePin(f.ctx, root, PinOwner(f.id, "album")); err != nil {
		t.Fatal(err)
	}
	f.rep.refresh(f.ctx)
	if f.rep.Holds(root) {
		t.Fatal("a root without the group's record still counts as our copy")
	}
}

// A replica goes once the plan has found it surplus for the release delay;
// the release removes only this group's record, and stops announcing the
// root only when the user does not pin it.
func TestRelease(t *testing.T) {
	var otherGroup group.GroupID
	copy(otherGroup[:], "another group that keeps it too..")
	for _, tc := range []struct {
		name     string
		delay    time.Duration
		others   []blockstore.Owner // other owners of the root
		released bool
		stops    bool // stops providing
	}{
		{"surplus for the delay", 0, nil, true, true},
		{"surplus, within the delay", time.Hour, nil, false, false},
		{"kept by another group", 0, []blockstore.Owner{PinOwner(otherGroup, "album")}, true, true},
		{"pinned by the user", 0, []blockstore.Owner{blockstore.OwnerUser}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := group.TestConfig()
			cfg.ReleaseDelay = tc.delay
			f := newFixture(t, cfg, 1<<30)
			root := f.root(1, 1000)
			f.share(root, "album", 1000, 2)
			f.waitFor("the replica", func() bool { return f.rep.Holds(root) })
			for _, o := range tc.others {
				if err := f.node.store.AddPin(f.ctx, blockstore.Pin{Cid: root, Owner: o, Name: "album"}); err != nil {
					t.Fatal(err)
				}
			}
			f.unshare(root)
			f.rep.Replan(f.ctx)
			f.rep.Replan(f.ctx)
			_, pinned := f.pin(root)
			var stopped bool
			f.node.get(func(n *node) { stopped = slices.Contains(n.stopped, root) })
			if pinned == tc.released || stopped != tc.stops {
				t.Fatalf("group record %v, stopped providing %v; want released %v, stopped %v", pinned, stopped, tc.released, tc.stops)
			}
			for _, o := range tc.others {
				if _, err := f.node.store.GetPin(f.ctx, root, o); err != nil {
					t.Fatalf("the release took %q's record: %v", o, err)
				}
			}
			// Out of this group's replica set either way, once released by the plan.
			if tc.delay == 0 && f.rep.Holds(root) {
				t.Fatal("a released root still counts as our copy")
			}
		})
	}
}

// The budget offered follows the free disk space, ignoring small changes
// but for one the user made (OfferChanged).
func TestBudgetFollowsFreeDisk(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name         string
		budget, free int64 // configured budget, free disk space
		offered      int64 // in the member record before
		userChanged  bool  // the configured budget was just changed
		want         int64
	}{
		{"disk fills", 10 * gib, 2 * gib, 10 * gib, false, 2 * gib},
		{"disk freed", 10 * gib, 50 * gib, 2 * gib, false, 10 * gib},
		{"small change ignored", 10 * gib, 10*gib - 100<<20, 10 * gib, false, 10 * gib},
		{"unchanged", 10 * gib, 20 * gib, 10 * gib, false, 10 * gib},
		{"a small change the user made", 9 * gib, 20 * gib, 10 * gib, true, 9 * gib},
		{"none offered", 0, 20 * gib, 10 * gib, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, group.TestConfig(), tc.offered)
			f.node.set(func(n *node) { n.budget, n.free = tc.budget, tc.free })
			if tc.userChanged {
				f.rep.OfferChanged()
			}
			f.rep.Tick(f.ctx)
			var got int64
			f.net.Read(func(s *group.State, _ *group.Liveness) {
				m, _ := s.Member(f.self)
				got = m.Budget
			})
			if got != tc.want {
				t.Fatalf("budget offered = %d, want %d", got, tc.want)
			}
		})
	}
}

// A full disk plans nothing more: no fetch starts for a root beyond the budget.
func TestNoFetchBeyondBudget(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 10<<30)
	f.node.set(func(n *node) { n.free = 500 })
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.rep.Tick(f.ctx) // the budget shrinks to the free space, then the plan
	if f.rep.Fetching(root) || f.rep.Holds(root) {
		t.Fatal("a root larger than the free space is being fetched")
	}
	for _, a := range f.rep.Plan().Assignments {
		if a.Chosen(f.self) {
			t.Fatalf("chosen for %s with a budget of 500 bytes", a.Intent.Root)
		}
	}
}

// A fetch the plan no longer wants (the share was withdrawn) is cancelled,
// and nothing is pinned.
func TestUnwantedFetchIsCancelled(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	f.node.set(func(n *node) { n.hang = true })
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.rep.Replan(f.ctx)
	if !f.rep.Fetching(root) {
		t.Fatal("no fetch started")
	}
	f.unshare(root)
	f.rep.Replan(f.ctx)
	f.waitFor("the fetch to stop", func() bool { return !f.rep.Fetching(root) })
	if _, ok := f.pin(root); ok || f.rep.Holds(root) {
		t.Fatal("the unshared root was pinned")
	}
	if e := f.rep.FetchErr(root); e != "" {
		t.Fatalf("a cancelled fetch reports an error: %q", e)
	}
}

// A failed fetch is reported and retried at a later plan.
func TestFailedFetchIsRetried(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	f.node.set(func(n *node) { n.fetchErr = errors.New("no provider answered") })
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.waitFor("the failure", func() bool { return f.rep.FetchErr(root) != "" })
	if e := f.rep.FetchErr(root); !strings.Contains(e, "no provider answered") || !strings.Contains(e, "family") {
		t.Fatalf("fetch error %q does not say what failed", e)
	}
	f.node.set(func(n *node) { n.fetchErr = nil })
	f.waitFor("the retry", func() bool { return f.rep.Holds(root) })
	if e := f.rep.FetchErr(root); e != "" {
		t.Fatalf("the error %q stays after a fetch that worked", e)
	}
}

// Fetches run at most FetchConcurrency at a time.
func TestFetchConcurrency(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	f.node.set(func(n *node) { n.hang = true })
	var roots []cid.Cid
	for i := range 4 {
		r := f.root(i, 100)
		roots = append(roots, r)
		f.share(r, "share", 100, 2)
	}
	f.rep.Replan(f.ctx)
	n := 0
	for _, r := range roots {
		if f.rep.Fetching(r) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d fetches under way, want FetchConcurrency (2)", n)
	}
}

// Stop cancels the fetches, drops our replica pins and ends Run, which
// saves the state on its way out.
func TestRunAndStop(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	done := make(chan struct{})
	go func() { f.rep.Run(context.Background()); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for !f.rep.Holds(root) || f.net.heartbeats() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Run: replica %v after %d heartbeats", f.rep.Holds(root), f.net.heartbeats())
		}
		time.Sleep(time.Millisecond)
	}
	// Our last heartbeat lists the replica.
	var held bool
	f.net.Read(func(s *group.State, l *group.Liveness) {
		for _, v := range l.Views(s) {
			if v.ID == f.self {
				held = v.Holds.Has(root)
			}
		}
	})
	if !held {
		t.Fatal("the heartbeat does not list the replica")
	}
	if !f.rep.Stop(f.ctx) {
		t.Fatal("Stop reported the group already stopped")
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not end after Stop")
	}
	if _, ok := f.pin(root); ok || !f.rep.Stopped() {
		t.Fatal("the replica pin stays after Stop")
	}
	if n := f.net.goodbyes(); n != 0 {
		t.Fatalf("leaving the group sent %d goodbyes: a goodbye is for a daemon that stops", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saves == 0 {
		t.Fatal("Run did not save the state at exit")
	}
}

// When the daemon stops (Run's context ends), Run says goodbye to the group
// once, then ends.
func TestRunSaysGoodbye(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.rep.Run(ctx); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for f.net.heartbeats() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no heartbeat")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not end with its context")
	}
	if n := f.net.goodbyes(); n != 1 {
		t.Fatalf("%d goodbyes, want 1", n)
	}
}

// keepConnected dials members we are not connected to.
func TestKeepConnectedDials(t *testing.T) {
	f := newFixture(t, group.TestConfig(), 1<<30)
	f.rep.keepConnected()
	f.bg.Wait()
	f.node.get(func(n *node) {
		if len(n.dials) != 1 || len(n.dials[0]) != 1 || !strings.Contains(n.dials[0][0], f.other.String()) {
			t.Fatalf("dials = %v, want the other member's address", n.dials)
		}
	})
}

// TestShownWhenOurPartMoves: the Shown hook (pages showing the group's
// copies redraw) is called when a fetch starts, when the copy is held and
// when it is released, and not by a plan that changes nothing here.
func TestShownWhenOurPartMoves(t *testing.T) {
	cfg := group.TestConfig()
	cfg.ReleaseDelay = 0
	f := newFixture(t, cfg, 1<<30)
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.rep.Tick(f.ctx)
	f.waitFor("the replica", func() bool { return f.rep.Holds(root) })
	f.waitFor("shown: fetch started, copy held", func() bool { return f.shownCalls() >= 2 })
	f.bg.Wait() // the fetch's own re-plan is done
	before := f.shownCalls()
	f.rep.Replan(f.ctx)
	if got := f.shownCalls(); got != before {
		t.Fatalf("a plan that changed nothing here was shown (%d calls, %d before)", got, before)
	}
	f.unshare(root)
	f.rep.Replan(f.ctx) // surplus from now
	f.rep.Replan(f.ctx) // released (no release delay)
	if f.rep.Holds(root) {
		t.Fatal("the copy was not released")
	}
	if got := f.shownCalls(); got == before {
		t.Fatal("the release was not shown")
	}
}
