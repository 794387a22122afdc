package replicate

import (
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

// gc collects the node's garbage and reports whether root's block is
// still stored.
func (f *fixture) gcKeeps(root cid.Cid) bool {
	f.t.Helper()
	if _, err := blockstore.CollectGarbage(f.ctx, f.node.store, f.node.store, f.node.gcl, func(blockstore.GCProgress) {}); err != nil {
		f.t.Fatalf("gc: %v", err)
	}
	has, err := f.node.store.Has(f.ctx, root)
	if err != nil {
		f.t.Fatal(err)
	}
	return has
}

// The lost-pin case: the user pins a root a group placed here; the group
// releases it; the user's pin and its blocks remain.
func TestLostPin(t *testing.T) {
	cfg := group.TestConfig()
	cfg.ReleaseDelay = 0
	f := newFixture(t, cfg, 1<<30)
	root := f.root(1, 1000)
	f.share(root, "album", 1000, 2)
	f.waitFor("the replica", func() bool { return f.rep.Holds(root) })
	// "Keep a copy for me": the user's own record beside the group's.
	if err := f.node.store.AddPin(f.ctx, blockstore.Pin{Cid: root, Name: "album", Size: 1000}); err != nil {
		t.Fatal(err)
	}
	f.rep.Tick(f.ctx)
	f.unshare(root)
	f.waitFor("the release", func() bool { _, ok := f.pin(root); return !ok && !f.rep.Holds(root) })
	if p, ok := f.userPin(root); !ok || p.Name != "album" {
		t.Fatalf("the user's pin after the group's release: %+v, %v", p, ok)
	}
	if !f.gcKeeps(root) {
		t.Fatal("gc took the blocks of the user's pin")
	}
	// Leaving the group does not take it either.
	f.share(root, "album", 1000, 2)
	f.waitFor("the copy again", func() bool { return f.rep.Holds(root) })
	f.rep.Stop(f.ctx)
	if _, ok := f.userPin(root); !ok || !f.gcKeeps(root) {
		t.Fatal("leaving the group took the user's pin or its blocks")
	}
}

// Two groups keep the same root on one node: one releases, the root stays
// pinned by the other, blocks and all; when the other lets go too, gc
// takes the blocks.
func TestTwoGroupsOneReleases(t *testing.T) {
	cfg := group.TestConfig()
	cfg.ReleaseDelay = 0
	family := newFixture(t, cfg, 1<<30)
	work := newGroupOn(t, cfg, 1<<30, family.node, "work group id for replicate tests")
	root := family.root(1, 1000)
	family.share(root, "album", 1000, 2)
	work.share(root, "photos", 1000, 2)
	family.waitFor("family's copy", func() bool { return family.rep.Holds(root) })
	work.waitFor("work's copy", func() bool { return work.rep.Holds(root) })
	if p, ok := work.pin(root); !ok || p.Owner != PinOwner(work.id, "photos") {
		t.Fatalf("work's record: %+v, %v", p, ok)
	}

	work.unshare(root)
	work.waitFor("work's release", func() bool { _, ok := work.pin(root); return !ok })
	if _, ok := family.pin(root); !ok || !family.rep.Holds(root) {
		t.Fatal("work's release took family's copy")
	}
	if !family.gcKeeps(root) {
		t.Fatal("gc took the blocks family keeps")
	}

	family.rep.Stop(family.ctx)
	if ps, err := family.node.store.PinsOf(family.ctx, root); err != nil || len(ps) != 0 {
		t.Fatalf("records left after both groups let go: %+v, %v", ps, err)
	}
	if family.gcKeeps(root) {
		t.Fatal("gc kept a root no owner keeps")
	}
}
