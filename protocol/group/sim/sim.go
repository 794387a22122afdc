package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/protocol/group"
)

// Config describes a run.
type Config struct {
	Members    int           // initial members
	Intents    int           // intents shared in the first minute
	Copies     int           // copies per intent
	IntentSize int64         // bytes per intent
	Budget     int64         // bytes each member offers
	Duration   time.Duration // simulated time
	Group      group.Config  // timings

	Fanout       int           // gossip fan-out
	Delay        time.Duration // mean one-hop delay (exponential)
	Drop         float64       // probability a message is lost
	SyncInterval time.Duration // anti-entropy with one random member
	ViewRefresh  time.Duration // how often holdings and liveness views are refreshed
	FetchTime    time.Duration // mean time to fetch a root

	Sleepers float64       // fraction of members that sleep (each once or more) during the run
	SleepMax time.Duration // longest sleep; below Group.Grace for sleep-only churn
	Leavers  int           // members that leave for good (half say so, half vanish)
	Joiners  int           // members that join during the run

	Seed uint64
}

// DefaultConfig is a group of n members with realistic timings.
func DefaultConfig(n int) Config {
	g := group.DefaultConfig()
	return Config{
		Members: n, Intents: 100, Copies: 3, IntentSize: 1 << 30, Budget: 100 << 30,
		Duration: 3 * time.Hour, Group: g,
		Fanout: 6, Delay: 50 * time.Millisecond, Drop: 0.01,
		SyncInterval: 10 * time.Minute, ViewRefresh: 10 * time.Second, FetchTime: 2 * time.Minute,
		Sleepers: 0.2, SleepMax: g.Grace - 5*time.Minute,
		Seed: 1,
	}
}

// Result holds what a run measured.
type Result struct {
	Members            int           // at the end, excluding those who left
	ConvergeMax        time.Duration // longest time from an update to every awake member having the same digest
	Placed             time.Duration // time until every intent first had its copies
	RecoveryMax        time.Duration // longest time from a holder leaving to its intents having their copies again
	Unconverged        int           // changes never converged on by the end
	Fetches, Releases  int
	Flaps              int // a member fetching a root it released earlier
	GossipPerMemberSec float64
	BeatsPerMemberSec  float64 // heartbeats received per member per second
	SyncPerMemberSec   float64
	Events             int
	Wall               time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("members=%d converge_max=%v placed=%v recovery_max=%v unconverged=%d fetches=%d releases=%d flaps=%d gossip/member/s=%.3f heartbeats_rx/member/s=%.1f sync/member/s=%.4f events=%d wall=%v",
		r.Members, r.ConvergeMax, r.Placed, r.RecoveryMax, r.Unconverged, r.Fetches, r.Releases, r.Flaps,
		r.GossipPerMemberSec, r.BeatsPerMemberSec, r.SyncPerMemberSec, r.Events, r.Wall.Round(time.Millisecond))
}

var debugFlaps = false

type kind uint8

const (
	evDeliver kind = iota // arg: update index
	evBeat                // heartbeat + plan
	evCheck               // look at a heard digest; sync if it differs
	evSync
	evSleep
	evWake
	evLeave
	evJoin
	evShare
	evFetched // arg: root index
	evProbe
)

type event struct {
	at   time.Duration
	seq  uint64
	kind kind
	m    int
	arg  int
}

type queue []event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type member struct {
	id       peer.ID
	state    *group.State // shared, never changed in place
	planner  *group.Planner
	clock    *group.Clock
	held     map[cid.Cid]int64
	fetching map[cid.Cid]bool
	released map[cid.Cid]bool
	lastBeat time.Duration
	asleep   bool
	left     bool
	silent   bool // left without saying so: others notice only after the grace period
	joined   bool
}

type stateKey struct {
	d [32]byte
	u int
}

type asgKey struct {
	d [32]byte
	v int
}

type assignment struct {
	asg    []group.Assignment
	chosen map[peer.ID]bool
}

