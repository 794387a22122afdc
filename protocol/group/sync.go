package group

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Anti-entropy by range-based set reconciliation (as iroh-docs and
// negentropy do it). Two members exchange SyncMsgs; each one answers the
// other's with SyncStep until one of them has nothing to say:
//
//   - a RangeDigest the receiver's own digest of that range matches: done;
//   - one that differs: answered with the receiver's list of (key, version)
//     items if the range is small, or with the digests of its 16 parts;
//   - a list: answered with the entries the other lacks or holds older
//     (pushed), and the keys the receiver lacks or holds older (wanted);
//   - wanted keys: answered with the entries.
//
// k differing entries among n cost about log16(n/SyncListMax)+3 round trips
// and O(k log n) bytes. Every message is bounded (MaxSyncMsgSize and the
// counts below); work that does not fit is deferred to the next round as the
// digest of a range covering it, so a sync never stalls. A peer that has been
// away longer than the compaction horizon gets a snapshot instead (see
// NeedsSnapshot), and a new member too, since reconciling from nothing takes
// n/MaxSyncPush rounds.

// Bounds of a SyncMsg.
const (
	SyncSplit        = 16   // parts a differing range is split into
	SyncListMax      = 32   // ranges with at most this many entries are listed
	MaxSyncDigests   = 512  // digests per message
	MaxSyncListItems = 1024 // list items per message, all lists together
	MaxSyncWant      = 256  // wanted keys per message
	MaxSyncPush      = 256  // entries pushed unasked per message
	MaxSyncEntries   = MaxSyncPush + MaxSyncWant
	MaxSyncMsgSize   = 1 << 20 // encoded bytes
	splitBudget      = 256     // digests a step emits by splitting
)

// SyncItem names one entry in a list: its key, version and a short hash of
// its contents (to catch equal versions with different contents).
type SyncItem struct {
	Key   []byte `json:"k"`
	Wall  int64  `json:"w"`
	Count uint32 `json:"c,omitempty"`
	Sum   []byte `json:"s"`
}

// RangeItems lists every entry of a range.
type RangeItems struct {
	Range Range      `json:"r"`
	Items []SyncItem `json:"i"`
}

// SyncMsg is one message of a reconciliation.
type SyncMsg struct {
	Digests []RangeDigest `json:"d,omitempty"`
	Lists   []RangeItems  `json:"l,omitempty"`
	Want    [][]byte      `json:"w,omitempty"`
	Entries []Update      `json:"e,omitempty"`
}

// Empty reports whether m says nothing: the reconciliation is over.
func (m SyncMsg) Empty() bool {
	return len(m.Digests) == 0 && len(m.Lists) == 0 && len(m.Want) == 0 && len(m.Entries) == 0
}

func (m SyncMsg) validate() error {
	items := 0
	for _, l := range m.Lists {
		items += len(l.Items)
		for _, it := range l.Items {
			if len(it.Key) == 0 || len(it.Key) > maxCIDLen+1 || len(it.Sum) > 32 {
				return fmt.Errorf("sync: bad list item: %w", ErrInvalid)
			}
		}
	}
	switch {
	case len(m.Digests) > MaxSyncDigests:
		return fmt.Errorf("sync: %d digests: %w", len(m.Digests), ErrTooLarge)
	case items > MaxSyncListItems || len(m.Lists) > MaxSyncListItems:
		return fmt.Errorf("sync: %d list items: %w", items, ErrTooLarge)
	case len(m.Want) > MaxSyncWant:
		return fmt.Errorf("sync: %d wanted keys: %w", len(m.Want), ErrTooLarge)
	case len(m.Entries) > MaxSyncEntries:
		return fmt.Errorf("sync: %d entries: %w", len(m.Entries), ErrTooLarge)
	}
	for _, u := range m.Entries {
		if err := u.Validate(); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
	}
	return nil
}

// EncodeSyncMsg encodes m for the sync stream.
func EncodeSyncMsg(m SyncMsg) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode sync message: %w", err)
	}
	if len(b) > MaxSyncMsgSize {
		return nil, fmt.Errorf("encode sync message: %d bytes: %w", len(b), ErrTooLarge)
	}
	return b, nil
}

// DecodeSyncMsg decodes and bounds-checks a sync message. The stream layer
// must already have refused frames larger than MaxSyncMsgSize before reading
// them.
func DecodeSyncMsg(b []byte) (SyncMsg, error) {
	if len(b) > MaxSyncMsgSize {
		return SyncMsg{}, fmt.Errorf("sync message of %d bytes: %w", len(b), ErrTooLarge)
	}
	var m SyncMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return SyncMsg{}, fmt.Errorf("sync message: %v: %w", err, ErrInvalid)
	}
	if err := m.validate(); err != nil {
		return SyncMsg{}, err
	}
	return m, nil
}

