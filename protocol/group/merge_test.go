package group

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// randomUpdates makes a history of updates from several writers: joins,
// budget changes, shares, re-shares, unshares and leaves, with clashing
// keys so that last-writer-wins has work to do.
func randomUpdates(r *rand.Rand, n int) []Update {
	var out []Update
	ft := newFakeTime()
	clocks := make([]*Clock, 5)
	for i := range clocks {
		clocks[i] = clockAt(testID(i), ft)
	}
	for range n {
		ft.add(time.Duration(r.IntN(3)) * time.Millisecond) // many updates share a millisecond
		c := clocks[r.IntN(len(clocks))]
		v := c.Now()
		switch r.IntN(4) {
		case 0:
			u := memberUpdate(c.Node(), int64(r.IntN(1000)), v)
			u.Member.Left = r.IntN(4) == 0
			out = append(out, u)
		default:
			u := intentUpdate(testCID(r.IntN(8)), c.Node(), 1+r.IntN(3), v)
			u.Intent.Withdrawn = r.IntN(3) == 0
			out = append(out, u)
		}
	}
	return out
}

func TestMergeOrderDoesNotMatter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		ups := randomUpdates(r, 60)
		ref := NewState()
		for _, u := range ups {
			mustApply(t, ref, u)
		}
		for range 10 {
			s := NewState()
			for _, i := range r.Perm(len(ups)) {
				mustApply(t, s, ups[i])
			}
			if s.Digest() != ref.Digest() {
				t.Fatalf("trial %d: permutation gave another state", trial)
			}
		}
	}
}

func TestMergeStatesCommutativeAssociativeIdempotent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 30 {
		ups := randomUpdates(r, 90)
		parts := [3]*State{NewState(), NewState(), NewState()}
		for _, u := range ups {
			mustApply(t, parts[r.IntN(3)], u)
		}
		a, b, c := parts[0], parts[1], parts[2]
		merge := func(x, y *State) *State { z := x.Clone(); z.Merge(y); return z }
		ab, ba := merge(a, b), merge(b, a)
		if ab.Digest() != ba.Digest() {
			t.Fatal("merge is not commutative")
		}
		if merge(ab, c).Digest() != merge(a, merge(b, c)).Digest() {
			t.Fatal("merge is not associative")
		}
		abc := merge(ab, c)
		before := abc.Digest()
		if n := abc.Merge(a); n != 0 || abc.Digest() != before {
			t.Fatal("merge is not idempotent")
		}
		if n := abc.Merge(abc.Clone()); n != 0 {
			t.Fatal("merging a state into itself changed it")
		}
		// Merging must not change its argument (clones share nodes).
		da := a.Digest()
		x := a.Clone()
		x.Merge(c)
		if a.Digest() != da {
			t.Fatal("merge changed the other state")
		}
	}
}

func TestApplyUpdateIdempotentAndOlderLoses(t *testing.T) {
	s := NewState()
	ft := newFakeTime()
	c := clockAt(testID(1), ft)
	old := intentUpdate(testCID(1), testID(1), 2, c.Now())
	newer := intentUpdate(testCID(1), testID(1), 3, c.Now())
	if !mustApply(t, s, newer) || mustApply(t, s, newer) {
		t.Fatal("first apply must change, second must not")
	}
	if mustApply(t, s, old) {
		t.Fatal("an older version won")
	}
	if in, _ := s.Intent(testCID(1)); in.Copies != 3 {
		t.Fatalf("copies = %d, want 3", in.Copies)
	}
}

func TestWithdrawThenReshare(t *testing.T) {
	ft := newFakeTime()
	a, b := clockAt(testID(1), ft), clockAt(testID(2), ft)
	s := NewState()
	mustApply(t, s, memberUpdate(testID(1), 0, a.Now()))
	share, _ := s.Share(a, testCID(1), "x", 10, 2)
	ft.add(time.Millisecond)
	unshare, err := s.Unshare(b, testCID(1))
	if err != nil {
		t.Fatal(err)
	}
	ft.add(time.Millisecond)
	reshare, _ := s.Share(a, testCID(1), "x", 10, 3)
	for _, order := range [][]Update{{share, unshare, reshare}, {reshare, unshare, share}, {unshare, reshare, share}} {
		s := NewState()
		for _, u := range order {
			mustApply(t, s, u)
		}
		in, ok := s.Intent(testCID(1))
		if !ok || in.Withdrawn || in.Copies != 3 {
			t.Fatalf("re-share with a later clock must win, got %+v", in)
		}
	}
	// and a withdraw later than the re-share wins over it
	ft.add(time.Millisecond)
	again, _ := s.Unshare(b, testCID(1))
	t2 := NewState()
	mustApply(t, t2, again)
	mustApply(t, t2, reshare)
	if in, _ := t2.Intent(testCID(1)); !in.Withdrawn {
		t.Fatal("later withdraw lost")
	}
	if _, err := t2.Unshare(b, testCID(1)); err == nil {
		t.Fatal("unsharing a withdrawn intent must fail")
	}
}