type sim struct {
	cfg     Config
	r       *rand.Rand
	q       queue
	seq     uint64
	now     time.Duration
	start   time.Time
	members []*member
	byID    map[peer.ID]int
	updates []group.Update
	roots   []cid.Cid
	rootIdx map[cid.Cid]int

	applied  map[stateKey]*group.State
	merged   map[[2][32]byte]*group.State
	assigned map[asgKey]*assignment
	placer   *group.Placer

	views        *group.Views
	viewsVersion int
	viewsAt      time.Duration
	viewsDirty   bool

	pendingChange []time.Duration // origination times of changes not yet converged on
	probing       bool
	res           Result
	leftAt        map[int]time.Duration // root index -> when a holder left, until recovered
	inGroup       int                   // members joined and not left: sets the heartbeat interval
	gossipMsgs    int
	beatMsgs      float64
	syncMsgs      int
}

func memberID(i int) peer.ID {
	h, _ := mh.Sum(fmt.Appendf(nil, "sim member %d", i), mh.SHA2_256, -1)
	return peer.ID(h)
}

func rootCID(i int) cid.Cid {
	h, _ := mh.Sum(fmt.Appendf(nil, "sim root %d", i), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.DagProtobuf, h)
}

func (s *sim) at(d time.Duration, k kind, m, arg int) {
	s.seq++
	heap.Push(&s.q, event{at: s.now + d, seq: s.seq, kind: k, m: m, arg: arg})
}

// every is the heartbeat interval for the group's current size, as the
// daemon computes it.
func (s *sim) every() time.Duration { return s.cfg.Group.HeartbeatEvery(s.inGroup) }

func (s *sim) wall() time.Time { return s.start.Add(s.now) }

func (s *sim) delay() time.Duration {
	return time.Duration(s.r.ExpFloat64() * float64(s.cfg.Delay))
}

// Run runs a simulation.
func Run(cfg Config) Result {
	began := time.Now()
	s := &sim{
		cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), byID: map[peer.ID]int{},
		rootIdx: map[cid.Cid]int{}, applied: map[stateKey]*group.State{}, merged: map[[2][32]byte]*group.State{},
		assigned: map[asgKey]*assignment{}, placer: group.NewPlacer(), leftAt: map[int]time.Duration{},
	}
	base := group.NewState()
	total := cfg.Members + cfg.Joiners
	for i := range total {
		m := s.newMember(i)
		if i < cfg.Members {
			if _, err := base.Join(m.clock, fmt.Sprintf("m%d", i), nil, cfg.Budget); err != nil {
				panic(err)
			}
			m.joined = true
			s.inGroup++
		}
	}
	for i, m := range s.members {
		m.state = base
		if i < cfg.Members {
			s.at(time.Duration(s.r.Int64N(int64(s.every()))), evBeat, i, 0)
			s.at(time.Duration(s.r.Int64N(int64(cfg.Group.HeartbeatInterval))), evCheck, i, 0)
			s.at(time.Duration(s.r.Int64N(int64(cfg.SyncInterval))), evSync, i, 0)
		}
	}
	for i := range cfg.Intents {
		c := rootCID(i)
		s.roots = append(s.roots, c)
		s.rootIdx[c] = i
		s.at(time.Duration(s.r.Int64N(int64(time.Minute))), evShare, s.r.IntN(cfg.Members), i)
	}
	churnFrom, churnTo := cfg.Duration/4, cfg.Duration/2
	churnAt := func() time.Duration { return churnFrom + time.Duration(s.r.Int64N(int64(churnTo-churnFrom))) }
	for _, i := range s.r.Perm(cfg.Members)[:int(cfg.Sleepers*float64(cfg.Members))] {
		s.at(churnAt(), evSleep, i, 0)
	}
	for _, i := range s.r.Perm(cfg.Members)[:cfg.Leavers] {
		s.at(churnAt(), evLeave, i, 0)
	}
	for i := range cfg.Joiners {
		s.at(churnAt(), evJoin, cfg.Members+i, 0)
	}
	s.at(0, evProbe, 0, 0)
	s.refreshViews()

	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(event)
		if e.at > cfg.Duration {
			break
		}
		s.now = e.at
		s.res.Events++
		s.handle(e)
	}
	s.res.Unconverged = len(s.pendingChange)
	live := 0
	for _, m := range s.members {
		if m.joined && !m.left {
			live++
		}
	}
	s.res.Members = live
	secs := cfg.Duration.Seconds() * float64(live)
	s.res.GossipPerMemberSec = float64(s.gossipMsgs) / secs
	s.res.BeatsPerMemberSec = s.beatMsgs / secs
	s.res.SyncPerMemberSec = float64(s.syncMsgs) / secs
	s.res.Wall = time.Since(began)
	return s.res
}