// SyncOpen returns the first message of a reconciliation: the digests of the
// key space in SyncSplit parts.
func (s *State) SyncOpen() SyncMsg { return SyncMsg{Digests: s.Digests(Full, SyncSplit)} }

func itemOf(n *node) SyncItem {
	v := n.u.Version()
	return SyncItem{Key: []byte(n.key), Wall: v.Wall, Count: v.Count, Sum: n.h[:8]}
}

// SyncStep merges what the peer sent in m and returns the answer, and how
// many entries changed our state. An empty answer ends the reconciliation
// (send it, so the peer stops too). Entries more than MaxClockSkew in our
// future are skipped (the peer offers them again next time). An error means
// the peer sent something invalid: drop the stream.
//
// The caller must have checked that the peer is a current member; only
// members may sync.
func (s *State) SyncStep(m SyncMsg, now time.Time) (out SyncMsg, merged int, err error) {
	if err := m.validate(); err != nil {
		return SyncMsg{}, 0, err
	}
	for _, u := range m.Entries {
		if checkSkew(u.Version(), now) != nil {
			continue
		}
		if ok, err := s.ApplyUpdate(u); err != nil {
			return SyncMsg{}, merged, err
		} else if ok {
			merged++
		}
	}
	for _, k := range m.Want {
		if n := treeGet(s.root, string(k)); n != nil {
			out.Entries = append(out.Entries, n.u.clone())
		}
	}

	st := stepper{s: s, out: &out}
	for _, l := range m.Lists {
		st.list(l)
	}
	for _, d := range m.Digests {
		mine := s.RangeDigest(d.Range)
		if mine.Count == d.Count && mine.FP == d.FP {
			continue
		}
		st.emit(d.Range)
	}
	if st.hasRest {
		// Work that did not fit: one digest of a range covering all of it.
		out.Digests = append(out.Digests, s.RangeDigest(st.rest))
	}
	return out, merged, nil
}

type stepper struct {
	s                      *State
	out                    *SyncMsg
	items, pushed, digests int
	rest                   Range
	hasRest                bool
}

func (st *stepper) postpone(r Range) {
	if !st.hasRest {
		st.rest, st.hasRest = r, true
		return
	}
	st.rest.Lo = min(st.rest.Lo, r.Lo)
	if st.rest.Hi != 0 && (r.Hi == 0 || r.Hi > st.rest.Hi) {
		st.rest.Hi = r.Hi
	}
}

func (st *stepper) mine(r Range) []*node {
	var ns []*node
	treeRange(st.s.root, r.Lo, r.Hi, func(n *node) bool { ns = append(ns, n); return true })
	return ns
}

// emit answers a range that differs: our list of it, or its parts' digests.
func (st *stepper) emit(r Range) {
	c := st.s.RangeDigest(r).Count
	if c <= SyncListMax {
		if st.items+c > MaxSyncListItems {
			st.postpone(r)
			return
		}
		l := RangeItems{Range: r, Items: []SyncItem{}}
		for _, n := range st.mine(r) {
			l.Items = append(l.Items, itemOf(n))
		}
		st.items += c
		st.out.Lists = append(st.out.Lists, l)
		return
	}
	if st.digests+SyncSplit > splitBudget {
		st.postpone(r)
		return
	}
	d := st.s.Digests(r, SyncSplit)
	st.digests += len(d)
	st.out.Digests = append(st.out.Digests, d...)
}

// list compares the peer's list of a range with ours: push what it lacks,
// want what we lack.
func (st *stepper) list(l RangeItems) {
	if st.s.RangeDigest(l.Range).Count > SyncListMax {
		st.emit(l.Range)
		return
	}
	theirs := make(map[string]SyncItem, len(l.Items))
	for _, it := range l.Items {
		theirs[string(it.Key)] = it
	}
	var push []Update
	var want [][]byte
	for _, n := range st.mine(l.Range) {
		it, ok := theirs[n.key]
		delete(theirs, n.key)
		if !ok {
			push = append(push, n.u.clone())
			continue
		}
		v := n.u.Version()
		switch c := cmpWallCount(v.Wall, v.Count, it.Wall, it.Count); {
		case c > 0:
			push = append(push, n.u.clone())
		case c < 0:
			want = append(want, it.Key)
		case !bytes.Equal(n.h[:len(it.Sum)], it.Sum):
			push = append(push, n.u.clone())
			want = append(want, it.Key)
		}
	}
	for _, it := range theirs {
		want = append(want, it.Key)
	}
	if st.pushed+len(push) > MaxSyncPush || len(st.out.Want)+len(want) > MaxSyncWant {
		st.postpone(l.Range)
		return
	}
	st.pushed += len(push)
	st.out.Entries = append(st.out.Entries, push...)
	st.out.Want = append(st.out.Want, want...)
}