func TestEqualVersionsDifferentContentConverge(t *testing.T) {
	v := HLC{Wall: t0.UnixMilli(), Node: testID(1)}
	x, y := intentUpdate(testCID(1), testID(1), 1, v), intentUpdate(testCID(1), testID(1), 2, v)
	s1, s2 := NewState(), NewState()
	mustApply(t, s1, x)
	mustApply(t, s1, y)
	mustApply(t, s2, y)
	mustApply(t, s2, x)
	if s1.Digest() != s2.Digest() {
		t.Fatal("a clash of equal versions must resolve the same everywhere")
	}
}

func TestCompaction(t *testing.T) {
	ft := newFakeTime()
	c := clockAt(testID(1), ft)
	s := NewState()
	mustApply(t, s, memberUpdate(testID(1), 0, c.Now()))
	s.Share(c, testCID(1), "old", 1, 1)
	s.Share(c, testCID(2), "kept", 1, 1)
	s.Share(c, testCID(3), "withdrawn late", 1, 1)
	liveOld, _ := s.Intent(testCID(1))
	tomb, _ := s.Unshare(c, testCID(1))
	ft.add(8 * 24 * time.Hour)
	s.Unshare(c, testCID(3))
	if n := s.Compact(ft.t, DefaultCompactionHorizon); n != 1 {
		t.Fatalf("compacted %d entries, want 1", n)
	}
	if _, ok := s.Intent(testCID(1)); ok {
		t.Fatal("old tombstone kept")
	}
	if in, ok := s.Intent(testCID(3)); !ok || !in.Withdrawn {
		t.Fatal("recent tombstone dropped")
	}
	if _, ok := s.Intent(testCID(2)); !ok {
		t.Fatal("old live intent dropped")
	}
	// A member that has not compacted yet sends the old tombstone: it is
	// not re-added, and it still deletes an older live copy.
	if mustApply(t, s, tomb) {
		t.Fatal("compacted tombstone re-added")
	}
	other := NewState()
	mustApply(t, other, Update{Intent: &liveOld})
	other.Compact(ft.t, DefaultCompactionHorizon)
	mustApply(t, other, tomb)
	if _, ok := other.Intent(testCID(1)); ok {
		t.Fatal("compacted tombstone did not delete the older live copy")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	s := NewState()
	for _, u := range randomUpdates(r, 100) {
		mustApply(t, s, u)
	}
	s.MarkSynced(t0)
	s.Compact(t0.Add(-time.Hour), time.Hour)
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest() != s.Digest() || !got.Synced().Equal(t0) || !got.Floor().Equal(s.Floor()) {
		t.Fatal("state changed in a marshal round trip")
	}
	b2, _ := got.Marshal()
	if !bytes.Equal(b, b2) {
		t.Fatal("marshal is not deterministic")
	}
	if _, err := Unmarshal([]byte(`{"version":1,"entries":[{"i":{"copies":99}}]}`)); err == nil {
		t.Fatal("invalid entry accepted")
	}
}

func TestRebaseDropsResurrections(t *testing.T) {
	ft := newFakeTime()
	c := clockAt(testID(1), ft)
	stale := NewState()
	mustApply(t, stale, memberUpdate(testID(1), 0, c.Now()))
	stale.Share(c, testCID(1), "deleted while away", 1, 1)

	current := stale.Clone()
	current.Unshare(c, testCID(1))
	ft.add(10 * 24 * time.Hour)
	current.Compact(ft.t, DefaultCompactionHorizon)
	current.MarkSynced(ft.t)

	if !current.NeedsSnapshot(t0) || current.NeedsSnapshot(ft.t) {
		t.Fatal("NeedsSnapshot wrong")
	}
	stale.Share(c, testCID(2), "shared while away", 1, 1) // recent: kept
	stale.Rebase(current, ft.t)
	if _, ok := stale.Intent(testCID(1)); ok {
		t.Fatal("rebase resurrected a withdrawn intent")
	}
	if _, ok := stale.Intent(testCID(2)); !ok {
		t.Fatal("rebase lost a recent local intent")
	}
}
