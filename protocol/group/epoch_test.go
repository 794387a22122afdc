package group

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// epochRef is a candidate of epoch n whose commitment starts with c.
func epochRef(n uint64, c byte) EpochRef {
	r := EpochRef{N: n}
	r.Commit[0] = c
	return r
}

func epochUpdate(r EpochRef, by peer.ID, v HLC, removed ...peer.ID) Update {
	v.Node = by
	return Update{Epoch: &Epoch{N: r.N, Commit: r.Commit[:], Removed: removed, Version: v}}
}

func TestEpochChoice(t *testing.T) {
	f := newFakeTime()
	const removed, stranger = 8, 9 // makers: 0..7 members, 8 removed, 9 never joined
	type cand struct {
		ref   EpochRef
		maker int
	}
	tests := []struct {
		name  string
		cands []cand
		want  EpochRef // N 0: epoch 0
	}{
		{"none: epoch 0", nil, EpochRef{}},
		{"one", []cand{{epochRef(1, 9), 0}}, epochRef(1, 9)},
		{"the higher number", []cand{{epochRef(2, 9), 0}, {epochRef(1, 1), 1}}, epochRef(2, 9)},
		{"the lowest commitment of one number", []cand{{epochRef(1, 9), 0}, {epochRef(1, 3), 1}, {epochRef(1, 7), 2}}, epochRef(1, 3)},
		{"lowest commitment of the highest number", []cand{{epochRef(1, 1), 0}, {epochRef(2, 8), 1}, {epochRef(2, 5), 2}}, epochRef(2, 5)},
		{"not one a removed member made", []cand{{epochRef(1, 5), 0}, {epochRef(9, 1), removed}}, epochRef(1, 5)},
		{"not one a stranger made", []cand{{epochRef(1, 5), 0}, {epochRef(1, 1), stranger}}, epochRef(1, 5)},
		{"only a removed member's: epoch 0", []cand{{epochRef(3, 1), removed}}, EpochRef{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every order of arrival picks the same.
			rev := slices.Clone(tt.cands)
			slices.Reverse(rev)
			for _, order := range [][]cand{tt.cands, rev} {
				s := NewState()
				for i := range removed + 1 {
					mustApply(t, s, memberUpdate(testID(i), 1, HLC{Wall: f.now().UnixMilli(), Node: testID(i)}))
				}
				gone, _ := s.Member(testID(removed))
				gone.Left, gone.Removed, gone.Version = true, true, HLC{Wall: f.now().UnixMilli() + 1, Node: testID(0)}
				mustApply(t, s, Update{Member: &gone})
				for _, c := range order {
					mustApply(t, s, epochUpdate(c.ref, testID(c.maker), HLC{Wall: f.now().UnixMilli()}))
				}
				got, ok := s.Epoch()
				if ok != (tt.want.N != 0) || got.Ref() != tt.want {
					t.Fatalf("current epoch %s (%v), want %s", got.Ref(), ok, tt.want)
				}
			}
		})
	}
}

