package node

import (
	"context"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestGroupStopsUnwantedFetch: a replica fetch stops as soon as the member
// is no longer chosen (here: the intent is withdrawn), instead of running to
// the end and releasing the copy afterwards.
func TestGroupStopsUnwantedFetch(t *testing.T) {
	ctx := context.Background()
	// The sharer serves 2 MiB/s: the 32 MiB replica would take 16 s.
	sharer := groupNodeTimed(t, t.TempDir(), 1<<30, testTimings, func(c *Config) { c.Fetch.UploadLimit = 2 << 20 })
	other := groupNode(t, t.TempDir(), 1<<30)
	nodes := []*Node{sharer, other}
	formGroup(t, nodes, "family")
	root := addData(t, sharer, randomData(32<<20))
	if _, err := sharer.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	g := groupOf(t, other, "family")
	fetching := func() bool { return g.rep.Fetching(root) }
	waitFor(t, 10*time.Second, "the other member to start fetching", fetching)
	if err := sharer.GroupUnshare(ctx, "family", root); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, 8*time.Second, "the fetch to stop (it would take 16 s to finish)", func() bool { return !fetching() })
	t.Logf("fetch stopped %v after the unshare", time.Since(start))
	if ps, err := other.store.PinsOf(ctx, root); err != nil || len(ps) > 0 {
		t.Fatal("the unshared root was pinned anyway")
	}
	if holds(t, other, "family", root) {
		t.Fatal("the unshared root counts as a replica")
	}
}
