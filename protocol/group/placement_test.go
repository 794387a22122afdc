package group

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

func views(n int, budget int64, now time.Time) []MemberView {
	out := make([]MemberView, n)
	for i := range out {
		out[i] = MemberView{ID: testID(i), Budget: budget, LastSeen: now}
	}
	return out
}

func ids(vs []MemberView) []peer.ID {
	out := make([]peer.ID, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestRankStable(t *testing.T) {
	all := ids(views(20, 0, t0))
	root := testCID(1)
	want := Rank(root, all)
	shuffled := slices.Clone(all)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if !slices.Equal(Rank(root, shuffled), want) {
		t.Fatal("ranking depends on input order")
	}
	without := slices.DeleteFunc(slices.Clone(want), func(id peer.ID) bool { return id == want[3] })
	if !slices.Equal(Rank(root, without), without) {
		t.Fatal("removing a member reordered the others")
	}
	if slices.Equal(Rank(testCID(2), all), want) {
		t.Fatal("different roots should rank differently")
	}
}

func TestHolders(t *testing.T) {
	const size = 100
	root := testCID(7)
	in := Intent{Root: root, Size: size, Copies: 3, Created: HLC{Wall: 1}}
	rank := Rank(root, ids(views(6, 0, t0)))
	idx := func(id peer.ID) int {
		return slices.IndexFunc(views(6, 0, t0), func(v MemberView) bool { return v.ID == id })
	}
	now := t0.Add(time.Hour)
	cfg := DefaultConfig()

	tests := []struct {
		name      string
		mutate    func(vs []MemberView)
		want      []peer.ID
		state     IntentState
		reasonHas string
	}{
		{"top three", nil, rank[:3], Wanted, ""},
		{"skip full member", func(vs []MemberView) { vs[idx(rank[0])].Budget = size - 1 }, rank[1:4], Wanted, ""},
		{"sleeping within grace keeps its place", func(vs []MemberView) { vs[idx(rank[1])].LastSeen = now.Add(-cfg.Grace) }, rank[:3], Wanted, ""},
		{"gone past grace is replaced", func(vs []MemberView) { vs[idx(rank[1])].LastSeen = now.Add(-cfg.Grace - time.Second) },
			[]peer.ID{rank[0], rank[2], rank[3]}, Wanted, ""},
		{"only two live", func(vs []MemberView) {
			for i := range vs[2:] {
				vs[2+i].LastSeen = time.Time{}
			}
		}, nil, UnderReplicated, "only 2 live members"},
		{"only one live", func(vs []MemberView) {
			for i := range vs[1:] {
				vs[1+i].LastSeen = time.Time{}
			}
		}, nil, UnderReplicated, "only 1 live member for 3 copies"},
		{"no room", func(vs []MemberView) {
			for i := range vs {
				vs[i].Budget = 50
			}
			vs[0].Budget = 200
		}, []peer.ID{testID(0)}, UnderReplicated, "largest free budget 50 B < size 100 B"},
		{"members that keep no copies are passed over", func(vs []MemberView) {
			vs[idx(rank[0])].Budget, vs[idx(rank[2])].Budget = 0, 0
		}, []peer.ID{rank[1], rank[3], rank[4]}, Wanted, ""},
		{"and named when copies are missing", func(vs []MemberView) {
			for i := range vs[:4] {
				vs[i].Budget = 0
			}
		}, nil, UnderReplicated, "no room on 4 of 6 live members: largest free budget 0 B < size 100 B (4 of them keep no copies)"},
		{"held and surplus", func(vs []MemberView) {
			for _, id := range append(slices.Clone(rank[:3]), rank[5]) {
				vs[idx(id)].Holds = RootSet{root: {}}
			}
		}, rank[:3], OverReplicated, ""},
		{"fetching", func(vs []MemberView) { vs[idx(rank[2])].Holds = RootSet{root: {}} }, rank[:3], Fetching, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := views(6, 1000, now)
			if tt.mutate != nil {
				tt.mutate(vs)
			}
			p := Holders(in, vs, now, cfg.Grace)
			if tt.want != nil && !slices.Equal(p.Holders, tt.want) {
				t.Fatalf("holders %v, want %v", p.Holders, tt.want)
			}
			if p.State != tt.state {
				t.Fatalf("state %v, want %v", p.State, tt.state)
			}
			if !strings.Contains(p.Reason, tt.reasonHas) {
				t.Fatalf("reason %q, want %q", p.Reason, tt.reasonHas)
			}
		})
	}
}

func TestAssignNeverExceedsBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := range 50 {
		vs := views(3+r.IntN(20), 0, t0)
		for i := range vs {
			vs[i].Budget = int64(r.IntN(1000))
		}
		var intents []Intent
		for i := range 1 + r.IntN(40) {
			intents = append(intents, Intent{Root: testCID(i), Size: int64(1 + r.IntN(300)), Copies: 1 + r.IntN(4), Created: HLC{Wall: int64(r.IntN(5))}})
		}
		v := NewViews(vs)
		asg := NewPlacer().Assign(intents, v, t0, time.Minute)
		charged := map[peer.ID]int64{}
		for _, a := range asg {
			if len(a.Holders) < a.Intent.Copies && a.Reason == "" {
				t.Fatalf("trial %d: under-replicated without a reason", trial)
			}
			for _, h := range a.Holders {
				charged[h] += a.Intent.Size
			}
		}
		for id, c := range charged {
			if m, _ := v.Get(id); c > m.Budget {
				t.Fatalf("trial %d: %s charged %d over budget %d", trial, id, c, m.Budget)
			}
		}
		// Same view, other order of intents: same answer.
		r.Shuffle(len(intents), func(i, j int) { intents[i], intents[j] = intents[j], intents[i] })
		again := NewPlacer().Assign(intents, NewViews(vs), t0, time.Minute)
		for i := range asg {
			if !slices.Equal(asg[i].Holders, again[i].Holders) {
				t.Fatalf("trial %d: placement depends on intent order", trial)
			}
		}
	}
}