func (s *sim) newMember(i int) *member {
	id := memberID(i)
	m := &member{id: id, held: map[cid.Cid]int64{}, fetching: map[cid.Cid]bool{}, released: map[cid.Cid]bool{}}
	m.clock = group.NewClock(id, s.wall)
	m.planner = group.NewPlanner(id, s.cfg.Group)
	s.members = append(s.members, m)
	s.byID[id] = i
	return m
}

func (s *sim) awake(i int) bool { m := s.members[i]; return m.joined && !m.left && !m.asleep }

func (s *sim) randomAwake(not int) int {
	for range 100 {
		j := s.r.IntN(len(s.members))
		if j != not && s.awake(j) {
			return j
		}
	}
	return -1
}

// originate records a local update by member i and gossips it.
func (s *sim) originate(i int, u group.Update) {
	s.updates = append(s.updates, u)
	s.pendingChange = append(s.pendingChange, s.now)
	s.startProbe()
	s.gossip(i, len(s.updates)-1)
}

func (s *sim) gossip(from, u int) {
	for range s.cfg.Fanout {
		j := s.randomAwake(from)
		if j < 0 {
			return
		}
		s.gossipMsgs++
		if s.r.Float64() < s.cfg.Drop {
			continue
		}
		s.at(s.delay(), evDeliver, j, u)
	}
}

// apply applies update u to member i's state, sharing the result with every
// member that applies u to the same state.
func (s *sim) apply(i, u int) bool {
	m := s.members[i]
	k := stateKey{m.state.Digest(), u}
	next, ok := s.applied[k]
	if !ok {
		next = m.state.Clone()
		if _, err := next.ApplyUpdate(s.updates[u]); err != nil {
			panic(err)
		}
		s.applied[k] = next
	}
	changed := next != m.state && next.Digest() != m.state.Digest()
	m.state = next
	return changed
}

func (s *sim) handle(e event) {
	m := s.members[e.m]
	switch e.kind {
	case evDeliver:
		if s.awake(e.m) && s.apply(e.m, e.arg) {
			s.gossip(e.m, e.arg)
		}
	case evShare:
		if !s.awake(e.m) {
			s.at(time.Second, evShare, e.m, e.arg)
			return
		}
		st := m.state.Clone()
		u, err := st.Share(m.clock, s.roots[e.arg], fmt.Sprintf("share %d", e.arg), s.cfg.IntentSize, s.cfg.Copies)
		if err != nil {
			panic(err)
		}
		m.state = st
		s.originate(e.m, u)
	case evBeat:
		if m.left {
			return
		}
		s.at(s.every(), evBeat, e.m, 0)
		if m.asleep || !m.joined {
			return
		}
		m.lastBeat = s.now
		s.beatMsgs += float64(s.awakeCount() - 1)
		s.plan(e.m)
	case evCheck:
		if m.left {
			return
		}
		// Heartbeats carry state digests: a member that sees one differ from
		// its own syncs with that member, instead of waiting for the
		// periodic sync. The daemon looks every base heartbeat interval,
		// also in large groups whose heartbeats are rarer; modelled as one
		// digest (of one member it heard from) per base interval.
		s.at(s.cfg.Group.HeartbeatInterval, evCheck, e.m, 0)
		if !s.awake(e.m) {
			return
		}
		if j := s.randomAwake(e.m); j >= 0 && s.members[j].state.Digest() != m.state.Digest() {
			s.syncWith(e.m, j)
		}
	case evSync:
		if m.left {
			return
		}
		s.at(s.cfg.SyncInterval, evSync, e.m, 0)
		if s.awake(e.m) {
			s.sync(e.m)
		}
	case evSleep:
		if m.left {
			return
		}
		m.asleep = true
		s.at(time.Duration(s.r.Int64N(int64(s.cfg.SleepMax))), evWake, e.m, 0)
	case evWake:
		if m.left {
			return
		}
		m.asleep = false
		m.lastBeat = s.now
		s.viewsDirty = true
		s.sync(e.m) // a waking laptop catches up at once
	case evLeave:
		s.leave(e.m)
	case evJoin:
		s.join(e.m)
	case evFetched:
		root := s.roots[e.arg]
		delete(m.fetching, root)
		if m.left {
			return
		}
		m.held[root] = s.cfg.IntentSize
		s.res.Fetches++
		if m.released[root] {
			s.res.Flaps++
			if debugFlaps {
				fmt.Printf("flap: member %d root %d refetched at %v\n", e.m, e.arg, s.now)
			}
		}
		s.viewsDirty = true
	case evProbe:
		s.probe()
	}
}

