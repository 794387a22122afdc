package group

import (
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Health is what a member's heartbeats say about it. Only Gone moves its
// copies; Suspect and Offline are for display, and only hold back the
// release of surplus copies (a silent or stopped laptop is usually asleep,
// on a bad network or off for the night, not dead: memberlist's lesson).
type Health int

const (
	Alive   Health = iota // heard within SuspectAfter
	Suspect               // silent for longer than SuspectAfter, within Grace
	Gone                  // silent for longer than Grace: its copies move
	// Offline: it said goodbye (its daemon stopped), within Grace. For
	// display, like Suspect: a stopped laptop usually comes back.
	Offline
)

func (h Health) String() string {
	switch h {
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Offline:
		return "offline"
	default:
		return "gone"
	}
}

// RootSet is a set of roots.
type RootSet map[cid.Cid]struct{}

// Has reports whether c is in the set (a nil set is empty).
func (s RootSet) Has(c cid.Cid) bool { _, ok := s[c]; return ok }

// Liveness keeps what heartbeats said: when each member was last heard (by
// our clock: a receive time, never the sender's wall clock), what it uses
// and which roots it holds. Not safe for concurrent use.
type Liveness struct {
	cfg   Config
	start time.Time
	peers map[peer.ID]*seen
	// shown counts the heartbeats that changed what a viewer of the group
	// sees: a member first heard, its roots, its space used, a goodbye or
	// its return (see Shown).
	shown uint64
}

// Shown is a counter that moves whenever an observed heartbeat changed
// what is known of a member's holdings or presence; a heartbeat that only
// says "still here, same as before" leaves it. Comparing it before and
// after Observe tells whether the group's status is worth showing again.
func (l *Liveness) Shown() uint64 { return l.shown }

type seen struct {
	at     time.Time
	clock  HLC
	inc    uint64
	used   int64
	parts  uint16
	held   RootSet
	digest [HeartbeatDigestLen]byte
	every  time.Duration // the interval it announced
	off    bool          // its last heartbeat was a goodbye
}

// NewLiveness returns an empty tracker started at start. A member not heard
// from yet counts as last seen at start: after a restart, we give everyone a
// grace period to be heard before moving their copies, rather than taking
// all copies on ourselves.
func NewLiveness(cfg Config, start time.Time) *Liveness {
	return &Liveness{cfg: cfg, start: start, peers: make(map[peer.ID]*seen)}
}

// Observe records a heartbeat validated by Message.Validate, received at at
// (local time). A heartbeat older than the last one from the same member
// (reordered or replayed) is ignored; Observe reports whether it was used.
// A higher incarnation (the member restarted) or a change in its page
// count resets what we know of its holdings.
func (l *Liveness) Observe(h Heartbeat, at time.Time) bool {
	p := l.peers[h.Member]
	if p == nil {
		p = &seen{}
		l.peers[h.Member] = p
	} else if h.Incarnation < p.inc || (h.Incarnation == p.inc && h.Clock.Compare(p.clock) <= 0) {
		return false
	}
	// A member first heard, back from silence, or whose space or goodbye
	// changed, is shown anew; so is one whose page of roots changed.
	changed := p.held == nil || l.Health(h.Member, at) != Alive || h.Used != p.used || h.Offline != p.off
	if h.Incarnation != p.inc || h.Parts != p.parts || p.held == nil {
		changed = changed || len(p.held) > 0
		p.held = make(RootSet)
	}
	p.inc, p.parts, p.clock, p.used, p.every, p.off = h.Incarnation, h.Parts, h.Clock, h.Used, h.Every, h.Offline
	if at.After(p.at) {
		p.at = at
	}
	copy(p.digest[:], h.Digest)
	var old RootSet // this page's roots as we knew them
	for r := range p.held {
		if HeldPart(r, h.Parts) == h.Part {
			if old == nil {
				old = make(RootSet)
			}
			old[r] = struct{}{}
			delete(p.held, r)
		}
	}
	for _, r := range h.Roots {
		p.held[r] = struct{}{}
		changed = changed || !old.Has(r)
	}
	if changed || len(old) != len(h.Roots) {
		l.shown++
	}
	return true
}

// Forget drops what we know of a member (it left).
func (l *Liveness) Forget(id peer.ID) { delete(l.peers, id) }

// LastSeen returns when id was last heard, or the tracker's start.
func (l *Liveness) LastSeen(id peer.ID) time.Time {
	if p := l.peers[id]; p != nil {
		return p.at
	}
	return l.start
}

// Heard reports whether a heartbeat of id was heard since the tracker
// started (after a restart, what a member holds is unknown until then).
func (l *Liveness) Heard(id peer.ID) bool { return l.peers[id] != nil }

// Health returns id's health at now: Offline after its goodbye, until
// the grace period makes it Gone.
func (l *Liveness) Health(id peer.ID, now time.Time) Health {
	h := health(now.Sub(l.LastSeen(id)), l.suspectAfter(id), l.cfg.Grace)
	if p := l.peers[id]; p != nil && p.off && h != Gone {
		return Offline
	}
	return h
}

// suspectAfter is how long id may stay silent before it is suspect, from
// the interval its last heartbeat announced.
func (l *Liveness) suspectAfter(id peer.ID) time.Duration {
	var every time.Duration
	if p := l.peers[id]; p != nil {
		every = p.every
	}
	return l.cfg.suspectAfter(every)
}

func health(silent, suspectAfter, grace time.Duration) Health {
	switch {
	case silent > grace:
		return Gone
	case silent > suspectAfter:
		return Suspect
	default:
		return Alive
	}
}

// Behind returns the members whose last heartbeat carried a state digest
// other than ours: sync with one of them.
func (l *Liveness) Behind(s *State) []peer.ID {
	d := s.Digest()
	var out []peer.ID
	for id, p := range l.peers {
		if [HeartbeatDigestLen]byte(d[:HeartbeatDigestLen]) != p.digest && s.IsMember(id) {
			out = append(out, id)
		}
	}
	return out
}

// Views returns the placement view of every current member of s: budget
// from the replicated state, last seen, use and holdings from heartbeats.
// The returned Holds sets belong to the tracker; do not change them.
func (l *Liveness) Views(s *State) []MemberView {
	ms := s.Members()
	out := make([]MemberView, 0, len(ms))
	for _, m := range ms {
		v := MemberView{ID: m.ID, Name: m.Name, Budget: m.Budget, LastSeen: l.start, SuspectAfter: l.suspectAfter(m.ID)}
		if p := l.peers[m.ID]; p != nil {
			v.LastSeen, v.Used, v.Holds, v.Offline = p.at, p.used, p.held, p.off
		}
		out = append(out, v)
	}
	return out
}
