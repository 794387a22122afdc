package group

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestIntentMetaKeepsOldHashes: intents hash, and so sign, as they did
// before metas existed (the hashes below were taken on that code), meta or
// not, and one without a meta has no meta field in its JSON: a kith that
// predates metas verifies every share.
func TestIntentMetaKeepsOldHashes(t *testing.T) {
	u := intentUpdate(testCID(1), testID(1), 2, HLC{Wall: 1700000000000, Count: 3, Node: testID(1)})
	w := u.clone()
	w.Intent.Withdrawn = true
	for _, tt := range []struct {
		name string
		u    Update
		want string
	}{
		{"live", u, "3f638216b76aaea69e038bdefd2898c45bd00fed922865a6f2fc2268b1ef18cf"},
		{"tombstone", w, "e88fbc2869478ce464f2730a285a2be563c0aa0fb54a2ba84aaaafaad0a272fb"},
	} {
		h := tt.u.hash()
		if got := hex.EncodeToString(h[:]); got != tt.want {
			t.Errorf("%s: hash %s, want %s", tt.name, got, tt.want)
		}
		b, err := json.Marshal(tt.u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "meta") {
			t.Errorf("%s: JSON names a meta: %s", tt.name, b)
		}
	}
	m := u.clone()
	m.Intent.Meta = testCID(9)
	if m.hash() != u.hash() {
		t.Fatal("the meta is in the hash: a kith that predates metas would refuse the share")
	}
}

// TestIntentMeta: the meta is signed with the intent, travels in its
// JSON, changes with a share of the same root, and a tombstone drops it.
func TestIntentMeta(t *testing.T) {
	f := newFakeTime()
	a := newSigner(t, f)
	s := signedState(t, a)
	share, err := s.ShareWithMeta(a.clock, testCID(1), testCID(7), "photos", 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := share.VerifySig(); err != nil {
		t.Fatalf("a share with a meta: %v", err)
	}
	b, err := json.Marshal(share)
	if err != nil {
		t.Fatal(err)
	}
	var back Update
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Intent.Meta.Equals(testCID(7)) || back.VerifySig() != nil {
		t.Fatalf("round trip: meta %s, sig %v", back.Intent.Meta, back.VerifySig())
	}
	// A kith that predates metas decodes the intent without its two
	// fields: the rest verifies, and it is the intent still.
	var old Update
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	old.Intent.Meta, old.Intent.MetaSig = cid.Undef, nil
	if err := old.VerifySig(); err != nil {
		t.Fatalf("the intent without its meta, as an older kith sees it: %v", err)
	}
	other, err := s.Clone().ShareWithMeta(a.clock, testCID(2), testCID(5), "films", 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Intent){
		"meta changed":        func(i *Intent) { i.Meta = testCID(8) },
		"meta signature cut":  func(i *Intent) { i.MetaSig = nil },
		"meta of another one": func(i *Intent) { i.Meta, i.MetaSig = other.Intent.Meta, other.Intent.MetaSig },
	} {
		u := share.clone()
		change(u.Intent)
		if err := u.VerifySig(); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: VerifySig = %v, want ErrAuth", name, err)
		}
	}
	// Of two copies of the same version, with the meta and without (one
	// relayed by an older kith), the one with it is kept, in either order.
	for _, order := range [][]Update{{old, back}, {back, old}} {
		st := signedState(t, a)
		for _, u := range order {
			if _, err := st.ApplyUpdate(u); err != nil {
				t.Fatal(err)
			}
		}
		if in, _ := st.Intent(testCID(1)); !in.Meta.Equals(testCID(7)) {
			t.Fatalf("applied with its meta and without: meta %s", in.Meta)
		}
	}

	// The same root shared again with the files' new times.
	created := share.Intent.Created
	again, err := s.ShareWithMeta(a.clock, testCID(1), testCID(8), "photos", 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Intent(testCID(1)); !in.Meta.Equals(testCID(8)) || in.Created != created || again.Intent.Version.Compare(share.Intent.Version) <= 0 {
		t.Fatalf("re-shared: meta %s, created %v (was %v)", in.Meta, in.Created, created)
	}
	// Shared again as the newest version of its name (a synced folder
	// brought back as it was): created anew, the newest.
	if _, err := s.ShareNewest(a.clock, testCID(1), testCID(9), "photos", 100, 2); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Intent(testCID(1)); !in.Meta.Equals(testCID(9)) || in.Created.Compare(again.Intent.Version) <= 0 {
		t.Fatalf("shared again as the newest: meta %s, created %v, not after %v", in.Meta, in.Created, again.Intent.Version)
	}
	gone, err := s.Unshare(a.clock, testCID(1))
	if err != nil {
		t.Fatal(err)
	}
	if gone.Intent.Meta.Defined() {
		t.Fatalf("the tombstone keeps the meta %s", gone.Intent.Meta)
	}
	bad := gone.clone()
	bad.Intent.Meta = testCID(8)
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a tombstone with a meta: Validate = %v, want ErrInvalid", err)
	}
	bad = share.clone()
	bad.Intent.Meta = cid.Undef
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a meta signature without a meta: Validate = %v, want ErrInvalid", err)
	}
}
