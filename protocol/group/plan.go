package group

import (
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Planner tells one member what to do about replicas: which roots to fetch
// and pin, which to release. It keeps, between calls, how long each surplus
// copy has been surplus. Not safe for concurrent use.
//
// Replicas are this member's copies of others' intents. The daemon keeps
// their pins apart from the pins its user made, and releases only replica
// pins: a user's own pin of the same root is never touched (the user's copy
// is not a replica and does not count as one).
type Planner struct {
	self    peer.ID
	cfg     Config
	placer  *Placer
	surplus map[cid.Cid]time.Time // replica root -> when it was first seen releasable
	standBy map[cid.Cid]time.Time // root -> since when we stand in for a gone member
}

// NewPlanner returns a planner for member self.
func NewPlanner(self peer.ID, cfg Config) *Planner {
	return &Planner{
		self: self, cfg: cfg, placer: NewPlacer(),
		surplus: make(map[cid.Cid]time.Time), standBy: make(map[cid.Cid]time.Time),
	}
}

// Placer returns the planner's placer (to compute Status with the same cache).
func (p *Planner) Placer() *Placer { return p.placer }

// Plan is what this member should do now.
type Plan struct {
	// Fetch: roots this member is chosen for and does not hold, within its
	// budget, in placement order. Fetch, verify, pin as replicas, then list
	// them in heartbeats.
	Fetch []Intent
	// Waiting: roots this member is chosen for but cannot fetch without
	// exceeding its budget until surplus replicas are released.
	Waiting []Intent
	// Release: replica roots to unpin (their blocks go at the next GC).
	// Stop listing them in heartbeats at once.
	Release []cid.Cid
	// Assignments: the whole group's placement, for status.
	Assignments []Assignment
}

// Plan computes the plan from the state, the views of other members (from
// Liveness.Views) and this member's own replicas (root -> size; the
// authority on what we hold is our store, not our heartbeats). Call it every
// heartbeat interval, and after a change to the state or to our replicas.
func (p *Planner) Plan(s *State, views []MemberView, held map[cid.Cid]int64, now time.Time) Plan {
	self := MemberView{ID: p.self, LastSeen: now, Holds: make(RootSet, len(held))}
	if m, ok := s.Member(p.self); ok && !m.Left {
		self.Name, self.Budget = m.Name, m.Budget
	}
	for r, size := range held {
		self.Holds[r] = struct{}{}
		self.Used += size
	}
	vs := make([]MemberView, 0, len(views)+1)
	for _, v := range views {
		if v.ID != p.self {
			vs = append(vs, v)
		}
	}
	if s.IsMember(p.self) {
		vs = append(vs, self)
	}
	v := NewViews(vs)
	return p.PlanAssigned(p.placer.Assign(s.Intents(), v, now, p.cfg.Grace), v, held, now)
}

// PlanAssigned is Plan from an assignment already computed on v (which must
// hold this member's own view). The simulator uses it to share one
// assignment among members with the same view.
func (p *Planner) PlanAssigned(asg []Assignment, v *Views, held map[cid.Cid]int64, now time.Time) Plan {
	plan := Plan{Assignments: asg}
	var budget, used int64
	if me, ok := v.Get(p.self); ok {
		budget = me.Budget
	}
	for _, size := range held {
		used += size
	}
	byRoot := make(map[cid.Cid]*Assignment, len(asg))
	standing := make(map[cid.Cid]bool)
	for i := range asg {
		a := &asg[i]
		byRoot[a.Intent.Root] = a
		if !a.Chosen(p.self) {
			continue
		}
		if _, ok := held[a.Intent.Root]; ok {
			continue
		}
		if p.standingIn(a.Intent.Root, v, now) {
			// We are chosen only because a member ranked above us looks
			// gone. It may just not have been heard yet (a healed split: the
			// other side's intents arrive by sync before its heartbeats), so
			// wait one of its heartbeat intervals before fetching a copy
			// that would be released again.
			standing[a.Intent.Root] = true
			since, ok := p.standBy[a.Intent.Root]
			if !ok {
				p.standBy[a.Intent.Root] = now
				since = now
			}
			if now.Sub(since) < p.cfg.HeartbeatEvery(len(v.list)) {
				continue
			}
		}
		if used+a.Intent.Size > budget {
			plan.Waiting = append(plan.Waiting, a.Intent)
			continue
		}
		used += a.Intent.Size
		plan.Fetch = append(plan.Fetch, a.Intent)
	}

	for r := range p.standBy {
		if !standing[r] {
			delete(p.standBy, r)
		}
	}

	roots := make([]cid.Cid, 0, len(held))
	for r := range held {
		roots = append(roots, r)
	}
	slices.SortFunc(roots, func(a, b cid.Cid) int { return compareCID(a, b) })
	for r := range p.surplus {
		if _, ok := held[r]; !ok {
			delete(p.surplus, r)
		}
	}
	for _, r := range roots {
		st := p.releasable(byRoot[r], r, v, now)
		if st == notSurplus {
			delete(p.surplus, r)
			continue
		}
		since, ok := p.surplus[r]
		if !ok {
			p.surplus[r] = now
			since = now
		}
		if st == surplus && now.Sub(since) >= p.cfg.ReleaseDelay {
			plan.Release = append(plan.Release, r)
			delete(p.surplus, r)
		}
	}
	return plan
}

// standingIn reports whether a member of v ranked above us for root is
// gone (not heard within the grace period): then we are chosen in its place.
func (p *Planner) standingIn(root cid.Cid, v *Views, now time.Time) bool {
	for _, s := range p.placer.ranking(root, v) {
		if s.id == p.self {
			return false
		}
		if m, ok := v.Get(s.id); ok && !m.live(now, p.cfg.Grace) {
			return true
		}
	}
	return false
}

// surplusState is what releasable says of one of our replicas.
type surplusState int

const (
	notSurplus surplusState = iota // needed: forget any release timer
	surplus                        // may go once surplus for ReleaseDelay
	// surplusPaused: surplus, but a chosen holder is suspect (silent for a
	// few heartbeats, within grace). Not now: it may be gone for good. The
	// release timer keeps running, so that a holder whose heartbeats are
	// merely late (a loaded machine, a lossy network) does not restart it
	// every time and hold the surplus copy forever.
	surplusPaused
)

// releasable says whether our replica of r is surplus now: its intent is
// withdrawn (or unknown), or every chosen holder holds it and we are the
// lowest-ranked of the live members holding a surplus copy. One surplus
// copy goes at a time, lowest rank first, and only once the chosen holders
// have proved they hold the root, so a holder waking from sleep and the
// member that stood in for it never both drop their copies.
func (p *Planner) releasable(a *Assignment, r cid.Cid, v *Views, now time.Time) surplusState {
	if a == nil {
		return surplus
	}
	if a.Chosen(p.self) || len(a.Holders) < a.Intent.Copies {
		return notSurplus
	}
	state := surplus
	for _, id := range a.Holders {
		m, ok := v.Get(id)
		if !ok || !m.Holds.Has(r) {
			return notSurplus
		}
		// Chosen holders must be alive, not merely within the grace period:
		// a suspect or offline holder may be gone for good, and releasing
		// our copy now would mean fetching it again when its grace period
		// ends.
		if m.Offline || !m.live(now, max(m.SuspectAfter, p.cfg.SuspectAfter)) {
			state = surplusPaused
		}
	}
	mine := scored{p.self, Score(p.self, r)}
	for _, id := range v.HoldersOf(r) {
		if id == p.self || a.Chosen(id) {
			continue
		}
		m, _ := v.Get(id)
		if m.live(now, p.cfg.Grace) && cmpScored(scored{id, Score(id, r)}, mine) > 0 {
			return notSurplus // id ranks below us: it goes first
		}
	}
	return state
}

func compareCID(a, b cid.Cid) int {
	switch ka, kb := a.KeyString(), b.KeyString(); {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return 0
}