func (s *sim) awakeCount() int {
	n := 0
	for i := range s.members {
		if s.awake(i) {
			n++
		}
	}
	return n
}

func (s *sim) leave(i int) {
	m := s.members[i]
	if debugFlaps {
		fmt.Printf("leave: member %d at %v holding %d\n", i, s.now, len(m.held))
	}
	if m.left || !m.joined {
		return
	}
	for root := range m.held {
		if _, ok := s.leftAt[s.rootIdx[root]]; !ok {
			s.leftAt[s.rootIdx[root]] = s.now
		}
	}
	m.silent = true
	if s.r.IntN(2) == 0 && !m.asleep {
		st := m.state.Clone()
		u, err := st.Leave(m.clock)
		if err == nil {
			m.state = st
			m.silent = false
			s.originate(i, u)
		}
	}
	m.left = true
	s.inGroup--
	m.asleep = false
	s.viewsDirty = true
	s.startProbe()
}

func (s *sim) join(i int) {
	m := s.members[i]
	j := s.randomAwake(i)
	if j < 0 {
		return
	}
	m.state = s.members[j].state // the snapshot of the member it first syncs with
	m.joined = true
	s.inGroup++
	st := m.state.Clone()
	u, err := st.Join(m.clock, fmt.Sprintf("m%d", i), nil, s.cfg.Budget)
	if err != nil {
		panic(err)
	}
	m.state = st
	m.lastBeat = s.now
	s.syncMsgs += 2
	s.originate(i, u)
	s.at(time.Duration(s.r.Int64N(int64(s.every()))), evBeat, i, 0)
	s.at(time.Duration(s.r.Int64N(int64(s.cfg.Group.HeartbeatInterval))), evCheck, i, 0)
	s.at(time.Duration(s.r.Int64N(int64(s.cfg.SyncInterval))), evSync, i, 0)
}

// sync reconciles member i with a random awake member, with the real
// reconciliation messages.
func (s *sim) sync(i int) {
	if j := s.randomAwake(i); j >= 0 {
		s.syncWith(i, j)
	}
}

func (s *sim) syncWith(i, j int) {
	a, b := s.members[i], s.members[j]
	s.syncMsgs++ // the digest is in heartbeats; equal digests cost nothing more
	da, db := a.state.Digest(), b.state.Digest()
	if da == db {
		return
	}
	k := [2][32]byte{da, db}
	if da[0] > db[0] || (da[0] == db[0] && string(da[:]) > string(db[:])) {
		k = [2][32]byte{db, da}
	}
	if st, ok := s.merged[k]; ok {
		a.state, b.state = st, st
		s.syncMsgs += 4
		return
	}
	x, y := a.state.Clone(), b.state.Clone()
	out := x.SyncOpen()
	sides := [2]*group.State{y, x}
	for n := 0; !out.Empty() && n < 1000; n++ {
		s.syncMsgs++
		var err error
		if out, _, err = sides[n%2].SyncStep(out, s.wall()); err != nil {
			panic(err)
		}
	}
	if x.Digest() != y.Digest() {
		x.Merge(y) // not reached in practice; keeps the run going if a sync is cut short
	}
	s.merged[k] = x
	a.state, b.state = x, x
}

