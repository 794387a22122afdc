package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
)

// The owners the multi-owner tests use: the user, two groups keeping the
// same share, and a share whose name holds a colon.
var (
	ownerUser   = blockstore.OwnerUser
	ownerFamily = blockstore.GroupOwner("c7c89407cb21c58a8e336a5dca8d4b57", "photos")
	ownerWork   = blockstore.GroupOwner("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "photos")
	ownerColon  = blockstore.GroupOwner("c7c89407cb21c58a8e336a5dca8d4b57", "trip: rome")
)

// pinOp is one step of a multi-owner scenario: add or remove one owner's
// record on the scenario's CID.
type pinOp struct {
	remove bool
	owner  blockstore.Owner
	miss   bool // the remove must fail with a miss
}

func add(o blockstore.Owner) pinOp        { return pinOp{owner: o} }
func remove(o blockstore.Owner) pinOp     { return pinOp{remove: true, owner: o} }
func removeMiss(o blockstore.Owner) pinOp { return pinOp{remove: true, owner: o, miss: true} }

// testPinOwners runs scenarios of several owners on one CID and checks,
// after all steps, exactly which owners still keep it. A second CID pinned
// by the user throughout must never be touched.
func testPinOwners(t *testing.T, newStore func(t *testing.T) blockstore.PinStore) {
	tests := []struct {
		name string
		ops  []pinOp
		want []blockstore.Owner // user first, then by owner
	}{
		{"user and a group", []pinOp{add(ownerUser), add(ownerFamily)}, []blockstore.Owner{ownerUser, ownerFamily}},
		{"group releases, user stays", []pinOp{add(ownerUser), add(ownerFamily), remove(ownerFamily)}, []blockstore.Owner{ownerUser}},
		{"user unpins, group stays", []pinOp{add(ownerFamily), add(ownerUser), remove(ownerUser)}, []blockstore.Owner{ownerFamily}},
		{"two groups, one releases", []pinOp{add(ownerFamily), add(ownerWork), remove(ownerWork)}, []blockstore.Owner{ownerFamily}},
		{"three owners, all release", []pinOp{add(ownerWork), add(ownerUser), add(ownerFamily), remove(ownerUser), remove(ownerFamily), remove(ownerWork)}, nil},
		{"re-adding an owner keeps one record", []pinOp{add(ownerFamily), add(ownerFamily), add(ownerUser)}, []blockstore.Owner{ownerUser, ownerFamily}},
		{"a share name with a colon", []pinOp{add(ownerColon), add(ownerFamily), remove(ownerFamily)}, []blockstore.Owner{ownerColon}},
		{"removing an owner that never pinned", []pinOp{add(ownerFamily), removeMiss(ownerUser), removeMiss(ownerWork)}, []blockstore.Owner{ownerFamily}},
		{"removing twice", []pinOp{add(ownerUser), add(ownerFamily), remove(ownerFamily), removeMiss(ownerFamily)}, []blockstore.Owner{ownerUser}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ps := newStore(t)
			bystander := testPin(t, "bystander", pinTime)
			mustAddPin(t, ps, bystander)
			c := DagPBBlock(t, 1, []byte("shared root")).Cid()
			for i, op := range tc.ops {
				if !op.remove {
					p := blockstore.Pin{Cid: c, Owner: op.owner, Name: "n" + string(op.owner), Size: 7, Created: pinTime.Add(time.Duration(i) * time.Minute)}
					mustAddPin(t, ps, p)
					continue
				}
				err := ps.RemovePin(ctx, c, op.owner)
				if op.miss {
					checkMiss(t, "RemovePin of "+string(op.owner), err, c)
				} else if err != nil {
					t.Fatalf("step %d: RemovePin %q: %v", i, op.owner, err)
				}
			}
			of, err := ps.PinsOf(ctx, c)
			if err != nil {
				t.Fatalf("PinsOf: %v", err)
			}
			var got []blockstore.Owner
			for _, p := range of {
				if !p.Cid.Equals(c) {
					t.Fatalf("PinsOf(%s) returned a record of %s", c, p.Cid)
				}
				got = append(got, p.Owner)
				if g, err := ps.GetPin(ctx, c, p.Owner); err != nil {
					t.Fatalf("GetPin %q: %v", p.Owner, err)
				} else {
					checkPin(t, g, p)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("owners of %s = %q, want %q", c, got, tc.want)
			}
			for _, o := range []blockstore.Owner{ownerUser, ownerFamily, ownerWork, ownerColon} {
				if slices.Contains(tc.want, o) {
					continue
				}
				_, err := ps.GetPin(ctx, c, o)
				checkMiss(t, "GetPin of released owner "+string(o), err, c)
			}
			all, err := ps.Pins(ctx)
			if err != nil || len(all) != len(tc.want)+1 {
				t.Fatalf("Pins = %d records, %v; want %d", len(all), err, len(tc.want)+1)
			}
			if got, err := ps.GetPin(ctx, bystander.Cid, ownerUser); err != nil {
				t.Fatalf("the bystander's pin: %v", err)
			} else {
				checkPin(t, got, bystander)
			}
		})
	}
}

// testPinOwnersListed: Pins lists each owner's record on its own, with
// its own name and time, oldest first; PinsOf lists the user's first.
func testPinOwnersListed(t *testing.T, ps blockstore.PinStore) {
	ctx := context.Background()
	c := DagPBBlock(t, 1, []byte("listed")).Cid()
	family := blockstore.Pin{Cid: c, Owner: ownerFamily, Name: "photos", Size: 10, Created: pinTime}
	user := blockstore.Pin{Cid: c, Owner: ownerUser, Name: "my photos", Size: 10, Created: pinTime.Add(time.Hour), Private: true}
	work := blockstore.Pin{Cid: c, Owner: ownerWork, Name: "photos", Size: 10, Created: pinTime.Add(2 * time.Hour)}
	for _, p := range []blockstore.Pin{work, user, family} {
		mustAddPin(t, ps, p)
	}
	all, err := ps.Pins(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("Pins = %v, %v; want 3 records", all, err)
	}
	for i, want := range []blockstore.Pin{family, user, work} {
		checkPin(t, all[i], want)
	}
	if !all[1].Private || all[0].Private {
		t.Fatalf("Private is per owner: got %v, %v", all[0].Private, all[1].Private)
	}
	of, err := ps.PinsOf(ctx, c)
	if err != nil || len(of) != 3 || of[0].Owner != ownerUser {
		t.Fatalf("PinsOf = %v, %v; want 3 records, the user's first", of, err)
	}
	if roots := blockstore.PinnedRoots(all); len(roots) != 1 || !roots[0].Equals(c) {
		t.Fatalf("PinnedRoots = %v, want only %s", roots, c)
	}
}

// testPinOwnerMiss: a record is keyed by the exact CID and owner: a CIDv0
// and the CIDv1 of the same bytes, or another owner, find nothing.
func testPinOwnerMiss(t *testing.T, ps blockstore.PinStore) {
	ctx := context.Background()
	v0 := DagPBBlock(t, 0, []byte("v0 root")).Cid()
	v1 := DagPBBlock(t, 1, []byte("v0 root")).Cid()
	mustAddPin(t, ps, blockstore.Pin{Cid: v0, Owner: ownerFamily, Name: "photos", Created: pinTime})
	_, err := ps.GetPin(ctx, v1, ownerFamily)
	checkMiss(t, "GetPin of the CIDv1", err, v1)
	_, err = ps.GetPin(ctx, v0, ownerWork)
	checkMiss(t, "GetPin of another group", err, v0)
	if of, err := ps.PinsOf(ctx, v1); err != nil || len(of) != 0 {
		t.Fatalf("PinsOf the CIDv1 = %v, %v; want none", of, err)
	}
	checkMiss(t, "RemovePin of the user", ps.RemovePin(ctx, v0, ownerUser), v0)
	if of, err := ps.PinsOf(ctx, v0); err != nil || len(of) != 1 || of[0].Owner != ownerFamily {
		t.Fatalf("PinsOf = %v, %v; want the group's record only", of, err)
	}
}
