package group

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Member is one member's record in the group state. Only the member itself
// writes its record (see Message.Validate): it joins, changes its name,
// addresses or budget, and leaves. Left is a tombstone: it stays until
// compaction so that a late copy of an older record cannot bring the member
// back.
type Member struct {
	ID     peer.ID  `json:"id"`
	Name   string   `json:"name,omitempty"`
	Addrs  []string `json:"addrs,omitempty"`  // multiaddrs, for dialling the member
	Budget int64    `json:"budget,omitempty"` // bytes offered for others' content
	Joined int64    `json:"joined"`           // unix ms of the first join
	Left   bool     `json:"left,omitempty"`
	// Removed: another member removed this one (Version.Node says who).
	Removed bool `json:"removed,omitempty"`
	// Version orders writes to this record (last writer wins).
	Version HLC `json:"v"`
	// Sig is the writer's signature (see sign.go).
	Sig []byte `json:"sig,omitempty"`
}

// Intent is the wish that root be kept on Copies members. Withdrawn is a
// tombstone left by unshare. Who wrote the current version; Created is when
// the root was (last) shared, and orders intents for placement so that a new
// intent never takes room from an older one.
//
// Meta, when set, is a small file kept with the root: the modes and times
// of a shared folder's entries, which a DAG does not carry (a followed
// folder applies them); a tombstone has none. It is not in the entry's
// hash: MetaSig, the writer's signature over the hash and the meta, vouches
// for it (see sign.go), and a kith that predates metas, which verifies the
// hash alone, takes the intent and drops the two fields it does not know.
type Intent struct {
	Root      cid.Cid `json:"root"`
	Meta      cid.Cid `json:"meta,omitzero"`
	MetaSig   []byte  `json:"meta_sig,omitempty"`
	Name      string  `json:"name,omitempty"`
	Size      int64   `json:"size"`
	Copies    int     `json:"copies"`
	Who       peer.ID `json:"who"`
	Created   HLC     `json:"created"`
	Withdrawn bool    `json:"withdrawn,omitempty"`
	Version   HLC     `json:"v"`
	Sig       []byte  `json:"sig,omitempty"` // the writer's signature (see sign.go)
}

// Update is one entry of the state: exactly one of Member, Intent or Epoch
// (epoch.go). It is what gossip carries, what sync exchanges, and what the
// state stores.
type Update struct {
	Member *Member `json:"m,omitempty"`
	Intent *Intent `json:"i,omitempty"`
	Epoch  *Epoch  `json:"e,omitempty"`
}

// Key is the entry's place in the state: one register per member, one per
// root and one per epoch candidate.
func (u Update) Key() string {
	switch {
	case u.Member != nil:
		return memberKey(u.Member.ID)
	case u.Intent != nil:
		return intentKey(u.Intent.Root)
	case u.Epoch != nil:
		return epochKey(u.Epoch.Ref())
	}
	return ""
}

func memberKey(id peer.ID) string { return "m" + string(id) }
func intentKey(c cid.Cid) string  { return "i" + c.KeyString() }
func (u Update) tombstone() bool {
	return (u.Member != nil && u.Member.Left) || (u.Intent != nil && u.Intent.Withdrawn)
}

// String names the entry for logs (never its secret-derived content).
func (u Update) String() string { return fmt.Sprintf("%q@%s", u.Key(), u.Version()) }

// Version is the HLC of the write.
func (u Update) Version() HLC {
	if u.Member != nil {
		return u.Member.Version
	}
	if u.Intent != nil {
		return u.Intent.Version
	}
	if u.Epoch != nil {
		return u.Epoch.Version
	}
	return HLC{}
}