// groupOf builds a state with n members of the given budget and one intent.
func groupOf(t *testing.T, n int, budget int64, root cid.Cid, copies int) *State {
	s := NewState()
	for i := range n {
		mustApply(t, s, memberUpdate(testID(i), budget, HLC{Wall: 1, Node: testID(i)}))
	}
	mustApply(t, s, Update{Intent: &Intent{Root: root, Size: 10, Copies: copies, Who: testID(0), Created: HLC{Wall: 2, Node: testID(0)}, Version: HLC{Wall: 2, Node: testID(0)}}})
	return s
}

func TestPlanReturningHolderReleaseByLowestRanked(t *testing.T) {
	cfg := TestConfig()
	root := testCID(3)
	s := groupOf(t, 5, 100, root, 1)
	rank := Rank(root, ids(views(5, 0, t0)))
	h, stand, extra := rank[0], rank[1], rank[4]
	now := t0
	vs := func(sleeping bool) []MemberView {
		out := views(5, 100, now)
		for i := range out {
			switch out[i].ID {
			case h:
				out[i].Holds = RootSet{root: {}}
				if sleeping {
					out[i].LastSeen = now.Add(-cfg.Grace - time.Millisecond)
				}
			case extra:
				out[i].Holds = RootSet{root: {}}
			}
		}
		return out
	}
	held := map[cid.Cid]int64{root: 10}
	pStand, pExtra := NewPlanner(stand, cfg), NewPlanner(extra, cfg)

	// The top holder sleeps past grace: the next in rank is chosen, and
	// fetches once it has stood in for a heartbeat interval.
	if plan := pStand.Plan(s, vs(true), nil, now); len(plan.Fetch) != 0 {
		t.Fatalf("stand-in fetched before waiting a heartbeat interval: %+v", plan.Fetch)
	}
	if plan := pStand.Plan(s, vs(true), nil, now.Add(cfg.HeartbeatEvery(5))); len(plan.Fetch) != 1 {
		t.Fatalf("stand-in should fetch, plan %+v", plan)
	}
	// It comes back, still holding: the stand-in's copy and the extra copy
	// are surplus. The lowest-ranked (extra) goes first, after the delay.
	for _, step := range []time.Duration{0, cfg.ReleaseDelay / 2} {
		now = t0.Add(step)
		v := vs(false)
		for i := range v {
			if v[i].ID == stand {
				v[i].Holds = RootSet{root: {}}
			}
		}
		if p := pStand.Plan(s, v, held, now); len(p.Release) != 0 {
			t.Fatalf("stand-in released while a lower-ranked surplus copy exists")
		}
		if p := pExtra.Plan(s, v, held, now); len(p.Release) != 0 {
			t.Fatalf("released before the release delay (at %v)", step)
		}
	}
	now = t0.Add(cfg.ReleaseDelay)
	v := vs(false)
	for i := range v {
		if v[i].ID == stand {
			v[i].Holds = RootSet{root: {}}
		}
	}
	if p := pExtra.Plan(s, v, held, now); !slices.Equal(p.Release, []cid.Cid{root}) {
		t.Fatalf("lowest-ranked surplus copy not released after the delay: %+v", p)
	}
	// Once the extra copy is gone, the stand-in's goes too, after its own delay.
	for i := range v {
		if v[i].ID == extra {
			v[i].Holds = nil
		}
	}
	pStand.Plan(s, v, held, now)
	for i := range v {
		v[i].LastSeen = now.Add(cfg.ReleaseDelay) // still heartbeating
	}
	if p := pStand.Plan(s, v, held, now.Add(cfg.ReleaseDelay)); !slices.Equal(p.Release, []cid.Cid{root}) {
		t.Fatalf("stand-in did not release: %+v", p)
	}
}