func TestEpochValidate(t *testing.T) {
	v := HLC{Wall: t0.UnixMilli(), Node: testID(1)}
	ok := Epoch{N: 1, Commit: make([]byte, 32), Removed: []peer.ID{testID(2)}, Version: v}
	tests := []struct {
		name string
		edit func(e *Epoch)
		want error
	}{
		{"well formed", func(*Epoch) {}, nil},
		{"epoch 0", func(e *Epoch) { e.N = 0 }, ErrInvalid},
		{"short commitment", func(e *Epoch) { e.Commit = e.Commit[:8] }, ErrInvalid},
		{"maker removes itself", func(e *Epoch) { e.Removed = []peer.ID{testID(1)} }, ErrInvalid},
		{"unsorted", func(e *Epoch) { e.Removed = []peer.ID{testID(3), testID(2)} }, ErrInvalid},
		{"duplicates", func(e *Epoch) { e.Removed = []peer.ID{testID(2), testID(2)} }, ErrInvalid},
		{"too many", func(e *Epoch) { e.Removed = make([]peer.ID, MaxEpochRemoved+1) }, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			if len(e.Removed) > 1 {
				slices.Sort(e.Removed)
			}
			tt.edit(&e)
			if tt.name == "unsorted" && slices.IsSorted(e.Removed) {
				slices.Reverse(e.Removed)
			}
			err := Update{Epoch: &e}.Validate()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("validate: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKeyringChecksGrants: a key is taken only with a signed epoch entry
// whose commitment it matches, and survives a round trip to disk.
func TestKeyringChecksGrants(t *testing.T) {
	f := newFakeTime()
	a, b, x := newSigner(t, f), newSigner(t, f), newSigner(t, f)
	s := signedState(t, a, b, x)
	if _, err := s.Remove(a.clock, x.id); err != nil {
		t.Fatal(err)
	}
	u, key, err := s.Rotate(a.clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewEpochKey()
	unsigned := u.clone()
	unsigned.Epoch.Sig = nil
	forged := u.clone()
	forged.Epoch.Removed = nil // x lets itself in: the signature no longer matches
	sec, _ := NewSecret()
	tests := []struct {
		name  string
		grant KeyGrant
		want  error
	}{
		{"the key", KeyGrant{Epoch: u, Key: key[:]}, nil},
		{"another key", KeyGrant{Epoch: u, Key: other[:]}, ErrAuth},
		{"unsigned entry", KeyGrant{Epoch: unsigned, Key: key[:]}, ErrAuth},
		{"changed entry", KeyGrant{Epoch: forged, Key: key[:]}, ErrAuth},
		{"short key", KeyGrant{Epoch: u, Key: key[:16]}, ErrInvalid},
		{"no entry", KeyGrant{Key: key[:]}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewKeyring(sec)
			added, err := r.Add(tt.grant)
			if tt.want == nil && (err != nil || !added) || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("add: %v (added %v), want %v", err, added, tt.want)
			}
			if _, held := r.Key(u.Epoch.Ref()); held != (tt.want == nil) {
				t.Fatalf("held %v after %v", held, err)
			}
		})
	}
	r := NewKeyring(sec)
	if _, err := r.Add(KeyGrant{Epoch: u, Key: key[:]}); err != nil {
		t.Fatal(err)
	}
	if added, err := r.Add(KeyGrant{Epoch: u, Key: key[:]}); added || err != nil {
		t.Fatalf("second add: %v, %v", added, err)
	}
	b0, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalKeyring(sec, b0)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := back.Key(u.Epoch.Ref()); !ok || k != key {
		t.Fatal("the key did not survive a round trip")
	}
	if k, ok := back.Key(EpochRef{}); !ok || k != EpochKey(sec) {
		t.Fatal("epoch 0's key is not the secret")
	}
	if back.Use(s) != u.Epoch.Ref() {
		t.Fatalf("sealing with %s, want the current epoch", back.Use(s))
	}
	if NewKeyring(sec).Use(s) != (EpochRef{}) {
		t.Fatal("a member without the new key does not stay in epoch 0")
	}
}

// TestEpoch0KeysUnchanged: a group that never rotated keeps the topic and
// payload keys it had before epochs existed.
func TestEpoch0KeysUnchanged(t *testing.T) {
	sec, _ := NewSecret()
	want := "/kith/g/" + topicEncoding.EncodeToString(sec.derive("kith group topic", 10))
	if sec.Topic() != want || EpochKey(sec).Topic() != want {
		t.Fatal("epoch 0's topic changed")
	}
	sealed := NewKeys(sec).Seal(testID(1), []byte("hi"))
	if _, err := NewEpochKeys(sec.ID(), EpochKey(sec)).Open(testID(1), sealed); err != nil {
		t.Fatal(err)
	}
	k, _ := NewEpochKey()
	if _, err := NewEpochKeys(sec.ID(), k).Open(testID(1), sealed); !errors.Is(err, ErrAuth) {
		t.Fatalf("another epoch's keys opened it: %v", err)
	}
	if k.Topic() == want {
		t.Fatal("a new epoch kept the old topic")
	}
}

// TestMayHold: the key of an epoch goes to current members it does not
// shut out, never to a removed member, even one a late state has not
// heard was removed.
func TestMayHold(t *testing.T) {
	f := newFakeTime()
	a, b, x, y := newSigner(t, f), newSigner(t, f), newSigner(t, f), newSigner(t, f)
	s := signedState(t, a, b, x, y)
	late := s.Clone() // will not hear of x's removal
	if _, err := s.Remove(a.clock, x.id); err != nil {
		t.Fatal(err)
	}
	u, _, err := s.Rotate(a.clock)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, late, u)
	ref := u.Epoch.Ref()
	outsider := newSigner(t, f)
	tests := []struct {
		name  string
		s     *State
		p     peer.ID
		ref   EpochRef
		allow bool
	}{
		{"current member", s, b.id, ref, true},
		{"removed member", s, x.id, ref, false},
		{"removed member, late state", late, x.id, ref, false},
		{"removed member, epoch 0", s, x.id, EpochRef{}, false},
		{"outsider", s, outsider.id, ref, false},
		{"an epoch the state lacks", s, b.id, epochRef(7, 1), false},
		{"member, late state", late, y.id, ref, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.MayHold(tt.p, tt.ref); got != tt.allow {
				t.Fatalf("MayHold = %v, want %v", got, tt.allow)
			}
		})
	}
}

// TestShouldRotate: the remover of an uncovered removal makes the next
// epoch; if it is gone too, the current member with the lowest ID does.
func TestShouldRotate(t *testing.T) {
	f := newFakeTime()
	ms := []signer{newSigner(t, f), newSigner(t, f), newSigner(t, f), newSigner(t, f)}
	slices.SortFunc(ms, func(p, q signer) int { return bytes.Compare([]byte(p.id), []byte(q.id)) })
	low, mid, high, x := ms[0], ms[1], ms[2], ms[3]
	s := signedState(t, ms...)
	rotators := func(s *State) []peer.ID {
		var out []peer.ID
		for _, m := range ms {
			if s.ShouldRotate(m.id) {
				out = append(out, m.id)
			}
		}
		return out
	}
	if r := rotators(s); len(r) != 0 {
		t.Fatalf("no removal, yet %v rotate", r)
	}
	if _, err := s.Remove(high.clock, x.id); err != nil {
		t.Fatal(err)
	}
	if r := rotators(s); !slices.Equal(r, []peer.ID{high.id}) {
		t.Fatalf("rotators %v, want the remover", r)
	}
	// The remover is removed before it could rotate: the lowest ID takes over.
	if _, err := s.Remove(mid.clock, high.id); err != nil {
		t.Fatal(err)
	}
	if r := rotators(s); !slices.Equal(r, []peer.ID{low.id, mid.id}) {
		t.Fatalf("rotators %v, want the lowest ID (x's remover is gone) and high's remover", r)
	}
	u, _, err := s.Rotate(low.clock)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Epoch.Removed, sortedIDs(x.id, high.id)) {
		t.Fatalf("the epoch shuts out %v", u.Epoch.Removed)
	}
	if r := rotators(s); len(r) != 0 || len(s.Uncovered()) != 0 {
		t.Fatalf("after the rotation: rotators %v, uncovered %v", r, s.Uncovered())
	}
}

