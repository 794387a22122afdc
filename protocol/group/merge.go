package group

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds on what an update may hold. They are part of validation: an update
// out of bounds is refused before it is merged.
const (
	MaxNameLen    = 255     // bytes, for member and intent names
	MaxAddrs      = 8       // addresses per member record
	MaxAddrLen    = 256     // bytes per address
	MinCopies     = 1       //
	MaxCopies     = 16      //
	MaxIntentSize = 1 << 50 // 1 PiB: anything larger is a typo or an attack
	maxCIDLen     = 128     // bytes
)

// DefaultCompactionHorizon is how long tombstones are kept. It must be much
// longer than the interval between syncs, and members offline for longer
// must rebase on a snapshot (see NeedsSnapshot).
const DefaultCompactionHorizon = 7 * 24 * time.Hour

// validName accepts UTF-8 without control characters, within MaxNameLen.
func validName(s string) error {
	if len(s) > MaxNameLen {
		return fmt.Errorf("name longer than %d bytes: %w", MaxNameLen, ErrInvalid)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("name is not UTF-8: %w", ErrInvalid)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("name has control character %U: %w", r, ErrInvalid)
		}
	}
	return nil
}

// validAddr accepts a member's address: UTF-8, within MaxAddrLen. (Whether
// it parses as a multiaddr is the dialler's business.)
func validAddr(a string) bool { return a != "" && len(a) <= MaxAddrLen && utf8.ValidString(a) }

// Validate checks the shape of an update: bounds, and that the writer named
// in the version is the one allowed to write it (a member writes only its
// own record; an intent's Who wrote it). It does not check membership, which
// depends on the receiver's state: see Message.Validate.
func (u Update) Validate() error {
	kinds := 0
	for _, set := range []bool{u.Member != nil, u.Intent != nil, u.Epoch != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("update must hold exactly one of member, intent, epoch: %w", ErrInvalid)
	}
	v := u.Version()
	if v.Wall <= 0 || v.Node.Validate() != nil {
		return fmt.Errorf("update %s: missing version: %w", u.Key(), ErrInvalid)
	}
	if u.Epoch != nil {
		return u.Epoch.validate()
	}
	if m := u.Member; m != nil {
		if m.ID.Validate() != nil {
			return fmt.Errorf("member: empty ID: %w", ErrInvalid)
		}
		switch {
		case m.Removed && (!m.Left || m.Version.Node == m.ID):
			return fmt.Errorf("member %s: a removal must be a tombstone written by another member: %w", m.ID, ErrInvalid)
		case !m.Removed && m.Version.Node != m.ID:
			return fmt.Errorf("member %s: record written by %s, not by the member: %w", m.ID, m.Version.Node, ErrInvalid)
		}
		if err := validName(m.Name); err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		if len(m.Addrs) > MaxAddrs {
			return fmt.Errorf("member %s: %d addresses, at most %d: %w", m.ID, len(m.Addrs), MaxAddrs, ErrInvalid)
		}
		for _, a := range m.Addrs {
			if !validAddr(a) {
				return fmt.Errorf("member %s: bad address: %w", m.ID, ErrInvalid)
			}
		}
		if m.Budget < 0 || m.Joined < 0 {
			return fmt.Errorf("member %s: negative budget or join time: %w", m.ID, ErrInvalid)
		}
		return nil
	}
	i := u.Intent
	if !i.Root.Defined() || len(i.Root.KeyString()) > maxCIDLen {
		return fmt.Errorf("intent: bad root: %w", ErrInvalid)
	}
	if len(i.Meta.KeyString()) > maxCIDLen || (i.Withdrawn && i.Meta.Defined()) || (len(i.MetaSig) > 0 && !i.Meta.Defined()) {
		return fmt.Errorf("intent %s: bad meta: %w", i.Root, ErrInvalid)
	}
	if err := validName(i.Name); err != nil {
		return fmt.Errorf("intent %s: %w", i.Root, err)
	}
	if i.Size < 0 || i.Size > MaxIntentSize {
		return fmt.Errorf("intent %s: size %d out of range: %w", i.Root, i.Size, ErrInvalid)
	}
	if i.Copies < MinCopies || i.Copies > MaxCopies {
		return fmt.Errorf("intent %s: copies %d not within %d..%d: %w", i.Root, i.Copies, MinCopies, MaxCopies, ErrInvalid)
	}
	if i.Who != i.Version.Node {
		return fmt.Errorf("intent %s: written by %s but claims %s: %w", i.Root, i.Version.Node, i.Who, ErrInvalid)
	}
	if i.Created.Node.Validate() != nil {
		// Every member would accept it, and every peer refuse the sync
		// message or snapshot that carried it on: an empty peer ID does not
		// decode.
		return fmt.Errorf("intent %s: creation time without its writer: %w", i.Root, ErrInvalid)
	}
	if i.Created.Wall <= 0 || i.Created.Compare(i.Version) > 0 {
		return fmt.Errorf("intent %s: created after its version: %w", i.Root, ErrInvalid)
	}
	return nil
}

