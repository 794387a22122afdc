package blockstore_test

import (
	"context"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

func TestOwnerGroup(t *testing.T) {
	tests := []struct {
		owner     blockstore.Owner
		id, share string
		ok        bool
	}{
		{blockstore.OwnerUser, "", "", false},
		{blockstore.GroupOwner("abc", "photos"), "abc", "photos", true},
		{blockstore.GroupOwner("abc", "trip: rome"), "abc", "trip: rome", true},
		{blockstore.GroupOwner("abc", ""), "abc", "", true},
		{"fetch:123", "", "", false},
	}
	for _, tc := range tests {
		id, share, ok := tc.owner.Group()
		if id != tc.id || share != tc.share || ok != tc.ok {
			t.Errorf("%q.Group() = %q, %q, %v; want %q, %q, %v", tc.owner, id, share, ok, tc.id, tc.share, tc.ok)
		}
		if tc.owner.IsUser() != (tc.owner == "") {
			t.Errorf("%q.IsUser() = %v", tc.owner, tc.owner.IsUser())
		}
	}
}

// TestBadgerMigratesLegacyReplicaPins: a repository written before pins
// had owners holds one record per CID, a group's copy marked only by a
// "group-replica:" name. Opened now, the group's copies become the group's
// records (named after the share), the user's pins stay the user's, and
// a user pin then added beside a migrated copy outlives the group's
// release, blocks and all.
func TestBadgerMigratesLegacyReplicaPins(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	leaf := storetest.RawBlock(t, []byte("holiday photo"))
	replicaRoot := storetest.DagPBBlock(t, 1, []byte("album"), leaf.Cid())
	userRoot := storetest.DagPBBlock(t, 1, []byte("notes"))
	colonRoot := storetest.DagPBBlock(t, 0, []byte("trip"))
	if err := s.PutMany(ctx, []blocks.Block{leaf, replicaRoot, userRoot, colonRoot}); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	created := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	legacy := []blockstore.Pin{
		{Cid: replicaRoot.Cid(), Name: "group-replica:c7c89407cb21c58a8e336a5dca8d4b57:album", Size: 13, Created: created},
		{Cid: userRoot.Cid(), Name: "notes", Size: 5, Created: created.Add(time.Hour), Private: true},
		{Cid: colonRoot.Cid(), Name: "group-replica:0f1e:trip: rome", Size: 4, Created: created.Add(2 * time.Hour)},
	}
	for _, p := range legacy {
		if err := blockstore.PutLegacyPin(s, p); err != nil {
			t.Fatalf("write legacy pin: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatalf("OpenBadger after the legacy writes: %v", err)
	}
	family := blockstore.GroupOwner("c7c89407cb21c58a8e336a5dca8d4b57", "album")
	tests := []struct {
		root  blockstore.Pin
		owner blockstore.Owner
		name  string
	}{
		{legacy[0], family, "album"},
		{legacy[1], blockstore.OwnerUser, "notes"},
		{legacy[2], blockstore.GroupOwner("0f1e", "trip: rome"), "trip: rome"},
	}
	for _, tc := range tests {
		of, err := s.PinsOf(ctx, tc.root.Cid)
		if err != nil || len(of) != 1 {
			t.Fatalf("PinsOf %s after migration = %+v, %v; want one record", tc.root.Cid, of, err)
		}
		p := of[0]
		if p.Owner != tc.owner || p.Name != tc.name || p.Size != tc.root.Size || !p.Created.Equal(tc.root.Created) || p.Private != tc.root.Private {
			t.Errorf("migrated %s = %+v; want owner %q, name %q", tc.root.Name, p, tc.owner, tc.name)
		}
	}
	all, err := s.Pins(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("Pins after migration = %d, %v; want 3", len(all), err)
	}

	// The lost-pin case on a migrated repository.
	mine := blockstore.Pin{Cid: replicaRoot.Cid(), Name: "album", Size: 13, Created: time.Now()}
	if err := s.AddPin(ctx, mine); err != nil {
		t.Fatalf("AddPin: %v", err)
	}
	if err := s.RemovePin(ctx, replicaRoot.Cid(), family); err != nil {
		t.Fatalf("the group's release: %v", err)
	}
	if _, err := blockstore.CollectGarbage(ctx, s, s, blockstore.NewGCLocker(), func(blockstore.GCProgress) {}); err != nil {
		t.Fatalf("gc: %v", err)
	}
	if _, err := s.GetPin(ctx, replicaRoot.Cid(), blockstore.OwnerUser); err != nil {
		t.Fatalf("the user's pin after the group's release: %v", err)
	}
	for _, b := range []blocks.Block{replicaRoot, leaf} {
		if ok, err := s.Has(ctx, b.Cid()); err != nil || !ok {
			t.Fatalf("block %s after gc: has %v, %v", b.Cid(), ok, err)
		}
	}

	// Opening again migrates nothing more.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if all, err := s2.Pins(ctx); err != nil || len(all) != 3 {
		t.Fatalf("Pins after reopen = %+v, %v; want 3", all, err)
	}
}
