package group

import (
	"testing"
	"time"
)

// reconcile runs a sync between a and b through encoded messages and
// returns the number of messages and the largest one.
func reconcile(t *testing.T, a, b *State, now time.Time) (msgs, largest int) {
	t.Helper()
	out := a.SyncOpen()
	sides := [2]*State{b, a}
	for i := 0; ; i++ {
		enc, err := EncodeSyncMsg(out)
		if err != nil {
			t.Fatal(err)
		}
		msgs++
		largest = max(largest, len(enc))
		if out.Empty() {
			return msgs, largest
		}
		in, err := DecodeSyncMsg(enc)
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err = sides[i%2].SyncStep(in, now); err != nil {
			t.Fatal(err)
		}
		if i > 1000 {
			t.Fatal("sync does not terminate")
		}
	}
}

func bigState(t *testing.T, n int) *State {
	ft := newFakeTime()
	c := clockAt(testID(0), ft)
	s := NewState()
	mustApply(t, s, memberUpdate(testID(0), 0, c.Now()))
	for i := range n {
		mustApply(t, s, intentUpdate(testCID(i), testID(0), 1, c.Now()))
	}
	return s
}

func TestSyncFindsFewDifferencesInFewRounds(t *testing.T) {
	base := bigState(t, 5000)
	a, b := base.Clone(), base.Clone()
	ft := newFakeTime()
	ft.add(time.Hour)
	ca, cb := clockAt(testID(0), ft), clockAt(testID(0), ft)
	for i := range 5 {
		mustApply(t, a, intentUpdate(testCID(10000+i), testID(0), 2, ca.Now()))
		mustApply(t, b, intentUpdate(testCID(i*7), testID(0), 3, cb.Now())) // b changes existing ones
	}
	msgs, largest := reconcile(t, a, b, ft.t)
	if a.Digest() != b.Digest() {
		t.Fatal("states differ after sync")
	}
	t.Logf("5000 entries, 10 differing: %d messages, largest %d bytes", msgs, largest)
	if msgs > 8 || largest > 64<<10 {
		t.Fatalf("sync too costly: %d messages, largest %d bytes", msgs, largest)
	}
}

func TestSyncFromEmptyIsBounded(t *testing.T) {
	full := bigState(t, 3000)
	empty := NewState()
	ft := newFakeTime()
	msgs, largest := reconcile(t, empty, full, ft.t)
	if empty.Digest() != full.Digest() {
		t.Fatal("states differ after sync")
	}
	t.Logf("3000 entries from nothing: %d messages, largest %d bytes", msgs, largest)
	if largest > MaxSyncMsgSize {
		t.Fatal("message over bound")
	}
}

func TestSyncEqualStatesOneRound(t *testing.T) {
	s := bigState(t, 100)
	msgs, _ := reconcile(t, s.Clone(), s.Clone(), t0)
	if msgs != 2 {
		t.Fatalf("equal states took %d messages, want 2 (open, empty answer)", msgs)
	}
}

func TestSyncRejectsOversize(t *testing.T) {
	if _, err := DecodeSyncMsg(make([]byte, MaxSyncMsgSize+1)); err == nil {
		t.Fatal("oversize accepted")
	}
	m := SyncMsg{Want: make([][]byte, MaxSyncWant+1)}
	for i := range m.Want {
		m.Want[i] = []byte("k")
	}
	if _, _, err := NewState().SyncStep(m, t0); err == nil {
		t.Fatal("too many wants accepted")
	}
}

func TestCheckHello(t *testing.T) {
	ft := newFakeTime()
	c := clockAt(testID(9), ft)
	s := NewState()
	joiner := NewState()
	self, _ := joiner.Join(c, "new laptop", nil, 1<<30)
	h := SyncHello{Self: self, Synced: time.Time{}, Digest: make([]byte, 32)}
	if err := s.CheckHello(testID(8), h, ft.t); err == nil {
		t.Fatal("hello with someone else's record accepted")
	}
	if err := s.CheckHello(testID(9), h, ft.t); err != nil || !s.IsMember(testID(9)) {
		t.Fatalf("new member's hello refused: %v", err)
	}
	if !s.NeedsSnapshot(h.Synced) {
		t.Fatal("a member that never synced needs a snapshot")
	}
}