// newer reports whether a wins over b in the last-writer-wins register. A
// member's removal wins over any record of that member that is not one (a
// removed device cannot undo it by writing later). Equal versions with
// different contents (only a buggy or lying member makes them) are ordered
// by entry hash, so every member still picks the same one; of two copies of
// the same entry, a signed one replaces an unsigned one.
func newer(a *node, b *node) bool {
	if ra, rb := a.u.removal(), b.u.removal(); ra != rb {
		return ra
	}
	if c := a.u.Version().Compare(b.u.Version()); c != 0 {
		return c > 0
	}
	if c := bytes.Compare(a.h[:], b.h[:]); c != 0 {
		return c > 0
	}
	if sa, sb := len(a.u.Sig()) > 0, len(b.u.Sig()) > 0; sa != sb {
		return sa
	}
	// The same intent with its meta and without (relayed by a kith that
	// predates metas): the one with it.
	return a.u.Intent != nil && b.u.Intent != nil && a.u.Intent.Meta.Defined() && !b.u.Intent.Meta.Defined()
}

func (u Update) removal() bool { return u.Member != nil && u.Member.Removed }

// ApplyUpdate merges one update (from gossip, sync or a local action). It
// reports whether the state changed; an update that is older than what the
// state holds, or already in it, changes nothing. The update's shape is
// validated; membership of its writer is the caller's business (see
// Message.Validate).
func (s *State) ApplyUpdate(u Update) (changed bool, err error) {
	if err := u.Validate(); err != nil {
		return false, err
	}
	if s.signed {
		if err := u.VerifySig(); err != nil {
			return false, err
		}
	}
	return s.put(newNode(u.clone())), nil
}

// put merges a node that is not shared with anyone yet (its children are
// ignored).
func (s *State) put(x *node) bool {
	x.left, x.right = nil, nil
	x.fix()
	old := treeGet(s.root, x.key)
	if old != nil && !newer(x, old) {
		return false
	}
	if x.u.tombstone() && !x.u.removal() && x.u.Version().Wall < s.floor {
		// The winner is a tombstone we would already have compacted.
		if old == nil {
			return false
		}
		s.root = treeDelete(s.root, old.kh, old.key)
		return true
	}
	s.root = treeInsert(s.root, x)
	return true
}

// Merge merges every entry of other into s and returns how many changed s.
// other is not modified.
func (s *State) Merge(other *State) int {
	if other.floor > s.floor {
		s.Compact(time.UnixMilli(other.floor), 0)
	}
	if s.root == other.root {
		return 0
	}
	changed := 0
	treeRange(other.root, 0, 0, func(n *node) bool {
		if s.signed && n.u.VerifySig() != nil {
			return true
		}
		x := *n
		if s.put(&x) {
			changed++
		}
		return true
	})
	return changed
}