func cmpWallCount(w1 int64, c1 uint32, w2 int64, c2 uint32) int {
	switch {
	case w1 != w2:
		if w1 > w2 {
			return 1
		}
		return -1
	case c1 != c2:
		if c1 > c2 {
			return 1
		}
		return -1
	}
	return 0
}

// SyncHello opens a sync stream, from each side: who we are (our own member
// record, so a member the responder has not heard of yet can prove it
// joined), when we last synced, and our state digest (equal digests: nothing
// to do).
//
// A responder that finds the initiator removed answers with a hello that
// carries only Removed, the removal record: so the removed member learns
// it (it cannot hear the group's gossip any more), and nothing else.
//
// Ver 2 says the sender knows key epochs; Keys then lists the epochs
// (after 0) whose keys it holds, so the other side can hand it the ones it
// lacks (see groupnet's sync). A hello from an older kith has neither.
type SyncHello struct {
	Self    Update     `json:"self"`
	Synced  time.Time  `json:"synced"`
	Digest  []byte     `json:"digest"`
	Removed *Update    `json:"removed,omitempty"`
	Ver     int        `json:"ver,omitempty"`
	Keys    []EpochRef `json:"keys,omitempty"`
}

// SyncHelloVer is the hello version of a kith that knows key epochs.
const SyncHelloVer = 2

// CheckHello validates a peer's hello: its record must be its own member
// record, and it must be a member once that record is merged. The record is
// merged into s.
func (s *State) CheckHello(from peer.ID, h SyncHello, now time.Time) error {
	m := h.Self.Member
	if m == nil || m.ID != from || len(h.Digest) != 32 {
		return fmt.Errorf("sync hello from %s: %w", from, ErrInvalid)
	}
	if err := checkSkew(m.Version, now); err != nil {
		return err
	}
	if _, err := s.ApplyUpdate(h.Self); err != nil {
		return fmt.Errorf("sync hello from %s: %w", from, err)
	}
	if r, ok := s.Removed(from); ok {
		return fmt.Errorf("sync hello from %s: removed by %s: %w", from, r.Version.Node, ErrRemoved)
	}
	if !s.IsMember(from) {
		return fmt.Errorf("sync hello from %s: %w", from, ErrNotMember)
	}
	return nil
}

// RemovalNotice is the hello a responder sends to a member it found removed
// (CheckHello said ErrRemoved): the removal record and nothing else.
func (s *State) RemovalNotice(id peer.ID) (SyncHello, bool) {
	n := treeGet(s.root, memberKey(id))
	if n == nil || !n.u.removal() {
		return SyncHello{}, false
	}
	u := n.u.clone()
	return SyncHello{Removed: &u}, true
}

// CheckRemovalNotice merges a removal notice that from sent us: it must be
// our own removal, written (and, when s requires it, signed) by a member
// other than us. It reports whether s changed.
func (s *State) CheckRemovalNotice(self peer.ID, h SyncHello) (bool, error) {
	u := h.Removed
	if u == nil || !u.removal() || u.Member.ID != self {
		return false, fmt.Errorf("removal notice: not about this member: %w", ErrInvalid)
	}
	return s.ApplyUpdate(*u)
}

// staleMargin allows for clock differences between a peer's Synced time and
// our compaction floor.
const staleMargin = time.Hour

// NeedsSnapshot reports whether a peer that last synced at peerSynced (from
// its hello) must rebase on our snapshot rather than reconcile: it never
// synced, or not since before tombstones we have already compacted were
// written, so its state may hold entries those tombstones deleted. Send it
// Marshal(); do not merge anything from it until it has rebased.
func (s *State) NeedsSnapshot(peerSynced time.Time) bool {
	return peerSynced.IsZero() || peerSynced.UnixMilli() < s.floor+staleMargin.Milliseconds()
}

// Rebase replaces s with snap, keeping only our entries written after
// snap's compaction floor (no tombstone that could delete them has been
// compacted), and marks s synced at now. Call it with the snapshot a peer
// sent when NeedsSnapshot held for us; then reconcile as usual to push those
// kept entries.
func (s *State) Rebase(snap *State, now time.Time) int {
	next := snap.Clone()
	// When the peer last synced is its business: ours is now.
	next.synced, next.signed = s.synced, s.signed
	if s.signed {
		// The peer relays others' entries: keep only those their writers
		// signed.
		var forged []*node
		treeRange(next.root, 0, 0, func(n *node) bool {
			if n.u.VerifySig() != nil {
				forged = append(forged, n)
			}
			return true
		})
		for _, n := range forged {
			next.root = treeDelete(next.root, n.kh, n.key)
		}
	}
	kept := 0
	treeRange(s.root, 0, 0, func(n *node) bool {
		if n.u.Version().Wall >= snap.floor {
			x := *n
			if next.put(&x) {
				kept++
			}
		}
		return true
	})
	*s = *next
	s.MarkSynced(now)
	return kept
}