func sortedIDs(ids ...peer.ID) []peer.ID { slices.Sort(ids); return ids }

// TestConcurrentRemovalsConverge: a and b each remove someone at the same
// time and each make epoch 1. Once their states merge, every member picks
// the same epoch 1, the loser's removal is uncovered, its remover makes
// epoch 2 shutting out both, and then nothing more is due.
func TestConcurrentRemovalsConverge(t *testing.T) {
	f := newFakeTime()
	a, b, c, x, y := newSigner(t, f), newSigner(t, f), newSigner(t, f), newSigner(t, f), newSigner(t, f)
	base := signedState(t, a, b, c, x, y)
	sa, sb := base.Clone(), base.Clone()
	if _, err := sa.Remove(a.clock, x.id); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Remove(b.clock, y.id); err != nil {
		t.Fatal(err)
	}
	ua, _, err := sa.Rotate(a.clock)
	if err != nil {
		t.Fatal(err)
	}
	ub, _, err := sb.Rotate(b.clock)
	if err != nil {
		t.Fatal(err)
	}
	if ua.Epoch.N != 1 || ub.Epoch.N != 1 {
		t.Fatalf("epochs %d and %d, want two candidates for 1", ua.Epoch.N, ub.Epoch.N)
	}
	sa.Merge(sb)
	sb.Merge(sa)
	if sa.Digest() != sb.Digest() {
		t.Fatal("states differ after merging")
	}
	winner, _ := sa.Epoch()
	if w, _ := sb.Epoch(); w.Ref() != winner.Ref() {
		t.Fatal("the two pick different epochs")
	}
	loser := b
	if winner.Ref() == ub.Epoch.Ref() {
		loser = a
	}
	var due []peer.ID
	for _, m := range []signer{a, b, c} {
		if sa.ShouldRotate(m.id) {
			due = append(due, m.id)
		}
	}
	if !slices.Equal(due, []peer.ID{loser.id}) {
		t.Fatalf("rotators %v, want only the loser's remover", due)
	}
	u2, _, err := sa.Rotate(loser.clock)
	if err != nil {
		t.Fatal(err)
	}
	sb.Merge(sa)
	cur, _ := sb.Epoch()
	if cur.N != 2 || !slices.Equal(cur.Removed, sortedIDs(x.id, y.id)) || cur.Ref() != u2.Epoch.Ref() {
		t.Fatalf("epoch %d shutting out %v, want 2 shutting out x and y", cur.N, cur.Removed)
	}
	for _, m := range []signer{a, b, c} {
		if sb.ShouldRotate(m.id) {
			t.Fatalf("%s still wants to rotate", m.id)
		}
	}
	for _, m := range []peer.ID{x.id, y.id} {
		if sb.MayHold(m, cur.Ref()) {
			t.Fatal("a removed member may hold the new key")
		}
	}
}