// A member that looks gone only because it has not been heard yet (the
// other side of a healed split) is heard within a heartbeat interval: the
// member standing in for it never fetches.
func TestPlanStandInWaitsAHeartbeat(t *testing.T) {
	cfg := TestConfig()
	root := testCID(7)
	s := groupOf(t, 4, 100, root, 1)
	rank := Rank(root, ids(views(4, 0, t0)))
	v := views(4, 100, t0)
	for i := range v {
		if v[i].ID == rank[0] {
			v[i].LastSeen = t0.Add(-cfg.Grace - time.Millisecond)
		}
	}
	p := NewPlanner(rank[1], cfg)
	if plan := p.Plan(s, v, nil, t0); len(plan.Fetch) != 0 || !plan.Assignments[0].Chosen(rank[1]) {
		t.Fatalf("chosen in a gone member's place: want no fetch yet, got %+v", plan)
	}
	now := t0.Add(cfg.HeartbeatEvery(4) / 2)
	for i := range v {
		v[i].LastSeen = now // the top member is heard
	}
	for _, at := range []time.Duration{0, cfg.HeartbeatEvery(4), cfg.Grace} {
		if plan := p.Plan(s, v, nil, now.Add(at)); len(plan.Fetch) != 0 {
			t.Fatalf("fetched although the member ranked above is back: %+v", plan.Fetch)
		}
		for i := range v {
			v[i].LastSeen = now.Add(at)
		}
	}
}

func TestPlanNoReleaseUntilChosenHoldersHold(t *testing.T) {
	cfg := TestConfig()
	root := testCID(4)
	s := groupOf(t, 4, 100, root, 2)
	rank := Rank(root, ids(views(4, 0, t0)))
	me := rank[3]
	v := views(4, 100, t0)
	p := NewPlanner(me, cfg)
	held := map[cid.Cid]int64{root: 10}
	for _, at := range []time.Duration{0, cfg.ReleaseDelay, 2 * cfg.ReleaseDelay} {
		if plan := p.Plan(s, v, held, t0.Add(at)); len(plan.Release) != 0 {
			t.Fatal("released although the chosen holders do not hold the root yet")
		}
	}
}

func TestPlanWithdrawnAndBudget(t *testing.T) {
	cfg := TestConfig()
	root := testCID(5)
	s := groupOf(t, 1, 15, root, 1)
	me := testID(0)
	p := NewPlanner(me, cfg)
	other := testCID(6)
	// Holding a 10-byte surplus replica of a withdrawn root leaves no room
	// for the 10-byte root we are chosen for.
	held := map[cid.Cid]int64{other: 10}
	plan := p.Plan(s, nil, held, t0)
	if len(plan.Fetch) != 0 || len(plan.Waiting) != 1 {
		t.Fatalf("budget exceeded: %+v", plan)
	}
	plan = p.Plan(s, nil, held, t0.Add(cfg.ReleaseDelay))
	if !slices.Equal(plan.Release, []cid.Cid{other}) {
		t.Fatalf("replica of an unknown root not released after the delay: %+v", plan)
	}
	plan = p.Plan(s, nil, nil, t0.Add(cfg.ReleaseDelay))
	if len(plan.Fetch) != 1 {
		t.Fatalf("room freed but nothing fetched: %+v", plan)
	}
}

// A surplus copy stays while a chosen holder is suspect, or offline (its
// daemon stopped and said so): either may not come back.
func TestPlanNoReleaseWhileChosenHolderAway(t *testing.T) {
	cfg := TestConfig()
	for _, away := range []struct {
		name string
		set  func(*MemberView)
	}{
		{"suspect", func(m *MemberView) { m.LastSeen = t0.Add(-cfg.SuspectAfter - time.Millisecond) }}, // within grace
		{"offline", func(m *MemberView) { m.LastSeen, m.Offline = t0.Add(cfg.ReleaseDelay), true }},    // its goodbye is recent
	} {
		t.Run(away.name, func(t *testing.T) {
			root := testCID(3)
			s := groupOf(t, 3, 100, root, 1)
			rank := Rank(root, ids(views(3, 0, t0)))
			v := views(3, 100, t0)
			for i := range v {
				v[i].Holds = RootSet{root: {}}
				if v[i].ID == rank[0] {
					away.set(&v[i])
				}
			}
			p := NewPlanner(rank[2], cfg)
			held := map[cid.Cid]int64{root: 10}
			for _, at := range []time.Duration{0, cfg.ReleaseDelay} {
				if plan := p.Plan(s, v, held, t0.Add(at)); len(plan.Release) != 0 {
					t.Fatalf("released while the chosen holder is %s", away.name)
				}
			}
			// Its heartbeat arrives, late: the release timer ran on while
			// it was away, so the surplus copy goes now rather than a
			// delay later.
			now := t0.Add(cfg.ReleaseDelay + time.Millisecond)
			for i := range v {
				if v[i].ID == rank[0] {
					v[i].LastSeen, v[i].Offline = now, false
				}
			}
			if plan := p.Plan(s, v, held, now); !slices.Equal(plan.Release, []cid.Cid{root}) {
				t.Fatalf("a late heartbeat restarted the release delay: %+v", plan.Release)
			}
		})
	}
}
