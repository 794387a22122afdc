package group

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/allocs"
)

// Fuzz targets for every decoder of bytes from peers, from invite tokens and
// from disk. Each checks that garbage is refused with one of the package's
// error kinds, that what decodes survives re-encoding (the same value, and
// the same bytes the second time), and that the decoder allocates in
// proportion to its input, not to the lengths the input declares.

// allocLimit bounds what decoding n bytes of JSON or binary may allocate:
// JSON of empty objects costs tens of bytes of Go values per input byte;
// a length field trusted before reading costs megabytes.
func allocLimit(n int) uint64 { return 1<<20 + 128*uint64(n) }

func decodeBounded[T any](t *testing.T, b []byte, decode func([]byte) (T, error)) (T, error) {
	t.Helper()
	var v T
	var err error
	if n := allocs.During(func() { v, err = decode(b) }); n > allocLimit(len(b)) {
		t.Fatalf("decoding %d bytes allocated %d bytes", len(b), n)
	}
	return v, err
}

// wantKind fails unless err wraps one of kinds.
func wantKind(t *testing.T, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error of no kind: %v", err)
}

// fuzzState is a small state with members, intents and tombstones, written
// by two members at t0.
func fuzzState(tb testing.TB) *State {
	tb.Helper()
	ft := newFakeTime()
	ca, cb := clockAt(testID(1), ft), clockAt(testID(2), ft)
	s := NewState()
	apply := func(u Update, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	apply(s.Join(ca, "laptop", []string{"/ip4/192.0.2.1/tcp/4001"}, 1<<30))
	apply(s.Join(cb, "desktop", nil, 1<<40))
	for i := range 6 {
		apply(s.Share([]*Clock{ca, cb}[i%2], testCID(i), "photos", int64(i)<<20, 1+i%3))
	}
	apply(s.Unshare(cb, testCID(1)))
	return s
}

// fuzzHeartbeat is a heartbeat of member 1 holding roots on page part of parts.
func fuzzHeartbeat(part, parts uint16) Heartbeat {
	h := Heartbeat{
		Member: testID(1), Clock: HLC{Wall: t0.UnixMilli(), Count: 3, Node: testID(1)}, Incarnation: 2,
		Used: 5 << 30, Part: part, Parts: parts, Every: 30 * time.Second,
		Digest: []byte{1, 2, 3, 4, 5, 6, 7, 8},
	}
	for i := 0; len(h.Roots) < 3; i++ {
		if c := testCID(300 + i); HeldPart(c, parts) == part {
			h.Roots = append(h.Roots, c)
		}
	}
	h.Held = 40
	return h
}

func messageSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	s := fuzzState(tb)
	var out [][]byte
	add := func(m Message) {
		b, err := EncodeMessage(m)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	for _, u := range s.Entries() {
		add(Message{Update: &u})
	}
	for _, h := range []Heartbeat{fuzzHeartbeat(0, 1), fuzzHeartbeat(3, 8), {Member: testID(2), Clock: HLC{Wall: 1, Node: testID(2)}, Parts: 1, Digest: make([]byte, HeartbeatDigestLen)}} {
		add(Message{Heartbeat: &h})
		// The JSON form older members send.
		b, err := json.Marshal(Message{Heartbeat: &h})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// sameHeartbeat compares heartbeats field by field (a nil and an empty list
// of roots are the same).
func sameHeartbeat(a, b *Heartbeat) bool {
	return a.Member == b.Member && a.Clock == b.Clock && a.Incarnation == b.Incarnation &&
		a.Used == b.Used && a.Held == b.Held && a.Part == b.Part && a.Parts == b.Parts &&
		a.Every == b.Every && bytes.Equal(a.Digest, b.Digest) &&
		slices.EqualFunc(a.Roots, b.Roots, cid.Cid.Equals)
}

func sameMessage(a, b Message) bool {
	switch {
	case a.Update != nil:
		return b.Update != nil && b.Heartbeat == nil && a.Update.Key() == b.Update.Key() && a.Update.hash() == b.Update.hash()
	case a.Heartbeat != nil:
		return b.Heartbeat != nil && b.Update == nil && sameHeartbeat(a.Heartbeat, b.Heartbeat)
	}
	return false
}

// messageRoundTrip decodes b and checks that what decodes re-encodes to a
// message that decodes to the same, and encodes to the same bytes again.
func messageRoundTrip(t *testing.T, b []byte) {
	m, err := decodeBounded(t, b, DecodeMessage)
	if err != nil {
		wantKind(t, err, ErrInvalid, ErrTooLarge)
		return
	}
	e1, err := EncodeMessage(m)
	if err != nil {
		t.Fatalf("a decoded message does not encode: %v", err)
	}
	m2, err := DecodeMessage(e1)
	if err != nil {
		t.Fatalf("a re-encoded message does not decode: %v", err)
	}
	if !sameMessage(m, m2) {
		t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
	}
	if e2, err := EncodeMessage(m2); err != nil || !bytes.Equal(e1, e2) {
		t.Fatalf("a message encodes to different bytes the second time: %v", err)
	}
}

// FuzzDecodeMessage feeds DecodeMessage what a gossip payload holds once
// opened: a JSON update, or a heartbeat (binary, or JSON from older members).
func FuzzDecodeMessage(f *testing.F) {
	for _, b := range messageSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"u":{},"h":{}}`))
	f.Add([]byte(`{"u":{"m":{"id":"","v":{"w":1}}}}`))
	f.Add([]byte{})
	f.Fuzz(messageRoundTrip)
}

// FuzzDecodeHeartbeat feeds the binary heartbeat codec: its input is what
// follows the heartbeat tag.
func FuzzDecodeHeartbeat(f *testing.F) {
	for _, b := range messageSeeds(f) {
		if b[0] == heartbeatTag {
			f.Add(b[1:])
		}
	}
	f.Add([]byte{0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		messageRoundTrip(t, append([]byte{heartbeatTag}, b...))
	})
}

func inviteSeeds(tb testing.TB) []string {
	tb.Helper()
	var sec Secret
	for i := range sec {
		sec[i] = byte(i)
	}
	var out []string
	for _, inv := range []Invite{
		{Name: "family", Secret: sec},
		{Name: "photos ☀", Secret: sec, Addrs: []string{"/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWHk2nE1Zn3CJbh6n8N4RnrBKv1XQ3kxW9Bq3aYSe7vV9Z", "/ip6/::1/udp/4001/quic-v1"}},
		{Name: "", Secret: sec, Addrs: []string{strings.Repeat("a", MaxAddrLen)}},
		{Name: "family", Group: sec.ID(), Key: InviteKey(sec), Addrs: []string{"/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWHk2nE1Zn3CJbh6n8N4RnrBKv1XQ3kxW9Bq3aYSe7vV9Z"}},
	} {
		tok, err := EncodeInvite(inv)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, tok, strings.ToUpper(tok[:20])+"\n "+tok[20:])
	}
	return out
}

// inviteRoundTrip decodes token and checks that what decodes is what
// EncodeInvite makes a token of, which decodes to the same invite.
func inviteRoundTrip(t *testing.T, token string) {
	inv, err := DecodeInvite(token)
	if err != nil {
		wantKind(t, err, ErrInvite)
		return
	}
	tok, err := EncodeInvite(inv)
	if err != nil {
		t.Fatalf("a decoded invite does not encode: %v", err)
	}
	again, err := DecodeInvite(tok)
	if err != nil {
		t.Fatalf("a re-encoded invite does not decode: %v", err)
	}
	if again.Name != inv.Name || again.Secret != inv.Secret || again.Group != inv.Group || again.Key != inv.Key || !slices.Equal(again.Addrs, inv.Addrs) {
		t.Fatalf("round trip changed the invite: %q %v, then %q %v", inv.Name, inv.Addrs, again.Name, again.Addrs)
	}
}

// FuzzDecodeInvite feeds DecodeInvite whole tokens, as a user pastes them.
func FuzzDecodeInvite(f *testing.F) {
	for _, tok := range inviteSeeds(f) {
		f.Add(tok)
	}
	f.Add(InvitePrefix)
	f.Add("kith1-aaaa")
	f.Add("")
	f.Fuzz(inviteRoundTrip)
}

// FuzzDecodeInviteBody feeds DecodeInvite token bodies with a correct
// checksum, which a fuzzer would never find by itself: it reaches the
// parsing of the content.
func FuzzDecodeInviteBody(f *testing.F) {
	for _, tok := range inviteSeeds(f) {
		b, err := inviteEncoding.DecodeString(strings.ToLower(strings.Join(strings.Fields(tok), ""))[len(InvitePrefix):])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:len(b)-4])
	}
	f.Add([]byte{inviteV1, 0})
	f.Add([]byte{inviteV2, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		b := append(body[:len(body):len(body)], inviteSum(body)...)
		inviteRoundTrip(t, InvitePrefix+inviteEncoding.EncodeToString(b))
	})
}

// syncSeeds records the messages of a reconciliation between s and a state
// that differs from it.
func syncSeeds(tb testing.TB, s *State) [][]byte {
	tb.Helper()
	other := NewState()
	ft := newFakeTime()
	ft.add(time.Minute)
	c := clockAt(testID(3), ft)
	if _, err := other.Join(c, "phone", nil, 0); err != nil {
		tb.Fatal(err)
	}
	for i := range 40 {
		if _, err := other.Share(c, testCID(100+i), "music", 10, 2); err != nil {
			tb.Fatal(err)
		}
	}
	var out [][]byte
	msg := other.SyncOpen()
	sides := [2]*State{s.Clone(), other}
	for i := 0; i < 20; i++ {
		b, err := EncodeSyncMsg(msg)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
		if msg.Empty() {
			break
		}
		if msg, _, err = sides[i%2].SyncStep(msg, ft.t); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// FuzzDecodeSyncMsg feeds DecodeSyncMsg a reconciliation message from a
// peer, then answers it from a small state: the answer must be a message
// the peer accepts (within every bound).
func FuzzDecodeSyncMsg(f *testing.F) {
	base := fuzzState(f)
	for _, b := range syncSeeds(f, base) {
		f.Add(b)
	}
	f.Add([]byte(`{"d":[{"r":{"lo":18446744073709551615,"hi":1},"n":-1}]}`))
	f.Add([]byte(`{"l":[{"r":{},"i":[{"k":"aQ==","w":-1,"s":""}]}],"w":["bQ=="]}`))
	now := t0.Add(time.Hour)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeBounded(t, b, DecodeSyncMsg)
		if err != nil {
			wantKind(t, err, ErrInvalid, ErrTooLarge)
			return
		}
		e1, err := EncodeSyncMsg(m)
		if err != nil {
			t.Fatalf("a decoded sync message does not encode: %v", err)
		}
		m2, err := DecodeSyncMsg(e1)
		if err != nil {
			t.Fatalf("a re-encoded sync message does not decode: %v", err)
		}
		if e2, err := EncodeSyncMsg(m2); err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("a sync message encodes to different bytes the second time: %v", err)
		}
		s := base.Clone()
		out, _, err := s.SyncStep(m, now)
		if err != nil {
			wantKind(t, err, ErrInvalid, ErrTooLarge)
			return
		}
		ob, err := EncodeSyncMsg(out)
		if err != nil {
			t.Fatalf("the answer does not encode: %v", err)
		}
		if _, err := DecodeSyncMsg(ob); err != nil {
			t.Fatalf("the peer would refuse our answer: %v", err)
		}
	})
}

// FuzzUnmarshalState feeds Unmarshal a snapshot, as read from disk or sent
// by a peer for us to rebase on.
func FuzzUnmarshalState(f *testing.F) {
	base := fuzzState(f)
	compacted := base.Clone()
	compacted.Compact(t0.Add(time.Hour), time.Minute)
	compacted.MarkSynced(t0.Add(2 * time.Hour))
	for _, s := range []*State{NewState(), base, compacted} {
		b, err := s.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"floor":-1,"synced":"2026-03-01T12:00:00+14:00","entries":null}`))
	now := t0.Add(3 * time.Hour)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeBounded(t, b, Unmarshal)
		if err != nil {
			wantKind(t, err, ErrInvalid, ErrTooLarge)
			return
		}
		b2, err := s.Marshal()
		if err != nil {
			t.Fatalf("a decoded state does not marshal: %v", err)
		}
		s2, err := Unmarshal(b2)
		if err != nil {
			t.Fatalf("a re-marshalled state does not decode: %v", err)
		}
		if s2.Digest() != s.Digest() || !s2.Floor().Equal(s.Floor()) || !s2.Synced().Equal(s.Synced()) || s2.Len() != s.Len() {
			t.Fatal("round trip changed the state")
		}
		if b3, err := s2.Marshal(); err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("a state marshals to different bytes the second time: %v", err)
		}
		// Rebasing on it, as a stale member does on a peer's snapshot.
		mine := base.Clone()
		mine.Rebase(s, now)
		if !mine.Synced().Equal(now) {
			t.Fatalf("rebased state synced at %v, want %v", mine.Synced(), now)
		}
		for _, u := range mine.Entries() {
			if err := u.Validate(); err != nil {
				t.Fatalf("rebased state holds an invalid entry: %v", err)
			}
		}
	})
}
