package node

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// TestWatchKeepsEarlierVersions: a followed folder whose watch keeps 1
// earlier version: after a change the group shares the new version and
// the one before; after another, the oldest stops being shared and its
// pin goes, and the watch lists the one it keeps. Unsharing a kept
// version by hand takes it off the list.
func TestWatchKeepsEarlierVersions(t *testing.T) {
	ctx := context.Background()
	n := groupNodeTimed(t, t.TempDir(), 1<<30, testTimings, func(c *Config) {
		c.Groups.WatchInterval = Duration(time.Hour) // the looks come from notifications or Kick
		c.Groups.WatchSettle = Duration(10 * time.Millisecond)
	})
	formGroup(t, []*Node{n}, "family")
	dir := filepath.Join(t.TempDir(), "notes")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "plan.txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	since := time.Now()
	res, err := n.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true, Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := res.Cid
	if _, err := n.GroupShare(ctx, "family", cid.MustParse(v1), api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.GroupWatch(ctx, "family", dir, api.WatchOptions{Copies: 1, Cid: v1, Since: since, Keep: 1}); err != nil {
		t.Fatal(err)
	}
	watched := func() api.GroupWatch {
		t.Helper()
		ws, err := n.GroupWatches(ctx)
		if err != nil || len(ws) != 1 {
			t.Fatalf("watches: %+v, %v", ws, err)
		}
		return ws[0]
	}
	next := func(body, was string) string {
		t.Helper()
		write(body)
		n.watcher.Kick()
		var now string
		waitFor(t, 30*time.Second, "the change shared", func() bool { now = watched().Cid; return now != was })
		return now
	}
	shared := func(c string) bool { _, err := n.GroupStatus(ctx, cid.MustParse(c)); return err == nil }
	pinned := func(c string) bool {
		_, err := n.store.GetPin(ctx, cid.MustParse(c), blockstore.OwnerUser)
		return err == nil
	}

	v2 := next("second, longer", v1)
	if w := watched(); !slices.Equal(w.Earlier, []string{v1}) || w.Keep != 1 {
		t.Fatalf("after one change the watch keeps %q (keep %d), want [%s]", w.Earlier, w.Keep, v1)
	}
	// The status is the replication loop's plan, made again just after
	// the share: waited for.
	waitFor(t, 10*time.Second, "both versions shared, v1 still pinned, after one change", func() bool {
		return shared(v1) && shared(v2) && pinned(v1)
	})
	v3 := next("third, longer still", v2)
	if w := watched(); !slices.Equal(w.Earlier, []string{v2}) {
		t.Fatalf("after two changes the watch keeps %q, want [%s]", w.Earlier, v2)
	}
	waitFor(t, 10*time.Second, "after two changes, the oldest version neither shared nor pinned, the other two shared", func() bool {
		return !shared(v1) && !pinned(v1) && shared(v2) && shared(v3)
	})

	if err := n.GroupUnshare(ctx, "family", cid.MustParse(v2)); err != nil {
		t.Fatal(err)
	}
	if w := watched(); len(w.Earlier) != 0 || w.Cid != v3 {
		t.Errorf("after unsharing the kept version by hand the watch is %+v, want v3 and nothing kept", w)
	}
}
