package group

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// signer is a member with a real identity key and a signing clock.
type signer struct {
	id    peer.ID
	key   crypto.PrivKey
	clock *Clock
}

func newSigner(t *testing.T, f *fakeTime) signer {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := clockAt(id, f)
	if err := c.SetSigner(key); err != nil {
		t.Fatal(err)
	}
	return signer{id: id, key: key, clock: c}
}

// signedState is a state requiring signatures, with a and b joined.
func signedState(t *testing.T, ms ...signer) *State {
	t.Helper()
	s := NewState()
	s.RequireSignatures()
	for _, m := range ms {
		if _, err := s.Join(m.clock, "laptop", nil, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestSignedUpdates(t *testing.T) {
	f := newFakeTime()
	a, b := newSigner(t, f), newSigner(t, f)
	s := signedState(t, a)
	share, err := s.Share(a.clock, testCID(1), "photos", 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := share.VerifySig(); err != nil {
		t.Fatalf("a's own share: %v", err)
	}
	tests := []struct {
		name   string
		update func() Update
	}{
		{"unsigned", func() Update {
			u := intentUpdate(testCID(2), b.id, 1, b.clock.Now())
			return u
		}},
		{"signed by another member", func() Update {
			u := intentUpdate(testCID(2), b.id, 1, b.clock.Now())
			if err := u.Sign(a.key); err != nil {
				t.Fatal(err)
			}
			return u
		}},
		{"changed after signing", func() Update {
			u := share.clone()
			u.Intent.Copies = 5
			return u
		}},
		{"signature cut", func() Update {
			u := share.clone()
			u.Intent.Sig = u.Intent.Sig[:len(u.Intent.Sig)-1]
			return u
		}},
		{"writer without an embedded key", func() Update {
			u := intentUpdate(testCID(2), testID(1), 1, HLC{Wall: f.t.UnixMilli(), Node: testID(1)})
			u.Intent.Sig = []byte("x")
			return u
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.update()
			if err := u.VerifySig(); !errors.Is(err, ErrAuth) {
				t.Fatalf("VerifySig = %v, want ErrAuth", err)
			}
			if _, err := s.Clone().ApplyUpdate(u); !errors.Is(err, ErrAuth) {
				t.Fatalf("ApplyUpdate = %v, want ErrAuth", err)
			}
			// A state that does not require signatures (the simulator's)
			// takes a well-formed update as before.
			if u.Validate() == nil {
				if _, err := NewState().ApplyUpdate(u); err != nil {
					t.Fatalf("unsigned state refused it: %v", err)
				}
			}
		})
	}
}

// TestSignOwnReplacesUnsignedCopies: entries written before signatures are
// signed by their writer at its next start, and peers holding the unsigned
// copy take the signed one (same version, same digest).
func TestSignOwnReplacesUnsignedCopies(t *testing.T) {
	f := newFakeTime()
	a := newSigner(t, f)
	old := clockAt(a.id, f) // no signer: an older kith
	legacy := NewState()
	if _, err := legacy.Join(old, "laptop", nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Share(old, testCID(1), "photos", 100, 1); err != nil {
		t.Fatal(err)
	}
	peerCopy := legacy.Clone()
	digest := legacy.Digest()

	n, err := legacy.SignOwn(a.key)
	if err != nil || n != 2 {
		t.Fatalf("SignOwn = %d, %v; want 2", n, err)
	}
	if legacy.Digest() != digest {
		t.Fatal("signing changed the digest")
	}
	for _, u := range legacy.Entries() {
		if err := u.VerifySig(); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	if changed := peerCopy.Merge(legacy); changed != 2 {
		t.Fatalf("peer took %d signed copies, want 2", changed)
	}
	for _, u := range peerCopy.Entries() {
		if err := u.VerifySig(); err != nil {
			t.Fatalf("peer's %s: %v", u, err)
		}
	}
	// And not the other way round.
	if changed := legacy.Merge(legacy.Clone()); changed != 0 {
		t.Fatal("merging the same entries changed the state")
	}
}

// TestRebaseDropsForgedEntries: a snapshot relays others' entries; an entry
// its writer did not sign is dropped, the rest kept.
func TestRebaseDropsForgedEntries(t *testing.T) {
	f := newFakeTime()
	a, b := newSigner(t, f), newSigner(t, f)
	snap := NewState() // the relaying peer's state, as it arrives
	for _, m := range []signer{a, b} {
		if _, err := snap.Join(m.clock, "laptop", nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	forged := intentUpdate(testCID(9), b.id, 1, b.clock.Now()) // "b shared it": unsigned
	mustApply(t, snap, forged)

	ours := NewState()
	ours.RequireSignatures()
	ours.Rebase(snap, f.now())
	if !ours.IsMember(a.id) || !ours.IsMember(b.id) {
		t.Fatal("signed member records were dropped")
	}
	if _, ok := ours.Intent(testCID(9)); ok {
		t.Fatal("a forged intent survived the rebase")
	}
	if _, err := ours.Share(b.clock, testCID(9), "x", 1, 1); err == nil {
		// the state still requires signatures after the rebase
		if u, _ := ours.Intent(testCID(9)); u.Sig == nil {
			t.Fatal("rebase lost RequireSignatures")
		}
	}
}

func TestRemoveMember(t *testing.T) {
	f := newFakeTime()
	a, b, c := newSigner(t, f), newSigner(t, f), newSigner(t, f)
	s := signedState(t, a, b, c)
	f.add(time.Second)

	if _, err := s.Remove(a.clock, a.id); !errors.Is(err, ErrInvalid) {
		t.Fatalf("removing oneself: %v, want ErrInvalid (leave instead)", err)
	}
	outsider := newSigner(t, f)
	if _, err := s.Remove(outsider.clock, b.id); !errors.Is(err, ErrNotMember) {
		t.Fatalf("removal by a non-member: %v", err)
	}
	rm, err := s.Remove(a.clock, b.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.VerifySig(); err != nil || rm.Writer() != a.id {
		t.Fatalf("removal not signed by the remover: %v", err)
	}
	if s.IsMember(b.id) {
		t.Fatal("b is still a member")
	}
	if r, ok := s.Removed(b.id); !ok || r.Version.Node != a.id || r.Name != "laptop" {
		t.Fatalf("Removed(b) = %+v, %v", r, ok)
	}
	if _, err := s.Remove(c.clock, b.id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}

	// b, which has not heard yet, writes a newer record: the removal wins,
	// here and on a member that merges the two in the other order.
	f.add(time.Minute)
	other := signedState(t, a, b, c)
	rejoin, err := other.Join(b.clock, "laptop 2", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, rejoin)
	if s.IsMember(b.id) {
		t.Fatal("b's later record undid its removal")
	}
	mustApply(t, other, rm)
	r1, _ := s.Member(b.id)
	r2, _ := other.Member(b.id)
	if other.IsMember(b.id) || r1.Version != r2.Version || !r2.Removed {
		t.Fatalf("the two orders disagree: %+v vs %+v", r1, r2)
	}
	// Nor can b join again (its old token holds the same secret).
	if _, err := s.Join(b.clock, "laptop", nil, 0); !errors.Is(err, ErrRemoved) {
		t.Fatalf("re-join after removal: %v, want ErrRemoved", err)
	}
	// Compaction keeps removals (tombstones of those who left go).
	if _, err := s.Leave(c.clock); err != nil {
		t.Fatal(err)
	}
	f.add(30 * 24 * time.Hour)
	if n := s.Compact(f.now(), DefaultCompactionHorizon); n != 1 {
		t.Fatalf("compacted %d, want 1 (c's leave)", n)
	}
	if _, ok := s.Removed(b.id); !ok {
		t.Fatal("compaction dropped the removal")
	}
}

func TestRemovalValidation(t *testing.T) {
	f := newFakeTime()
	a, b := newSigner(t, f), newSigner(t, f)
	v := a.clock.Now()
	tests := []struct {
		name string
		m    Member
	}{
		{"another's record that is no removal", Member{ID: b.id, Version: v}},
		{"a removal that is not a tombstone", Member{ID: b.id, Removed: true, Version: v}},
		{"a removal of oneself", Member{ID: a.id, Left: true, Removed: true, Version: v}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if err := (Update{Member: &m}).Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
	// Gossip: a removal's writer must be a current member.
	s := signedState(t, a, b)
	outsider := newSigner(t, f)
	rm := Update{Member: &Member{ID: b.id, Left: true, Removed: true, Version: outsider.clock.Now()}}
	if err := rm.Sign(outsider.key); err != nil {
		t.Fatal(err)
	}
	if err := (Message{Update: &rm}).Validate(outsider.id, s, f.now()); !errors.Is(err, ErrNotMember) {
		t.Fatalf("gossiped removal by an outsider: %v, want ErrNotMember", err)
	}
}

// TestRemovalNotice: a removed member's sync hello is refused with
// ErrRemoved, and the notice the responder sends back tells it.
func TestRemovalNotice(t *testing.T) {
	f := newFakeTime()
	a, b := newSigner(t, f), newSigner(t, f)
	s := signedState(t, a, b)
	bView := s.Clone()
	if _, err := s.Remove(a.clock, b.id); err != nil {
		t.Fatal(err)
	}
	me, _ := bView.Member(b.id)
	hello := SyncHello{Self: Update{Member: &me}, Digest: make([]byte, 32)}
	if err := s.CheckHello(b.id, hello, f.now()); !errors.Is(err, ErrRemoved) {
		t.Fatalf("CheckHello = %v, want ErrRemoved", err)
	}
	notice, ok := s.RemovalNotice(b.id)
	if !ok {
		t.Fatal("no notice")
	}
	if _, ok := s.RemovalNotice(a.id); ok {
		t.Fatal("a notice for a current member")
	}
	if _, err := bView.CheckRemovalNotice(a.id, notice); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a notice about b accepted by a: %v", err)
	}
	changed, err := bView.CheckRemovalNotice(b.id, notice)
	if err != nil || !changed {
		t.Fatalf("CheckRemovalNotice = %v, %v", changed, err)
	}
	if bView.IsMember(b.id) {
		t.Fatal("b does not know it was removed")
	}
	// A forged notice (not signed by a member) is refused.
	forged := notice
	u := notice.Removed.clone()
	u.Member.Sig = nil
	forged.Removed = &u
	if _, err := s.Clone().CheckRemovalNotice(b.id, forged); !errors.Is(err, ErrAuth) {
		t.Fatalf("forged notice: %v, want ErrAuth", err)
	}
}
