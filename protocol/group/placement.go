package group

import (
	"github.com/dustin/go-humanize"

	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Placement: every member computes the same holders from the same view, so
// nobody coordinates and nobody triggers anything. For each intent, members
// are ranked by a hash of (member, root) (rendezvous hashing: when a member
// comes or goes, only the intents it ranked high for move). Live members are
// taken in rank order, skipping those without room, until the intent has its
// copies.
//
// Room is accounted across intents, not per intent: intents are placed
// oldest first (by Created, then root), and each chosen member's budget is
// charged with the intent's size. So a member is never chosen for more than
// its budget, a member without room for one more intent is skipped by every
// other member's computation too (the next in rank takes it), and a new
// intent never takes room from an older one.

// MemberView is what placement knows of one member.
type MemberView struct {
	ID       peer.ID
	Name     string
	LastSeen time.Time // local time of its last heartbeat
	Budget   int64     // bytes offered for others' content (from the state)
	Used     int64     // bytes of replicas held (from heartbeats)
	Holds    RootSet   // replica roots held (from heartbeats)
	// SuspectAfter is how long it may be silent before it is suspect (from
	// the interval its heartbeats announce; zero: Config.SuspectAfter).
	SuspectAfter time.Duration
	// Offline: its last heartbeat was a goodbye (its daemon stopped). Its
	// copies count within the grace period as a silent member's do.
	Offline bool
}

func (m *MemberView) live(now time.Time, grace time.Duration) bool {
	return now.Sub(m.LastSeen) <= grace
}

// Views indexes member views for placement. Build one per planning round.
type Views struct {
	list    []MemberView
	byID    map[peer.ID]int
	holders map[cid.Cid][]peer.ID
	sig     uint64
}

var sigSeed = maphash.MakeSeed()

// NewViews indexes vs (later duplicates of an ID replace earlier ones).
func NewViews(vs []MemberView) *Views {
	v := &Views{byID: make(map[peer.ID]int, len(vs)), holders: make(map[cid.Cid][]peer.ID)}
	for _, m := range vs {
		if i, ok := v.byID[m.ID]; ok {
			v.list[i] = m
			continue
		}
		v.byID[m.ID] = len(v.list)
		v.list = append(v.list, m)
	}
	for _, m := range v.list {
		v.sig ^= maphash.String(sigSeed, string(m.ID))
		for r := range m.Holds {
			v.holders[r] = append(v.holders[r], m.ID)
		}
	}
	return v
}

// Get returns the view of id.
func (v *Views) Get(id peer.ID) (*MemberView, bool) {
	i, ok := v.byID[id]
	if !ok {
		return nil, false
	}
	return &v.list[i], true
}

// List returns every view.
func (v *Views) List() []MemberView { return v.list }

// HoldersOf returns the members that report holding root.
func (v *Views) HoldersOf(root cid.Cid) []peer.ID { return v.holders[root] }

// Score is the rendezvous weight of member id for root: the first 8 bytes of
// sha256(id || root). Higher ranks first; ties (never in practice) go to the
// lower ID.
func Score(id peer.ID, root cid.Cid) uint64 {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write(root.Bytes())
	var d [32]byte
	return binary.BigEndian.Uint64(h.Sum(d[:0]))
}

type scored struct {
	id    peer.ID
	score uint64
}

func cmpScored(a, b scored) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// Rank returns ids in rendezvous order for root, best first.
func Rank(root cid.Cid, ids []peer.ID) []peer.ID {
	s := make([]scored, len(ids))
	for i, id := range ids {
		s[i] = scored{id, Score(id, root)}
	}
	slices.SortFunc(s, cmpScored)
	out := make([]peer.ID, len(s))
	for i, x := range s {
		out[i] = x.id
	}
	return out
}

// Assignment is the placement of one intent: the members chosen to hold it.
type Assignment struct {
	Intent  Intent
	Holders []peer.ID // chosen, best rank first; fewer than Copies if under-replicated
	Reason  string    // why there are fewer holders than copies, else ""
}

// Chosen reports whether id is one of the chosen holders.
func (a *Assignment) Chosen(id peer.ID) bool { return slices.Contains(a.Holders, id) }

// Placer computes assignments. It caches each root's ranking across calls,
// which matters in groups of thousands. Not safe for concurrent use.
type Placer struct {
	ranks map[cid.Cid]*ranking
}

type ranking struct {
	sig  uint64
	has  map[peer.ID]struct{}
	list []scored // every member ever seen for this root, best first
}

// NewPlacer returns a placer with an empty cache.
func NewPlacer() *Placer { return &Placer{ranks: make(map[cid.Cid]*ranking)} }

// ranking returns root's ranking, a superset of v's members in rank order
// (members no longer in v are skipped by callers).
func (p *Placer) ranking(root cid.Cid, v *Views) []scored {
	r := p.ranks[root]
	if r == nil {
		r = &ranking{has: make(map[peer.ID]struct{})}
		p.ranks[root] = r
	} else if r.sig == v.sig {
		return r.list
	}
	added := false
	for _, m := range v.list {
		if _, ok := r.has[m.ID]; !ok {
			r.has[m.ID] = struct{}{}
			r.list = append(r.list, scored{m.ID, Score(m.ID, root)})
			added = true
		}
	}
	if added {
		slices.SortFunc(r.list, cmpScored)
	}
	r.sig = v.sig
	return r.list
}

// Forget drops cached rankings of roots not in keep.
func (p *Placer) Forget(keep func(cid.Cid) bool) {
	for r := range p.ranks {
		if !keep(r) {
			delete(p.ranks, r)
		}
	}
}

// Assign places intents (live ones; withdrawn are skipped) on the members of
// v at now. The result is in placement order (oldest intent first) and is a
// function of the intents, the members' budgets and which members are live:
// every member with the same view computes the same result.
func (p *Placer) Assign(intents []Intent, v *Views, now time.Time, grace time.Duration) []Assignment {
	order := slices.Clone(intents)
	slices.SortFunc(order, func(a, b Intent) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.Root.KeyString(), b.Root.KeyString())
	})
	live := 0
	for i := range v.list {
		if v.list[i].live(now, grace) {
			live++
		}
	}
	charged := make(map[peer.ID]int64)
	out := make([]Assignment, 0, len(order))
	for _, in := range order {
		if in.Withdrawn {
			continue
		}
		a := Assignment{Intent: in}
		largest, full, none := int64(-1), 0, 0
		for _, s := range p.ranking(in.Root, v) {
			m, ok := v.Get(s.id)
			if !ok || !m.live(now, grace) {
				continue
			}
			free := m.Budget - charged[m.ID]
			if free < in.Size {
				full++
				if m.Budget <= 0 {
					none++ // keeps no copies (groups.budget_percent 0)
				}
				largest = max(largest, free)
				continue
			}
			a.Holders = append(a.Holders, m.ID)
			charged[m.ID] += in.Size
			if len(a.Holders) == in.Copies {
				break
			}
		}
		if len(a.Holders) < in.Copies {
			if live < in.Copies {
				members := "members"
				if live == 1 {
					members = "member"
				}
				a.Reason = fmt.Sprintf("only %d live %s for %d copies", live, members, in.Copies)
			} else {
				a.Reason = fmt.Sprintf("no room on %d of %d live members: largest free budget %s < size %s",
					full, live, humanize.IBytes(uint64(max(largest, 0))), humanize.IBytes(uint64(max(in.Size, 0))))
				if none > 0 {
					a.Reason += fmt.Sprintf(" (%d of them keep%s no copies)", none, map[bool]string{true: "s"}[none == 1])
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// IntentState is the replication state of an intent, for status.
type IntentState int

const (
	Wanted          IntentState = iota // holders chosen, no copy yet
	Fetching                           // some chosen holders hold it, others are fetching
	Held                               // every chosen holder holds it
	OverReplicated                     // held, plus surplus copies awaiting release
	UnderReplicated                    // fewer holders than copies can be chosen (see Reason)
)

func (s IntentState) String() string {
	return [...]string{"wanted", "fetching", "held", "over-replicated", "under-replicated"}[s]
}

// CopyState is one member's part in an intent.
type CopyState int

const (
	CopyFetching CopyState = iota // chosen, does not hold it yet
	CopyHeld                      // chosen, holds it
	CopySurplus                   // holds it, not chosen: released after ReleaseDelay
	CopyLost                      // holds it but gone (silent past the grace period)
)

func (s CopyState) String() string {
	return [...]string{"fetching", "held", "surplus", "gone"}[s]
}

// MemberCopy is one member's copy of an intent.
type MemberCopy struct {
	ID    peer.ID
	Rank  int // 0 is the best-ranked live or holding member
	State CopyState
}

// Placement is an intent's status: who should hold it, who does.
type Placement struct {
	Intent  Intent
	Holders []peer.ID
	Copies  []MemberCopy // chosen holders and every member holding a copy, by rank
	Held    int          // copies on live chosen holders
	Surplus int          // copies on live members not chosen
	State   IntentState
	Reason  string // for UnderReplicated: why
}

// Status computes a's placement status from the holdings in v.
func (p *Placer) Status(a Assignment, v *Views, now time.Time, grace time.Duration) Placement {
	pl := Placement{Intent: a.Intent, Holders: a.Holders, Reason: a.Reason}
	root := a.Intent.Root
	want := len(a.Holders)
	for _, id := range v.HoldersOf(root) {
		if !a.Chosen(id) {
			want++
		}
	}
	rank := 0
	for _, s := range p.ranking(root, v) {
		m, ok := v.Get(s.id)
		if !ok {
			continue
		}
		chosen, holds, live := a.Chosen(m.ID), m.Holds.Has(root), m.live(now, grace)
		if !live && !holds {
			continue
		}
		switch {
		case chosen && holds:
			pl.Copies = append(pl.Copies, MemberCopy{m.ID, rank, CopyHeld})
			pl.Held++
		case chosen:
			pl.Copies = append(pl.Copies, MemberCopy{m.ID, rank, CopyFetching})
		case holds && live:
			pl.Copies = append(pl.Copies, MemberCopy{m.ID, rank, CopySurplus})
			pl.Surplus++
		case holds:
			pl.Copies = append(pl.Copies, MemberCopy{m.ID, rank, CopyLost})
		}
		rank++
		if len(pl.Copies) == want {
			break
		}
	}
	switch {
	case len(a.Holders) < a.Intent.Copies:
		pl.State = UnderReplicated
	case pl.Held == len(a.Holders) && pl.Surplus > 0:
		pl.State = OverReplicated
	case pl.Held == len(a.Holders):
		pl.State = Held
	case pl.Held == 0 && pl.Surplus == 0:
		pl.State = Wanted
	default:
		pl.State = Fetching
	}
	return pl
}

// Holders places a single intent: the chosen holders and the status. It is
// Assign and Status for one intent, for callers that want no cache; note
// that with several intents, Assign's cross-intent budget accounting gives
// the true answer.
func Holders(in Intent, members []MemberView, now time.Time, grace time.Duration) Placement {
	p, v := NewPlacer(), NewViews(members)
	as := p.Assign([]Intent{in}, v, now, grace)
	if len(as) == 0 {
		return Placement{Intent: in}
	}
	return p.Status(as[0], v, now, grace)
}
