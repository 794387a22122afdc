package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
)

// RunPinStore runs the PinStore conformance suite. newStore must return a
// fresh, empty store for each subtest and arrange its cleanup.
func RunPinStore(t *testing.T, newStore func(t *testing.T) blockstore.PinStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ps blockstore.PinStore)
	}{
		{"AddGet", testPinAddGet},
		{"ListOldestFirst", testPinList},
		{"Replace", testPinReplace},
		{"Remove", testPinRemove},
		{"Miss", testPinMiss},
		{"OwnersListed", testPinOwnersListed},
		{"OwnerMiss", testPinOwnerMiss},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
	t.Run("Owners", func(t *testing.T) { testPinOwners(t, newStore) })
}

// pinTime is a fixed instant with sub-second precision and a non-UTC zone,
// so a store that truncates or mangles times fails.
var pinTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("x", 3600))

func testPin(t *testing.T, name string, created time.Time) blockstore.Pin {
	return blockstore.Pin{
		Cid:     DagPBBlock(t, 1, []byte(name)).Cid(),
		Name:    name,
		Size:    uint64(len(name)) * 1000,
		Created: created,
	}
}

func mustAddPin(t *testing.T, ps blockstore.PinStore, p blockstore.Pin) {
	t.Helper()
	if err := ps.AddPin(context.Background(), p); err != nil {
		t.Fatalf("AddPin %s: %v", p.Cid, err)
	}
}

func checkPin(t *testing.T, got, want blockstore.Pin) {
	t.Helper()
	if !got.Cid.Equals(want.Cid) || got.Owner != want.Owner || got.Name != want.Name || got.Size != want.Size || !got.Created.Equal(want.Created) {
		t.Fatalf("pin = %+v, want %+v", got, want)
	}
}

func testPinAddGet(t *testing.T, ps blockstore.PinStore) {
	p := testPin(t, "photos", pinTime)
	mustAddPin(t, ps, p)
	got, err := ps.GetPin(context.Background(), p.Cid, blockstore.OwnerUser)
	if err != nil {
		t.Fatalf("GetPin: %v", err)
	}
	checkPin(t, got, p)
}

func testPinList(t *testing.T, ps blockstore.PinStore) {
	// Added out of order, so a store that lists in insertion or key order
	// fails.
	newest := testPin(t, "c", pinTime.Add(2*time.Hour))
	oldest := testPin(t, "a", pinTime)
	middle := testPin(t, "b", pinTime.Add(time.Hour))
	for _, p := range []blockstore.Pin{newest, oldest, middle} {
		mustAddPin(t, ps, p)
	}
	got, err := ps.Pins(context.Background())
	if err != nil {
		t.Fatalf("Pins: %v", err)
	}
	want := []blockstore.Pin{oldest, middle, newest}
	if len(got) != len(want) {
		t.Fatalf("Pins returned %d pins, want %d", len(got), len(want))
	}
	for i := range want {
		checkPin(t, got[i], want[i])
	}
}

func testPinReplace(t *testing.T, ps blockstore.PinStore) {
	p := testPin(t, "first", pinTime)
	mustAddPin(t, ps, p)
	p.Name, p.Size, p.Created = "second", 42, pinTime.Add(time.Minute)
	mustAddPin(t, ps, p)
	got, err := ps.GetPin(context.Background(), p.Cid, p.Owner)
	if err != nil {
		t.Fatalf("GetPin: %v", err)
	}
	checkPin(t, got, p)
	all, err := ps.Pins(context.Background())
	if err != nil || len(all) != 1 {
		t.Fatalf("Pins after replace: %d pins, %v; want 1", len(all), err)
	}
}

func testPinRemove(t *testing.T, ps blockstore.PinStore) {
	ctx := context.Background()
	p := testPin(t, "gone", pinTime)
	other := testPin(t, "stays", pinTime)
	mustAddPin(t, ps, p)
	mustAddPin(t, ps, other)
	if err := ps.RemovePin(ctx, p.Cid, blockstore.OwnerUser); err != nil {
		t.Fatalf("RemovePin: %v", err)
	}
	_, err := ps.GetPin(ctx, p.Cid, blockstore.OwnerUser)
	checkMiss(t, "GetPin after RemovePin", err, p.Cid)
	checkMiss(t, "second RemovePin", ps.RemovePin(ctx, p.Cid, blockstore.OwnerUser), p.Cid)
	all, err := ps.Pins(ctx)
	if err != nil || len(all) != 1 || !all[0].Cid.Equals(other.Cid) {
		t.Fatalf("Pins after remove = %v, %v; want only %s", all, err, other.Cid)
	}
}

func testPinMiss(t *testing.T, ps blockstore.PinStore) {
	c := DagPBBlock(t, 1, []byte("never pinned")).Cid()
	_, err := ps.GetPin(context.Background(), c, blockstore.OwnerUser)
	checkMiss(t, "GetPin", err, c)
	all, err := ps.Pins(context.Background())
	if err != nil || len(all) != 0 {
		t.Fatalf("Pins of empty store = %v, %v; want none", all, err)
	}
	of, err := ps.PinsOf(context.Background(), c)
	if err != nil || len(of) != 0 {
		t.Fatalf("PinsOf a CID never pinned = %v, %v; want none", of, err)
	}
}