// Compact drops tombstones (withdrawn intents, members who left) whose
// version is older than now-horizon, and returns how many it dropped.
//
// Why this is safe: a tombstone exists to beat older copies of its entry
// that some member may still hold. Every member that has synced within the
// horizon has already seen the tombstone (sync runs every few minutes; the
// horizon is days), so no one still to be synced with holds an older live
// copy, except a member offline for longer than the horizon. Such a member
// is stale: the sync layer must not merge its state into ours, but rebase it
// on our snapshot instead (NeedsSnapshot, Rebase), which keeps only its
// entries newer than our floor.
func (s *State) Compact(now time.Time, horizon time.Duration) int {
	cutoff := now.Add(-horizon).UnixMilli()
	if cutoff > s.floor {
		s.floor = cutoff
	}
	var drop []*node
	treeRange(s.root, 0, 0, func(n *node) bool {
		if n.u.tombstone() && !n.u.removal() && n.u.Version().Wall < s.floor {
			drop = append(drop, n)
		}
		return true
	})
	for _, n := range drop {
		s.root = treeDelete(s.root, n.kh, n.key)
	}
	return len(drop)
}

// Share records the intent that root be kept on copies members, written by
// the clock's node. Re-sharing a live root updates it and keeps its Created
// time. It returns the update to gossip.
func (s *State) Share(c *Clock, root cid.Cid, name string, size int64, copies int) (Update, error) {
	return s.ShareWithMeta(c, root, cid.Undef, name, size, copies)
}

// ShareWithMeta is Share with the CID of the folder's modes and times
// (Intent.Meta; cid.Undef: none). Sharing the same root with another meta
// (a file touched, its bytes the same) updates the intent.
func (s *State) ShareWithMeta(c *Clock, root, meta cid.Cid, name string, size int64, copies int) (Update, error) {
	return s.share(c, root, meta, name, size, copies, true)
}

// ShareNewest is ShareWithMeta for the newest version of its name, even a
// root shared already (a folder that syncs both ways, shared as it was at
// an earlier version still kept: a file deleted, then brought back): its
// Created time is now, so that it is the newest (newest by Created).
func (s *State) ShareNewest(c *Clock, root, meta cid.Cid, name string, size int64, copies int) (Update, error) {
	return s.share(c, root, meta, name, size, copies, false)
}

// share records the intent; keepCreated keeps a live root's Created time.
func (s *State) share(c *Clock, root, meta cid.Cid, name string, size int64, copies int, keepCreated bool) (Update, error) {
	v := c.Now()
	in := Intent{Root: root, Meta: meta, Name: name, Size: size, Copies: copies, Who: c.Node(), Created: v, Version: v}
	if old, ok := s.Intent(root); ok && !old.Withdrawn && keepCreated {
		in.Created = old.Created
	}
	u := Update{Intent: &in}
	if err := s.apply(c, &u); err != nil {
		return Update{}, fmt.Errorf("share %s: %w", root, err)
	}
	return u, nil
}

// Unshare withdraws the intent for root. It returns the tombstone to gossip,
// or ErrNotFound if root is not shared.
func (s *State) Unshare(c *Clock, root cid.Cid) (Update, error) {
	old, ok := s.Intent(root)
	if !ok || old.Withdrawn {
		return Update{}, fmt.Errorf("unshare %s: %w", root, ErrNotFound)
	}
	old.Withdrawn = true
	old.Meta, old.MetaSig = cid.Undef, nil // a tombstone keeps nothing
	old.Who = c.Node()
	old.Version = c.Now()
	old.Sig = nil
	u := Update{Intent: &old}
	if err := s.apply(c, &u); err != nil {
		return Update{}, fmt.Errorf("unshare %s: %w", root, err)
	}
	return u, nil
}

// Join writes the clock's node's own member record (joining, or changing
// name, addresses or budget) and returns the update to gossip.
func (s *State) Join(c *Clock, name string, addrs []string, budget int64) (Update, error) {
	if r, ok := s.Removed(c.Node()); ok {
		return Update{}, fmt.Errorf("join: removed by %s: %w", r.Version.Node, ErrRemoved)
	}
	v := c.Now()
	m := Member{ID: c.Node(), Name: name, Addrs: addrs, Budget: budget, Joined: v.Wall, Version: v}
	if old, ok := s.Member(m.ID); ok && !old.Left {
		m.Joined = old.Joined
	}
	u := Update{Member: &m}
	if err := s.apply(c, &u); err != nil {
		return Update{}, fmt.Errorf("join: %w", err)
	}
	return u, nil
}