func (s *sim) refreshViews() {
	vs := make([]group.MemberView, 0, len(s.members))
	for _, m := range s.members {
		if !m.joined || (m.left && !m.silent) {
			continue // a silent leaver stays in views, as last heard, until it is gone
		}
		holds := make(group.RootSet, len(m.held))
		var used int64
		for r, sz := range m.held {
			holds[r] = struct{}{}
			used += sz
		}
		vs = append(vs, group.MemberView{
			ID: m.id, LastSeen: s.start.Add(m.lastBeat), Budget: s.cfg.Budget, Used: used, Holds: holds,
			SuspectAfter: group.SuspectBeats * s.every(),
		})
	}
	s.views = group.NewViews(vs)
	s.viewsVersion++
	s.viewsAt = s.now
	s.viewsDirty = false
}

// plan runs member i's planner on the shared assignment for its state.
func (s *sim) plan(i int) {
	if s.viewsDirty || s.now-s.viewsAt >= s.cfg.ViewRefresh {
		s.refreshViews()
	}
	m := s.members[i]
	k := asgKey{m.state.Digest(), s.viewsVersion}
	a, ok := s.assigned[k]
	if !ok {
		// Views hold every member; a member that left is not in them, but a
		// state that has not heard of a leave still lists it: placement only
		// counts members in both, as Liveness.Views does.
		asg := s.placer.Assign(m.state.Intents(), s.membersOf(m.state), s.wall(), s.cfg.Group.Grace)
		a = &assignment{asg: asg, chosen: map[peer.ID]bool{}}
		for _, x := range asg {
			for _, h := range x.Holders {
				a.chosen[h] = true
			}
		}
		s.assigned[k] = a
	}
	if !a.chosen[m.id] && len(m.held) == 0 {
		return // nothing to fetch or release: the plan is empty
	}
	p := m.planner.PlanAssigned(a.asg, s.views, m.held, s.wall())
	for _, in := range p.Fetch {
		if !m.fetching[in.Root] {
			m.fetching[in.Root] = true
			s.at(time.Duration(s.r.ExpFloat64()*float64(s.cfg.FetchTime)), evFetched, i, s.rootIdx[in.Root])
		}
	}
	for _, r := range p.Release {
		if debugFlaps {
			fmt.Printf("release: member %d root %d at %v\n", i, s.rootIdx[r], s.now)
		}
		delete(m.held, r)
		m.released[r] = true
		s.res.Releases++
		s.viewsDirty = true
	}
}

// membersOf filters the shared views to the members of st.
func (s *sim) membersOf(st *group.State) *group.Views {
	all := s.views.List()
	vs := make([]group.MemberView, 0, len(all))
	for _, v := range all {
		if st.IsMember(v.ID) {
			vs = append(vs, v)
		}
	}
	return group.NewViews(vs)
}

func (s *sim) startProbe() {
	if !s.probing {
		s.probing = true
		s.at(time.Second, evProbe, 0, 0)
	}
}

// probe checks, once a second while something is pending, whether awake
// members agree and every intent has its copies.
func (s *sim) probe() {
	s.probing = false
	if len(s.pendingChange) > 0 {
		var d [32]byte
		agree, first := true, true
		for i, m := range s.members {
			if !s.awake(i) {
				continue
			}
			if first {
				d, first = m.state.Digest(), false
			} else if m.state.Digest() != d {
				agree = false
				break
			}
		}
		if agree {
			for _, t := range s.pendingChange {
				s.res.ConvergeMax = max(s.res.ConvergeMax, s.now-t)
			}
			s.pendingChange = s.pendingChange[:0]
		}
	}
	copies := make([]int, len(s.roots))
	for _, m := range s.members {
		if m.left {
			continue
		}
		for r := range m.held {
			copies[s.rootIdx[r]]++
		}
	}
	all := true
	for ri, c := range copies {
		if c < s.cfg.Copies {
			all = false
			continue
		}
		if t, ok := s.leftAt[ri]; ok {
			s.res.RecoveryMax = max(s.res.RecoveryMax, s.now-t)
			delete(s.leftAt, ri)
		}
	}
	if all && s.res.Placed == 0 && len(s.roots) > 0 {
		s.res.Placed = s.now
	}
	if len(s.pendingChange) > 0 || len(s.leftAt) > 0 || s.res.Placed == 0 {
		s.startProbe()
	}
}