// TestRemovedMakersEpochIsDropped: an epoch a member made stops counting
// once that member is removed (it knows the key): a member that took the
// key stops using it, and a new epoch is due.
func TestRemovedMakersEpochIsDropped(t *testing.T) {
	f := newFakeTime()
	a, x := newSigner(t, f), newSigner(t, f)
	s := signedState(t, a, x)
	ux, kx, err := s.Rotate(x.clock)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := NewSecret()
	ring := NewKeyring(sec)
	if _, err := ring.Add(KeyGrant{Epoch: ux, Key: kx[:]}); err != nil {
		t.Fatal(err)
	}
	if ring.Use(s) != ux.Epoch.Ref() {
		t.Fatal("a member's epoch is not used")
	}
	if _, err := s.Remove(a.clock, x.id); err != nil {
		t.Fatal(err)
	}
	if cur, ok := s.Epoch(); ok {
		t.Fatalf("the removed member's epoch %s is still current", cur.Ref())
	}
	if ring.Use(s) != (EpochRef{}) {
		t.Fatal("the removed member's key is still used")
	}
	if !s.ShouldRotate(a.id) {
		t.Fatal("no new epoch is due")
	}
	u, _, err := s.Rotate(a.clock)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.Epoch(); cur.Ref() != u.Epoch.Ref() {
		t.Fatalf("current %s, want the new epoch", cur.Ref())
	}
}