// Leave writes the tombstone of the clock's node's membership and returns
// the update to gossip.
func (s *State) Leave(c *Clock) (Update, error) {
	old, ok := s.Member(c.Node())
	if !ok || old.Left {
		return Update{}, fmt.Errorf("leave: %w", ErrNotMember)
	}
	old.Left = true
	old.Version = c.Now()
	old.Sig = nil
	u := Update{Member: &old}
	if err := s.apply(c, &u); err != nil {
		return Update{}, fmt.Errorf("leave: %w", err)
	}
	return u, nil
}

// Remove writes the removal of member id by the clock's node, which must be
// a current member other than id (to go yourself, Leave). The removed
// member's record becomes a tombstone no later record of its own can beat:
// placement stops counting on it, current members stop talking to it, and
// it learns of it at its next sync. It returns the update to gossip.
func (s *State) Remove(c *Clock, id peer.ID) (Update, error) {
	if id == c.Node() {
		return Update{}, fmt.Errorf("remove %s: that is this member; leave the group instead: %w", id, ErrInvalid)
	}
	if !s.IsMember(c.Node()) {
		return Update{}, fmt.Errorf("remove %s: %w", id, ErrNotMember)
	}
	old, ok := s.Member(id)
	if !ok || old.Left {
		return Update{}, fmt.Errorf("remove %s: %w", id, ErrNotFound)
	}
	old.Left, old.Removed, old.Version, old.Sig = true, true, c.Now(), nil
	old.Addrs = nil
	u := Update{Member: &old}
	if err := s.apply(c, &u); err != nil {
		return Update{}, fmt.Errorf("remove %s: %w", id, err)
	}
	return u, nil
}

// apply signs u with the clock's signer (if any) and merges it.
func (s *State) apply(c *Clock, u *Update) error {
	if err := c.signWith(u); err != nil {
		return err
	}
	_, err := s.ApplyUpdate(*u)
	return err
}

// MaxSnapshotSize bounds a marshalled state accepted by Unmarshal.
const MaxSnapshotSize = 64 << 20

type snapshot struct {
	Version int       `json:"version"`
	Floor   int64     `json:"floor,omitempty"`
	Synced  time.Time `json:"synced"`
	Entries []Update  `json:"entries"`
}

// Marshal encodes the whole state (entries, tombstones, compaction floor,
// last sync time) for persisting it, or for sending it to a stale peer.
func (s *State) Marshal() ([]byte, error) {
	b, err := json.Marshal(snapshot{Version: 1, Floor: s.floor, Synced: s.synced, Entries: s.Entries()})
	if err != nil {
		return nil, fmt.Errorf("marshal group state: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a state written by Marshal, validating every entry.
func Unmarshal(b []byte) (*State, error) {
	if len(b) > MaxSnapshotSize {
		return nil, fmt.Errorf("unmarshal group state: %d bytes: %w", len(b), ErrTooLarge)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("unmarshal group state: %v: %w", err, ErrInvalid)
	}
	if snap.Version != 1 {
		return nil, fmt.Errorf("unmarshal group state: version %d: %w", snap.Version, ErrInvalid)
	}
	// encoding/json reads times it cannot write back (an offset of 24
	// hours or more, a year outside 0-9999): such a state could never be
	// saved or sent again.
	if _, err := snap.Synced.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("unmarshal group state: synced: %v: %w", err, ErrInvalid)
	}
	s := &State{floor: snap.Floor, synced: snap.Synced}
	for _, u := range snap.Entries {
		if _, err := s.ApplyUpdate(u); err != nil {
			return nil, fmt.Errorf("unmarshal group state: %w", err)
		}
	}
	return s, nil
}
