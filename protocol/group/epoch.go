package group

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Key epochs in the state (see Secret for why they exist, crypto.go for
// the keys).
//
// An Epoch entry records one epoch: its number, its maker (the writer, who
// signs it), the members it shuts out, and the commitment to its key. It
// is keyed by number and commitment, so two members that start epoch n at
// the same time (each removing someone) make two candidates that both stay
// in the state; every member picks the same one: the one with the lowest
// commitment (State.Epoch). Only candidates made by members that are not
// removed count: a removed device knows the keys it made, and must not
// make the group adopt one (it could sign an epoch and hand it to a member
// that has not heard of the removal yet).
//
// The key of an epoch must be unknown to every removed member. Its holders
// hand it only to current members not among the epoch's Removed, but a
// holder that has not heard of a removal yet may hand it to the removed
// device. So a removal is covered only by an epoch that lists it; while the
// current epoch does not list some removed member (a removal made
// concurrently with the epoch, or a removal in epoch 0), a new epoch is
// due, and it lists every removal its maker knows of (State.Rotate). Its
// maker is the remover of an uncovered removal (or, if that remover is gone
// too, the current member with the lowest peer ID): ShouldRotate.

// MaxEpochRemoved bounds the members one epoch entry shuts out.
const MaxEpochRemoved = 1024

// Epoch is one key epoch's entry in the state.
type Epoch struct {
	N uint64 `json:"n"`
	// Commit is EpochKey.Commit of the epoch's key (32 bytes).
	Commit []byte `json:"commit"`
	// Removed lists every member removed in its maker's state when it
	// was made, sorted: none of them may ever hold the key.
	Removed []peer.ID `json:"removed,omitempty"`
	// Version is when and by whom (the maker) it was written.
	Version HLC    `json:"v"`
	Sig     []byte `json:"sig,omitempty"`
}

// EpochRef names one epoch candidate: its number and key commitment. Epoch
// 0 (the secret's keys) has a zero commitment.
type EpochRef struct {
	N      uint64   `json:"n"`
	Commit [32]byte `json:"c"`
}

// Ref returns the reference of e.
func (e Epoch) Ref() EpochRef {
	r := EpochRef{N: e.N}
	copy(r.Commit[:], e.Commit)
	return r
}

// String names the epoch for logs: its number and the start of its
// commitment.
func (r EpochRef) String() string {
	if r.N == 0 {
		return "0"
	}
	return fmt.Sprintf("%d/%x", r.N, r.Commit[:4])
}

// better reports whether a is preferred to b: a higher number, or the same
// number and a lower commitment.
func (r EpochRef) better(b EpochRef) bool {
	if r.N != b.N {
		return r.N > b.N
	}
	return bytes.Compare(r.Commit[:], b.Commit[:]) < 0
}

// excludes reports whether p is among the members e shuts out.
func (e Epoch) excludes(p peer.ID) bool {
	_, found := slices.BinarySearch(e.Removed, p)
	return found
}

func epochKey(r EpochRef) string {
	b := binary.BigEndian.AppendUint64([]byte("e"), r.N)
	return string(append(b, r.Commit[:]...))
}

func (e *Epoch) validate() error {
	switch {
	case e.N == 0:
		return fmt.Errorf("epoch 0 is not recorded: %w", ErrInvalid)
	case len(e.Commit) != 32:
		return fmt.Errorf("epoch %d: commitment of %d bytes: %w", e.N, len(e.Commit), ErrInvalid)
	case len(e.Removed) > MaxEpochRemoved:
		return fmt.Errorf("epoch %d: %d removed members: %w", e.N, len(e.Removed), ErrTooLarge)
	case !slices.IsSorted(e.Removed) || len(slices.Compact(slices.Clone(e.Removed))) != len(e.Removed):
		return fmt.Errorf("epoch %d: removed members not sorted: %w", e.N, ErrInvalid)
	}
	for _, p := range e.Removed {
		if p.Validate() != nil || p == e.Version.Node {
			return fmt.Errorf("epoch %d: bad removed member: %w", e.N, ErrInvalid)
		}
	}
	return nil
}

// Epochs returns every epoch candidate in the state, in order of number.
func (s *State) Epochs() []Epoch {
	var out []Epoch
	s.each(func(u Update) {
		if u.Epoch != nil {
			out = append(out, *u.clone().Epoch)
		}
	})
	return out
}

// Epoch returns the current epoch: of the highest number, the eligible
// candidate with the lowest commitment. ok is false while the group is in
// epoch 0.
func (s *State) Epoch() (e Epoch, ok bool) {
	for _, c := range s.Epochs() {
		if s.eligible(c) && (!ok || c.Ref().better(e.Ref())) {
			e, ok = c, true
		}
	}
	return e, ok
}

// eligible reports whether candidate e may be current: its maker is known
// as a member and was not removed. A removed maker knows the key, so its
// epochs are worth no more than the removal that made them stale (and a
// removed device cannot make the group adopt a key of its own).
func (s *State) eligible(e Epoch) bool {
	m, ok := s.Member(e.Version.Node)
	return ok && !m.Removed
}

// EpochOf returns the candidate ref names (epoch 0 has no entry).
func (s *State) EpochOf(r EpochRef) (Epoch, bool) {
	n := treeGet(s.root, epochKey(r))
	if n == nil {
		return Epoch{}, false
	}
	return *n.u.clone().Epoch, true
}

// removals returns every removal record, in key order.
func (s *State) removals() []Member {
	var out []Member
	s.each(func(u Update) {
		if u.removal() {
			out = append(out, *u.clone().Member)
		}
	})
	return out
}

// Uncovered returns the removals the current epoch does not list: members
// that may hold its key. Non-empty means a new epoch is due.
func (s *State) Uncovered() []Member {
	cur, _ := s.Epoch()
	var out []Member
	for _, r := range s.removals() {
		if !cur.excludes(r.ID) {
			out = append(out, r)
		}
	}
	return out
}

// ShouldRotate reports whether self must start a new epoch now: some
// removal is uncovered and self made it (or, if its remover is not a
// current member any more, self is the current member with the lowest
// peer ID). One maker per removal keeps members from all rotating at once;
// concurrent makers still converge (see Epoch).
func (s *State) ShouldRotate(self peer.ID) bool {
	if !s.IsMember(self) {
		return false
	}
	for _, r := range s.Uncovered() {
		remover := r.Version.Node
		if remover == self {
			return true
		}
		if !s.IsMember(remover) {
			if ms := s.Members(); len(ms) > 0 && slices.MinFunc(ms, func(a, b Member) int {
				return bytes.Compare([]byte(a.ID), []byte(b.ID))
			}).ID == self {
				return true
			}
		}
	}
	return false
}

// Rotate starts the next epoch, made by the clock's node: a random key,
// and an entry that shuts out every member removed so far. It returns the
// entry to gossip (it holds no secret) and the key, which goes only to
// current members (MayHold).
func (s *State) Rotate(c *Clock) (Update, EpochKey, error) {
	if !s.IsMember(c.Node()) {
		return Update{}, EpochKey{}, fmt.Errorf("new key epoch: %w", ErrNotMember)
	}
	key, err := NewEpochKey()
	if err != nil {
		return Update{}, EpochKey{}, err
	}
	cur, _ := s.Epoch()
	commit := key.Commit()
	e := Epoch{N: cur.N + 1, Commit: commit[:], Version: c.Now()}
	for _, r := range s.removals() {
		if r.ID != c.Node() {
			e.Removed = append(e.Removed, r.ID)
		}
	}
	slices.Sort(e.Removed)
	if len(e.Removed) > MaxEpochRemoved {
		return Update{}, EpochKey{}, fmt.Errorf("new key epoch: %d members removed, at most %d: %w", len(e.Removed), MaxEpochRemoved, ErrTooLarge)
	}
	u := Update{Epoch: &e}
	if err := s.apply(c, &u); err != nil {
		return Update{}, EpochKey{}, fmt.Errorf("new key epoch: %w", err)
	}
	return u, key, nil
}

// MayHold reports whether p may be handed the key of epoch r: p is a
// current member, and the epoch does not shut it out.
func (s *State) MayHold(p peer.ID, r EpochRef) bool {
	if !s.IsMember(p) {
		return false
	}
	if r.N == 0 {
		return true
	}
	e, ok := s.EpochOf(r)
	return ok && !e.excludes(p)
}
