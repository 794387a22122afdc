package group

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestIntentMetaKeepsOldHashes: an intent without a meta hashes, and so
// signs, as intents did before metas existed (the hashes below were taken
// on that code), and its JSON has no meta field: members that predate it
// keep verifying every share that carries none.
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
	if m.hash() == u.hash() {
		t.Fatal("the meta is not in the hash")
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
	for name, change := range map[string]func(*Intent){
		"meta changed": func(i *Intent) { i.Meta = testCID(8) },
		"meta cut":     func(i *Intent) { i.Meta = cid.Undef },
	} {
		u := share.clone()
		change(u.Intent)
		if err := u.VerifySig(); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: VerifySig = %v, want ErrAuth", name, err)
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
}
