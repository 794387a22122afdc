package group

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestMessageValidation(t *testing.T) {
	ft := newFakeTime()
	alice, bob, eve := testID(1), testID(2), testID(3)
	ca, ce := clockAt(alice, ft), clockAt(eve, ft)
	s := NewState()
	mustApply(t, s, memberUpdate(alice, 1<<30, ca.Now()))
	mustApply(t, s, memberUpdate(bob, 1<<30, clockAt(bob, ft).Now()))

	hb := func(m, clockOf int) Message {
		return Message{Heartbeat: &Heartbeat{Member: testID(m), Clock: clockAt(testID(clockOf), ft).Now(), Parts: 1, Digest: make([]byte, HeartbeatDigestLen)}}
	}
	intent := func(c *Clock, copies int, name string) Message {
		u := intentUpdate(testCID(1), c.Node(), copies, c.Now())
		u.Intent.Name = name
		return Message{Update: &u}
	}
	future := intent(ca, 1, "x")
	future.Update.Intent.Version.Wall = ft.t.Add(time.Hour).UnixMilli()
	future.Update.Intent.Created = future.Update.Intent.Version
	eveJoin := memberUpdate(eve, 0, ce.Now())
	forgedJoin := memberUpdate(eve, 0, ca.Now()) // a record of eve written by alice

	tests := []struct {
		name   string
		msg    Message
		sender int
		want   error // nil: valid
	}{
		{"intent from member", intent(ca, 2, "photos"), 1, nil},
		{"intent from non-member", intent(ce, 2, "photos"), 3, ErrNotMember},
		{"intent relayed by another", intent(ca, 2, "photos"), 2, ErrInvalid},
		{"copies 0", intent(ca, 0, "x"), 1, ErrInvalid},
		{"copies 17", intent(ca, 17, "x"), 1, ErrInvalid},
		{"control character in name", intent(ca, 1, "a\x1bb"), 1, ErrInvalid},
		{"name too long", intent(ca, 1, strings.Repeat("n", 300)), 1, ErrInvalid},
		{"clock far ahead", future, 1, ErrClockSkew},
		{"self join by non-member", Message{Update: &eveJoin}, 3, nil},
		{"member record written by another", Message{Update: &forgedJoin}, 1, ErrInvalid},
		{"heartbeat from member", hb(1, 1), 1, nil},
		{"heartbeat naming another", hb(2, 2), 1, ErrInvalid},
		{"heartbeat from non-member", hb(3, 3), 3, ErrNotMember},
		{"empty message", Message{}, 1, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeMessage(tt.msg)
			if err == nil {
				var m Message
				if m, err = DecodeMessage(b); err == nil {
					err = m.Validate(testID(tt.sender), s, ft.t)
				}
			}
			if tt.want == nil && err != nil {
				t.Fatalf("valid message refused: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMessageBounds(t *testing.T) {
	if _, err := DecodeMessage(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	roots := make([]cid.Cid, MaxHeldPage+1)
	for i := range roots {
		roots[i] = testCID(i)
	}
	h := Heartbeat{Member: testID(1), Clock: HLC{Wall: 1, Node: testID(1)}, Parts: 1, Held: len(roots), Roots: roots, Digest: make([]byte, HeartbeatDigestLen)}
	b, _ := EncodeMessage(Message{Heartbeat: &h})
	if _, err := DecodeMessage(b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too many roots: %v", err)
	}
	h.Roots, h.Parts, h.Part = roots[:10], 4, 1
	b, _ = EncodeMessage(Message{Heartbeat: &h})
	if _, err := DecodeMessage(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("roots outside their page: %v", err)
	}
}

func TestLiveness(t *testing.T) {
	cfg := TestConfig()
	l := NewLiveness(cfg, t0)
	id := testID(1)
	beat := func(wall int64, inc uint64, part, parts uint16, roots ...cid.Cid) Heartbeat {
		return Heartbeat{Member: id, Clock: HLC{Wall: wall, Node: id}, Incarnation: inc, Part: part, Parts: parts, Roots: roots, Held: len(roots), Digest: make([]byte, HeartbeatDigestLen)}
	}
	if l.Health(id, t0.Add(cfg.Grace)) != Suspect {
		t.Fatal("an unheard member gets the grace period from our start")
	}
	if l.Health(id, t0.Add(cfg.Grace+time.Millisecond)) != Gone {
		t.Fatal("unheard past grace must be gone")
	}
	at := t0.Add(time.Second)
	if !l.Observe(beat(10, 1, 0, 1, testCID(1), testCID(2)), at) {
		t.Fatal("heartbeat refused")
	}
	if l.Observe(beat(9, 1, 0, 1), at.Add(time.Millisecond)) {
		t.Fatal("older heartbeat accepted")
	}
	// healthAfter checks id's health at from plus each duration.
	healthAfter := func(what string, from time.Time, want map[time.Duration]Health) {
		t.Helper()
		for after, w := range want {
			if got := l.Health(id, from.Add(after)); got != w {
				t.Errorf("%v after %s: %v, want %v", after, what, got, w)
			}
		}
	}
	healthAfter("a heartbeat", at, map[time.Duration]Health{0: Alive, cfg.SuspectAfter + 1: Suspect, cfg.Grace: Suspect, cfg.Grace + 1: Gone})
	s := NewState()
	mustApply(t, s, memberUpdate(id, 5, HLC{Wall: 1, Node: id}))
	if v := l.Views(s); len(v) != 1 || !v[0].Holds.Has(testCID(2)) || v[0].Budget != 5 {
		t.Fatalf("views: %+v", v)
	}
	// Pages: with 2 parts, a page replaces only its own roots.
	var in0, in1 cid.Cid
	for i := 0; !in0.Defined() || !in1.Defined(); i++ {
		if c := testCID(100 + i); HeldPart(c, 2) == 0 {
			in0 = c
		} else {
			in1 = c
		}
	}
	l.Observe(beat(11, 1, 0, 2, in0), at)
	l.Observe(beat(12, 1, 1, 2, in1), at)
	l.Observe(beat(13, 1, 0, 2), at)
	if v := l.Views(s); v[0].Holds.Has(in0) || !v[0].Holds.Has(in1) {
		t.Fatalf("page replace wrong: %v", v[0].Holds)
	}
	// A goodbye (the daemon stops) repeats the last page: the member shows
	// offline at once, its holdings stay, and the grace period still
	// decides when it is gone; its next heartbeat makes it alive again.
	bye := beat(14, 1, 1, 2, in1)
	bye.Offline = true
	byeAt := at.Add(time.Second)
	if !l.Observe(bye, byeAt) {
		t.Fatal("goodbye refused")
	}
	healthAfter("the goodbye", byeAt, map[time.Duration]Health{0: Offline, cfg.SuspectAfter + 1: Offline, cfg.Grace: Offline, cfg.Grace + 1: Gone})
	if v := l.Views(s); !v[0].Holds.Has(in1) || !v[0].LastSeen.Equal(byeAt) {
		t.Fatalf("after the goodbye: holds %v, last seen %v", v[0].Holds, v[0].LastSeen)
	}
	l.Observe(beat(15, 1, 0, 2), byeAt.Add(time.Second))
	if got := l.Health(id, byeAt.Add(time.Second)); got != Alive {
		t.Fatalf("heard again after a goodbye: %v, want alive", got)
	}
	// A restart (higher incarnation) resets holdings even with an older clock.
	if !l.Observe(beat(1, 2, 0, 2), at) {
		t.Fatal("new incarnation refused")
	}
	if v := l.Views(s); len(v[0].Holds) != 0 {
		t.Fatal("restart did not reset holdings")
	}
}

func TestHeartbeatCodec(t *testing.T) {
	id := testID(1)
	full := Heartbeat{
		Member: id, Clock: HLC{Wall: 1_795_000_000_000, Count: 7, Node: id}, Incarnation: 12,
		Used: 5 << 30, Held: 3, Part: 1, Parts: 2, Every: 90 * time.Second,
		Digest: []byte{1, 2, 3, 4, 5, 6, 7, 8},
	}
	for i := 0; len(full.Roots) < 2; i++ {
		if c := testCID(200 + i); HeldPart(c, 2) == 1 {
			full.Roots = append(full.Roots, c)
		}
	}
	b, err := EncodeMessage(Message{Heartbeat: &full})
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Heartbeat
	if got == nil || got.Member != id || got.Clock != full.Clock || got.Incarnation != 12 || got.Used != full.Used ||
		got.Held != 3 || got.Part != 1 || got.Parts != 2 || got.Every != full.Every || got.Offline ||
		string(got.Digest) != string(full.Digest) || len(got.Roots) != 2 || !got.Roots[1].Equals(full.Roots[1]) {
		t.Fatalf("round trip: got %+v, want %+v", got, full)
	}
	// A goodbye goes as JSON (older kith ignore its field there, where the
	// binary form would have a trailing byte they refuse), and reads back
	// whole.
	bye := full
	bye.Offline = true
	jb, err := EncodeMessage(Message{Heartbeat: &bye})
	if err != nil {
		t.Fatal(err)
	}
	var older struct{ H *struct{ M peer.ID } } // what a kith without the field reads
	if jb[0] != '{' || json.Unmarshal(jb, &older) != nil || older.H == nil || older.H.M != id {
		t.Fatalf("goodbye: %s", jb)
	}
	if m, err := DecodeMessage(jb); err != nil || !m.Heartbeat.Offline || m.Heartbeat.Clock != full.Clock || len(m.Heartbeat.Roots) != 2 || m.Heartbeat.Every != full.Every {
		t.Fatalf("goodbye round trip: %+v, %v", m.Heartbeat, err)
	}
	idle := Heartbeat{Member: id, Clock: full.Clock, Parts: 1, Digest: full.Digest, Every: 30 * time.Second}
	small, _ := EncodeMessage(Message{Heartbeat: &idle})
	if len(small) > 80 {
		t.Errorf("an idle heartbeat takes %d bytes, want at most 80", len(small))
	}
	for _, tt := range []struct {
		name string
		b    []byte
		want error
	}{
		{"truncated", b[:len(b)-3], ErrInvalid},
		{"trailing byte", append(append([]byte(nil), b...), 0), ErrInvalid},
		{"tag only", []byte{heartbeatTag}, ErrInvalid},
		{"huge peer ID length", []byte{heartbeatTag, 0xff, 0xff, 0x03}, ErrInvalid},
		{"root count over the page", append(small[:len(small)-1:len(small)-1], 0x81, 0x02), ErrTooLarge},
		{"unknown peer ID bytes", append([]byte{heartbeatTag, 3, 'a', 'b', 'c'}, small[2+len(id):]...), ErrInvalid},
	} {
		if _, err := DecodeMessage(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestHeartbeatEvery(t *testing.T) {
	cfg := DefaultConfig()
	for _, tt := range []struct {
		members int
		want    time.Duration
	}{
		{1, 30 * time.Second}, {25, 30 * time.Second}, {50, time.Minute},
		{100, 2 * time.Minute}, {1000, 3 * time.Minute}, // capped at a tenth of the 30 min grace
	} {
		if got := cfg.HeartbeatEvery(tt.members); got != tt.want {
			t.Errorf("%d members: %v, want %v", tt.members, got, tt.want)
		}
	}
	// A member that beats slowly is suspected later; never later than grace.
	l := NewLiveness(cfg, t0)
	id := testID(1)
	l.Observe(Heartbeat{Member: id, Clock: HLC{Wall: 1, Node: id}, Parts: 1, Every: 2 * time.Minute, Digest: make([]byte, HeartbeatDigestLen)}, t0)
	if h := l.Health(id, t0.Add(5*time.Minute)); h != Alive {
		t.Errorf("5 min after a beat announcing 2 min: %v, want alive", h)
	}
	if h := l.Health(id, t0.Add(6*time.Minute+time.Second)); h != Suspect {
		t.Errorf("past 3 announced intervals: %v, want suspect", h)
	}
	l.Observe(Heartbeat{Member: id, Clock: HLC{Wall: 2, Node: id}, Parts: 1, Every: 20 * time.Hour, Digest: make([]byte, HeartbeatDigestLen)}, t0)
	if h := l.Health(id, t0.Add(cfg.Grace+time.Second)); h != Gone {
		t.Errorf("an announced interval past grace must not delay gone: %v", h)
	}
}

// TestLivenessShown: the Shown counter moves with heartbeats that change
// what a member is seen to hold or whether it is there, and only with them
// (a group's page redraws on it).
func TestLivenessShown(t *testing.T) {
	cfg := TestConfig()
	l := NewLiveness(cfg, t0)
	id := testID(1)
	wall := int64(0)
	beat := func(inc uint64, used int64, off bool, roots ...cid.Cid) Heartbeat {
		wall++
		return Heartbeat{Member: id, Clock: HLC{Wall: wall, Node: id}, Incarnation: inc, Parts: 1, Roots: roots,
			Held: len(roots), Used: used, Offline: off, Digest: make([]byte, HeartbeatDigestLen)}
	}
	a, b := testCID(1), testCID(2)
	at := t0
	step := cfg.SuspectAfter / 10 // heartbeats close together
	steps := []struct {
		name  string
		hb    Heartbeat
		after time.Duration // since the step before
		shown bool
	}{
		{"first heard", beat(1, 10, false, a), step, true},
		{"the same again", beat(1, 10, false, a), step, false},
		{"one more root", beat(1, 20, false, a, b), step, true},
		{"same roots, other order", beat(1, 20, false, b, a), step, false},
		{"a root replaced, same count and space", beat(1, 20, false, a, testCID(3)), step, true},
		{"back after a silence", beat(1, 20, false, a, testCID(3)), cfg.SuspectAfter + step, true},
		{"goodbye", beat(1, 20, true, a, testCID(3)), step, true},
		{"restarted, holding the same", beat(2, 20, false, a, testCID(3)), step, true},
		{"steady after the restart", beat(2, 20, false, a, testCID(3)), step, false},
	}
	for _, st := range steps {
		at = at.Add(st.after)
		before := l.Shown()
		if !l.Observe(st.hb, at) {
			t.Fatalf("%s: heartbeat refused", st.name)
		}
		if got := l.Shown() != before; got != st.shown {
			t.Errorf("%s: shown anew %v, want %v", st.name, got, st.shown)
		}
	}
	// A replayed (older) heartbeat is ignored, and so moves nothing.
	old := beat(2, 99, false)
	old.Clock.Wall = 1
	before := l.Shown()
	if l.Observe(old, at.Add(step)) || l.Shown() != before {
		t.Error("a replayed heartbeat was used or shown")
	}
}