// hash is a canonical hash of the entry: the same bytes on every member
// whatever the encoding it travelled in.
func (u Update) hash() [32]byte {
	h := sha256.New()
	str := func(s string) {
		var b [binary.MaxVarintLen64]byte
		h.Write(b[:binary.PutUvarint(b[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	num := func(v int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	hlc := func(c HLC) { num(c.Wall); num(int64(c.Count)); str(string(c.Node)) }
	flag := func(b bool) {
		if b {
			num(1)
		} else {
			num(0)
		}
	}
	switch {
	case u.Member != nil:
		m := u.Member
		str("member/1")
		str(string(m.ID))
		str(m.Name)
		num(int64(len(m.Addrs)))
		for _, a := range m.Addrs {
			str(a)
		}
		num(m.Budget)
		num(m.Joined)
		flag(m.Left)
		hlc(m.Version)
		if m.Removed { // only then: records written before removals keep their hash
			str("removed")
		}
	case u.Intent != nil:
		i := u.Intent
		str("intent/1")
		str(i.Root.KeyString())
		str(i.Name)
		num(i.Size)
		num(int64(i.Copies))
		str(string(i.Who))
		hlc(i.Created)
		flag(i.Withdrawn)
		hlc(i.Version)
		// Not the meta: it is signed on its own (MetaSig), so that a kith
		// that predates metas verifies the intent, and keeps it without.
	case u.Epoch != nil:
		e := u.Epoch
		str("epoch/1")
		num(int64(e.N))
		str(string(e.Commit))
		num(int64(len(e.Removed)))
		for _, p := range e.Removed {
			str(string(p))
		}
		hlc(e.Version)
	}
	var out [32]byte
	h.(hash.Hash).Sum(out[:0])
	return out
}

// clone deep-copies u, so that a caller cannot change an entry the state holds.
func (u Update) clone() Update {
	if u.Member != nil {
		m := *u.Member
		m.Addrs = append([]string(nil), m.Addrs...)
		return Update{Member: &m}
	}
	if u.Intent != nil {
		i := *u.Intent
		return Update{Intent: &i}
	}
	if u.Epoch != nil {
		e := *u.Epoch
		e.Commit = append([]byte(nil), e.Commit...)
		e.Removed = append([]peer.ID(nil), e.Removed...)
		return Update{Epoch: &e}
	}
	return u
}

// State is a group's replicated state: members and intents as
// last-writer-wins registers keyed by HLC. Merging is commutative,
// associative and idempotent, so every member that has seen the same updates
// holds the same state (the same Digest) whatever order they arrived in.
//
// A State is not safe for concurrent use. Clone is O(1): the clone shares
// the entries (which are never changed in place) and may be handed to
// another goroutine.
type State struct {
	root *node
	// floor: tombstones older than this (unix ms) have been dropped by
	// Compact. A member whose state predates it must Rebase (see sync.go).
	floor int64
	// synced: local time of the last complete sync with a current member.
	synced time.Time
	// signed: refuse updates not signed by their writer (RequireSignatures).
	signed bool
}

// NewState returns an empty state.
func NewState() *State { return &State{} }

// Clone returns an independent copy of s in O(1).
func (s *State) Clone() *State { c := *s; return &c }

// Len returns the number of entries, tombstones included.
func (s *State) Len() int {
	if s.root == nil {
		return 0
	}
	return s.root.count
}

// Member returns the record of id, tombstone (Left) included.
func (s *State) Member(id peer.ID) (Member, bool) {
	n := treeGet(s.root, memberKey(id))
	if n == nil {
		return Member{}, false
	}
	return *n.u.clone().Member, true
}

// Removed returns the removal of id (who removed it: Version.Node, and
// when), if another member removed it.
func (s *State) Removed(id peer.ID) (Member, bool) {
	m, ok := s.Member(id)
	return m, ok && m.Removed
}

// IsMember reports whether id has joined and not left.
func (s *State) IsMember(id peer.ID) bool {
	n := treeGet(s.root, memberKey(id))
	return n != nil && !n.u.Member.Left
}

// Intent returns the intent for root, tombstone (Withdrawn) included.
func (s *State) Intent(root cid.Cid) (Intent, bool) {
	n := treeGet(s.root, intentKey(root))
	if n == nil {
		return Intent{}, false
	}
	return *n.u.Intent, true
}

// Members returns current members (not left), in key order.
func (s *State) Members() []Member {
	var out []Member
	s.each(func(u Update) {
		if u.Member != nil && !u.Member.Left {
			out = append(out, *u.clone().Member)
		}
	})
	return out
}

// Intents returns live (not withdrawn) intents, in key order.
func (s *State) Intents() []Intent {
	var out []Intent
	s.each(func(u Update) {
		if u.Intent != nil && !u.Intent.Withdrawn {
			out = append(out, *u.Intent)
		}
	})
	return out
}

// Entries returns copies of every entry, tombstones included, in key order.
func (s *State) Entries() []Update {
	out := make([]Update, 0, s.Len())
	s.each(func(u Update) { out = append(out, u.clone()) })
	return out
}

func (s *State) each(f func(Update)) {
	treeRange(s.root, 0, 0, func(n *node) bool { f(n.u); return true })
}

// Synced returns when this state last completed a sync with a current
// member (local time), as recorded by MarkSynced.
func (s *State) Synced() time.Time { return s.synced }

// MarkSynced records a complete sync at t. The sync layer calls it after an
// exchange with a current member ended with equal digests (or after a
// Rebase).
func (s *State) MarkSynced(t time.Time) {
	if t.After(s.synced) {
		s.synced = t
	}
}

// Floor returns the compaction floor: tombstones older than it are gone.
func (s *State) Floor() time.Time {
	if s.floor == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.floor)
}
