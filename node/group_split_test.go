package node

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// splitGater is a libp2p connection gater whose blocked set the test
// changes while the host runs: it refuses to dial a blocked peer and
// refuses a blocked peer's inbound connection once it has said who it is.
// Safe for concurrent use.
type splitGater struct {
	mu      sync.Mutex
	blocked map[peer.ID]bool
}

// block refuses every connection to and from ids from now on; existing
// connections are the caller's to close.
func (g *splitGater) block(ids []peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked = map[peer.ID]bool{}
	for _, id := range ids {
		g.blocked[id] = true
	}
}

// unblock allows every connection again.
func (g *splitGater) unblock() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked = nil
}

func (g *splitGater) allowed(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.blocked[p]
}

func (g *splitGater) InterceptPeerDial(p peer.ID) bool                 { return g.allowed(p) }
func (g *splitGater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return g.allowed(p) }

// InterceptAccept lets every inbound connection start: the peer is not
// known before the handshake, InterceptSecured refuses it after.
func (g *splitGater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *splitGater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allowed(p)
}

func (g *splitGater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return g.allowed(c.RemotePeer()), 0
}

// gatedGroupNode is groupNodeTimed on a fresh repo with a 1 GiB budget,
// and g vetting every connection of its host.
func gatedGroupNode(t testing.TB, g *splitGater, tm groupTimings) *Node {
	t.Helper()
	return groupNodeTimed(t, t.TempDir(), 1<<30, tm, func(c *Config) { c.Network.gater = g })
}

// groupSplit is a group of nodes that a test splits in two and heals.
type groupSplit struct {
	t      *testing.T
	nodes  []*Node
	gaters []*splitGater
	sides  [2][]int           // indexes of nodes on each side, while split
	roots  map[string]cid.Cid // the intents under test, by a short name
}

// digest is n's group state digest.
func (s *groupSplit) digest(n *Node) (d [32]byte) {
	groupOf(s.t, n, "family").net.Read(func(st *group.State, _ *group.Liveness) { d = st.Digest() })
	return d
}

// agree reports whether the nodes at idx have one group state.
func (s *groupSplit) agree(idx []int) bool {
	d := s.digest(s.nodes[idx[0]])
	for _, i := range idx[1:] {
		if s.digest(s.nodes[i]) != d {
			return false
		}
	}
	return true
}

// intent is n's record of root (tombstone included).
func (s *groupSplit) intent(n *Node, root cid.Cid) (in group.Intent, ok bool) {
	groupOf(s.t, n, "family").net.Read(func(st *group.State, _ *group.Liveness) { in, ok = st.Intent(root) })
	return in, ok
}

// holders are the nodes at idx that hold root.
func (s *groupSplit) holders(idx []int, root cid.Cid) []int {
	var out []int
	for _, i := range idx {
		if holds(s.t, s.nodes[i], "family", root) {
			out = append(out, i)
		}
	}
	return out
}

func (s *groupSplit) all() []int {
	out := make([]int, len(s.nodes))
	for i := range out {
		out[i] = i
	}
	return out
}

func (s *groupSplit) ids(idx []int) []peer.ID {
	out := make([]peer.ID, len(idx))
	for k, i := range idx {
		out[k] = s.nodes[i].host.ID()
	}
	return out
}

// connect dials node j from node i.
func (s *groupSplit) connect(ctx context.Context, i, j int) error {
	h := s.nodes[j].host
	return s.nodes[i].host.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
}

// eventually polls cond until it holds; past d it dumps what every node
// knows and fails.
func (s *groupSplit) eventually(d time.Duration, what string, cond func() bool) {
	s.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			s.t.Logf("every node's view:%s", s.dump())
			s.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
}

// dump says what every node knows: connections, state, holdings, and its
// views of the members, for failure messages.
func (s *groupSplit) dump() string {
	var b strings.Builder
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range s.roots {
			if !yield(k) {
				return
			}
		}
	})
	for i, n := range s.nodes {
		g := groupOf(s.t, n, "family")
		d := s.digest(n)
		fmt.Fprintf(&b, "\nnode %d %s: %d peers, digest %x", i, n.host.ID().ShortString(), len(n.host.Network().Peers()), d[:4])
		for _, k := range names {
			r := s.roots[k]
			in, ok := s.intent(n, r)
			ferr := g.rep.FetchErr(r)
			fetching := g.rep.Fetching(r)
			var chosen []int // by the node's last plan
			for _, as := range g.rep.Plan().Assignments {
				if as.Intent.Root == r {
					for _, id := range as.Holders {
						chosen = append(chosen, slices.Index(s.ids(s.all()), id))
					}
				}
			}
			fmt.Fprintf(&b, "\n  %s %s: known=%v copies=%d withdrawn=%v v=%s holds=%v chosen=%v fetching=%v err=%q",
				k, r, ok, in.Copies, in.Withdrawn, in.Version, holds(s.t, n, "family", r), chosen, fetching, ferr)
		}
		now := time.Now()
		g.net.Read(func(st *group.State, l *group.Liveness) {
			for _, v := range l.Views(st) {
				var held []string
				for _, k := range names {
					if v.Holds.Has(s.roots[k]) {
						held = append(held, k)
					}
				}
				fmt.Fprintf(&b, "\n  sees %d %s: %s, seen %v ago, holds %v", slices.Index(s.ids(s.all()), v.ID), v.ID.ShortString(),
					l.Health(v.ID, now), now.Sub(v.LastSeen).Round(time.Millisecond), held)
			}
		})
	}
	return b.String()
}

// healWatch follows the holders of each root while a split heals: the
// fewest copies seen, and the members that dropped a copy and took it
// again (a flap: a release made on a view the heal then changed).
type healWatch struct {
	last   map[cid.Cid][]int
	fewest map[cid.Cid]int
	took   map[cid.Cid]map[int]bool // gained a copy since the first look
	gone   map[cid.Cid]map[int]bool // dropped a copy since the first look
	retook map[cid.Cid][]int
}

func newHealWatch() *healWatch {
	return &healWatch{
		last: map[cid.Cid][]int{}, fewest: map[cid.Cid]int{}, retook: map[cid.Cid][]int{},
		took: map[cid.Cid]map[int]bool{}, gone: map[cid.Cid]map[int]bool{},
	}
}

// observe records the holders of every root now.
func (w *healWatch) observe(s *groupSplit) {
	for _, r := range s.roots {
		h := s.holders(s.all(), r)
		if f, ok := w.fewest[r]; !ok || len(h) < f {
			w.fewest[r] = len(h)
		}
		_, seen := w.last[r]
		if !seen {
			w.took[r], w.gone[r] = map[int]bool{}, map[int]bool{}
		}
		for _, i := range w.last[r] {
			if !slices.Contains(h, i) {
				w.gone[r][i] = true
			}
		}
		for _, i := range h {
			if seen && !slices.Contains(w.last[r], i) {
				w.took[r][i] = true
				if w.gone[r][i] {
					w.retook[r] = append(w.retook[r], i)
				}
			}
		}
		w.last[r] = h
	}
}

// pickSides splits the nodes in two halves such that node 0 (which shared
// x) is on side 0, node 1 (which shared y) on side 1, and each side has a
// copy of the other's root: so both sides can place x and y on their own
// members while split, and more copies than wanted exist once healed.
func pickSides(size int, xHolders, yHolders []int) [2][]int {
	side := map[int]int{0: 0, 1: 1}
	if !slices.Contains(xHolders, 1) {
		for _, h := range xHolders {
			if _, ok := side[h]; !ok {
				side[h] = 1
				break
			}
		}
	}
	if !slices.Contains(yHolders, 0) {
		for _, h := range yHolders {
			if _, ok := side[h]; !ok {
				side[h] = 0
				break
			}
		}
	}
	var sides [2][]int
	for i := range size {
		if k, ok := side[i]; ok {
			sides[k] = append(sides[k], i)
		}
	}
	for i := range size {
		if _, ok := side[i]; !ok {
			k := 1
			if len(sides[0]) < size/2 {
				k = 0
			}
			sides[k] = append(sides[k], i)
		}
	}
	slices.Sort(sides[0])
	slices.Sort(sides[1])
	return sides
}

// newGroupSplit starts size gated nodes in a group called "family", and
// checks at the end of the test, once they have closed, that they left no
// goroutine behind.
func newGroupSplit(t *testing.T, size int) *groupSplit {
	t.Helper()
	// Registered first, so it runs after the nodes have closed.
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, leaks,
			goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
			goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).runActive"))
	})
	s := &groupSplit{t: t, nodes: make([]*Node, size), gaters: make([]*splitGater, size), roots: map[string]cid.Cid{}}
	// The tests' timings, but heartbeats half as often: eight nodes beating
	// ten times a second each, under -race on a busy machine, deliver
	// heartbeats late enough (past SuspectAfter, 3 beats) that surplus
	// copies wait for minutes for every chosen holder to look alive for a
	// whole release delay.
	tm := testTimings
	tm.heartbeat = 2 * testHeartbeat
	for i := range s.nodes {
		s.gaters[i] = &splitGater{}
		s.nodes[i] = gatedGroupNode(t, s.gaters[i], tm)
	}
	formGroup(t, s.nodes, "family")
	return s
}

// share shares root from node i with copies.
func (s *groupSplit) share(i int, root cid.Cid, copies int) {
	s.t.Helper()
	if _, err := s.nodes[i].GroupShare(context.Background(), "family", root, api.ShareOptions{Copies: copies}); err != nil {
		s.t.Fatal(err)
	}
}

// crossLinks counts the pairs across the sides that either end sees a
// connection between.
func (s *groupSplit) crossLinks() int {
	c := 0
	for _, i := range s.sides[0] {
		for _, j := range s.sides[1] {
			if len(s.nodes[i].host.Network().ConnsToPeer(s.nodes[j].host.ID())) > 0 ||
				len(s.nodes[j].host.Network().ConnsToPeer(s.nodes[i].host.ID())) > 0 {
				c++
			}
		}
	}
	return c
}

// split cuts the nodes into sides: no connection across from now on, in
// either direction, and a full mesh within each side (so that what a test
// checks is the split and the heal, not how a side finds itself).
func (s *groupSplit) split(sides [2][]int) {
	s.t.Helper()
	ctx := context.Background()
	s.sides = sides
	A, B := sides[0], sides[1]
	for _, i := range A {
		s.gaters[i].block(s.ids(B))
	}
	for _, i := range B {
		s.gaters[i].block(s.ids(A))
	}
	// Closing again until none is left covers a dial that was being set up
	// when the block began; the gater refuses any later one.
	s.eventually(30*time.Second, "no connection across the split", func() bool {
		for _, i := range A {
			for _, j := range B {
				_ = s.nodes[i].host.Network().ClosePeer(s.nodes[j].host.ID())
				_ = s.nodes[j].host.Network().ClosePeer(s.nodes[i].host.ID())
			}
		}
		return s.crossLinks() == 0
	})
	if err := s.connect(ctx, A[0], B[0]); err == nil {
		s.t.Fatal("a dial from side A to side B succeeded while split")
	}
	if err := s.connect(ctx, B[0], A[0]); err == nil {
		s.t.Fatal("a dial from side B to side A succeeded while split")
	}
	for _, side := range sides {
		for k, i := range side {
			for _, j := range side[k+1:] {
				if err := s.connect(ctx, i, j); err != nil {
					s.t.Fatalf("connect %d to %d within a side: %v", i, j, err)
				}
			}
		}
	}
}

// heal lifts the block and dials bridges pairs across (none: the group
// must find the other side by itself).
func (s *groupSplit) heal(bridges int) {
	s.t.Helper()
	for _, g := range s.gaters {
		g.unblock()
	}
	A, B := s.sides[0], s.sides[1]
	for k := range min(bridges, len(A), len(B)) {
		if err := s.connect(context.Background(), A[k], B[k]); err != nil {
			s.t.Fatalf("heal: connect %d to %d: %v", A[k], B[k], err)
		}
	}
}

// allLive reports whether every node sees every member, none of them gone.
func (s *groupSplit) allLive() bool {
	for _, n := range s.nodes {
		ms, err := n.GroupMembers(context.Background(), "family")
		if err != nil || len(ms) != len(s.nodes) {
			return false
		}
		for _, m := range ms {
			if m.Health == group.Gone.String() {
				return false
			}
		}
	}
	return true
}

// placed reports whether each root has exactly its count of holders among
// the nodes at idx.
func (s *groupSplit) placed(idx []int, want map[cid.Cid]int) bool {
	for r, n := range want {
		if len(s.holders(idx, r)) != n {
			return false
		}
	}
	return true
}

// steady fails if the holders of any root in want change over several
// release delays (copies flapping), and returns who holds what.
func (s *groupSplit) steady(want map[cid.Cid]int) map[cid.Cid][]int {
	s.t.Helper()
	who := map[cid.Cid][]int{}
	for r := range want {
		who[r] = s.holders(s.all(), r)
	}
	for end := time.Now().Add(3 * testReleaseDelay); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for r, w := range who {
			if h := s.holders(s.all(), r); !slices.Equal(h, w) {
				s.t.Fatalf("holders of %s changed from %v to %v%s", r, w, h, s.dump())
			}
		}
	}
	return who
}

// newSharedSplit forms the group (8 nodes, 6 with -short) and shares x
// from node 0 with 2 copies and y from node 1 with 3.
func newSharedSplit(t *testing.T) (s *groupSplit, x, y cid.Cid) {
	size := 8
	if testing.Short() {
		size = 6
	}
	s = newGroupSplit(t, size)
	x = addData(t, s.nodes[0], randomData(200<<10))
	y = addData(t, s.nodes[1], randomData(200<<10))
	s.roots["x"], s.roots["y"] = x, y
	s.share(0, x, 2)
	s.share(1, y, 3)
	return s, x, y
}

// TestGroupSplit splits a group of real nodes in two (a connection gater
// refuses every connection across), changes the state on both sides, heals
// the split, and checks that every member converges to the same state with
// no intent lost, and every intent to exactly its copies.
func TestGroupSplit(t *testing.T) {
	ctx := context.Background()
	// Before the split: x, to be withdrawn on one side, and y, to be
	// re-shared with other copies on both.
	s, x, y := newSharedSplit(t)
	all := s.all()
	s.eventually(60*time.Second, "x on 2 members, y on 3, one state", func() bool {
		return s.placed(all, map[cid.Cid]int{x: 2, y: 3}) && s.agree(all)
	})

	s.split(pickSides(len(s.nodes), s.holders(all, x), s.holders(all, y)))
	A, B := s.sides[0], s.sides[1]
	t.Logf("split: side A %v, side B %v; x on %v, y on %v", A, B, s.holders(all, x), s.holders(all, y))

	// While split, side A shares a, withdraws x and asks y on all of its
	// members; side B shares b and asks y on 2. The two writes of y are
	// concurrent: the later version must win everywhere.
	yHolderA := A[0] // has y: pickSides made sure some member of A has it
	for _, i := range A {
		if holds(t, s.nodes[i], "family", y) {
			yHolderA = i
			break
		}
	}
	a := addData(t, s.nodes[A[0]], randomData(200<<10))
	s.roots["a"] = a
	s.share(A[0], a, 2)
	if err := s.nodes[A[0]].GroupUnshare(ctx, "family", x); err != nil {
		t.Fatal(err)
	}
	s.share(yHolderA, y, len(A))
	b := addData(t, s.nodes[B[0]], randomData(200<<10))
	s.roots["b"] = b
	s.share(B[0], b, 2)
	s.share(1, y, 2)
	yA, _ := s.intent(s.nodes[yHolderA], y)
	yB, _ := s.intent(s.nodes[1], y)
	yWin := yA
	if yB.Version.Compare(yA.Version) > 0 {
		yWin = yB
	}
	t.Logf("y re-shared with %d copies on A (%s), %d on B (%s): %d wins", yA.Copies, yA.Version, yB.Copies, yB.Version, yWin.Copies)

	// Each side places everything it knows on its own members: the other
	// side's members are silent, gone after the grace period, so their
	// copies no longer count.
	settled := func(side []int, live map[cid.Cid]int, withdrawn []cid.Cid) func() bool {
		return func() bool {
			if !s.agree(side) {
				return false
			}
			for r, copies := range live {
				in, ok := s.intent(s.nodes[side[0]], r)
				if !ok || in.Withdrawn || in.Copies != copies || len(s.holders(side, r)) != copies {
					return false
				}
			}
			for _, r := range withdrawn {
				in, ok := s.intent(s.nodes[side[0]], r)
				if !ok || !in.Withdrawn || len(s.holders(side, r)) != 0 {
					return false
				}
			}
			return true
		}
	}
	s.eventually(90*time.Second, "side A to place a and y on its own members and release x",
		settled(A, map[cid.Cid]int{a: 2, y: yA.Copies}, []cid.Cid{x}))
	s.eventually(90*time.Second, "side B to place b, x and y on its own members",
		settled(B, map[cid.Cid]int{b: 2, x: 2, y: yB.Copies}, nil))
	for _, i := range A {
		if _, ok := s.intent(s.nodes[i], b); ok {
			t.Fatalf("node %d on side A learnt of b while split", i)
		}
	}
	for _, i := range B {
		if _, ok := s.intent(s.nodes[i], a); ok {
			t.Fatalf("node %d on side B learnt of a while split", i)
		}
		if in, _ := s.intent(s.nodes[i], x); in.Withdrawn {
			t.Fatalf("node %d on side B learnt that x was withdrawn while split", i)
		}
	}
	if c := s.crossLinks(); c != 0 {
		t.Fatalf("%d pairs connected across the split", c)
	}
	t.Logf("while split: x on %v, y on %v, a on %v, b on %v",
		s.holders(all, x), s.holders(all, y), s.holders(all, a), s.holders(all, b))

	// Heal: lift the block and dial two bridges across; the group does the
	// rest (sync on connect, gossip, heartbeats).
	watch := newHealWatch()
	watch.observe(s)
	s.heal(2)
	s.eventually(60*time.Second, "one state on every node, with every intent and no withdrawn one", func() bool {
		watch.observe(s)
		if !s.agree(all) {
			return false
		}
		for _, n := range s.nodes {
			for r, copies := range map[cid.Cid]int{a: 2, b: 2, y: yWin.Copies} {
				if in, ok := s.intent(n, r); !ok || in.Withdrawn || in.Copies != copies {
					return false
				}
			}
			if in, ok := s.intent(n, x); !ok || !in.Withdrawn {
				return false
			}
		}
		return s.allLive()
	})
	// Then the copies made on both sides while split settle: surplus ones
	// are released after the release delay, x's everywhere.
	want := map[cid.Cid]int{a: 2, b: 2, y: yWin.Copies, x: 0}
	s.eventually(120*time.Second, "every intent on exactly its copies", func() bool {
		watch.observe(s)
		return s.placed(all, want)
	})
	t.Logf("healed with %d pairs connected across the former split (the test dialled 2)", s.crossLinks())
	who := s.steady(want) // no flapping
	t.Logf("healed: x on %v, y on %v, a on %v, b on %v", who[x], who[y], who[a], who[b])
	for _, k := range []string{"x", "y", "a", "b"} {
		r := s.roots[k]
		var wasted []int // fetched during the heal, released before it ended
		for i := range watch.took[r] {
			if !slices.Contains(who[r], i) {
				wasted = append(wasted, i)
			}
		}
		slices.Sort(wasted)
		t.Logf("while healing, %s: fewest copies %d, fetched by %v, dropped by %v, taken again by %v, fetched for nothing by %v",
			k, watch.fewest[r], slices.Sorted(maps.Keys(watch.took[r])), slices.Sorted(maps.Keys(watch.gone[r])), watch.retook[r], wasted)
	}
	// What a side would choose for the other side's new intent if it placed
	// it before hearing the other side's heartbeats (its members still
	// gone): a copy fetched there and released once they are heard is a
	// transfer for nothing.
	for _, c := range []struct {
		name string
		side []int
	}{{"a", B}, {"b", A}} {
		var idx []int
		for _, id := range group.Rank(s.roots[c.name], s.ids(c.side))[:2] {
			idx = append(idx, slices.Index(s.ids(all), id))
		}
		t.Logf("%s, placed by the other side on its own members, would go to %v", c.name, idx)
	}
	// No intent lost: the live ones had a copy at every moment we looked.
	for _, r := range []cid.Cid{y, a, b} {
		if watch.fewest[r] == 0 {
			t.Errorf("%s had no copy at all for a while during the heal", r)
		}
	}
	for i, n := range s.nodes {
		if groupPinned(t, n, x) {
			t.Fatalf("node %d still keeps a replica pin on withdrawn x", i)
		}
	}
	if _, err := userPinned(t, s.nodes[0], x); err != nil {
		t.Fatalf("the sharer's own pin on x was touched: %v", err)
	}
}

// TestGroupSplitIdle splits an idle group for longer than the grace period
// and lifts the block without dialling anyone: the two sides must find each
// other again by themselves, and the copies each side made of the other's
// go.
func TestGroupSplitIdle(t *testing.T) {
	s, x, y := newSharedSplit(t)
	all := s.all()
	want := map[cid.Cid]int{x: 2, y: 3}
	// Idle: every heartbeat heard carries the state we have, so no member
	// has a reason to sync with another.
	s.eventually(60*time.Second, "x on 2 members, y on 3, and every heartbeat heard with our digest", func() bool {
		if !s.placed(all, want) || !s.agree(all) {
			return false
		}
		for _, n := range s.nodes {
			behind := 0
			groupOf(t, n, "family").net.Read(func(st *group.State, l *group.Liveness) { behind = len(l.Behind(st)) })
			if behind > 0 {
				return false
			}
		}
		return true
	})

	s.split(pickSides(len(s.nodes), s.holders(all, x), s.holders(all, y)))
	A, B := s.sides[0], s.sides[1]
	s.eventually(90*time.Second, "each side to keep x on 2 and y on 3 of its own members", func() bool {
		return s.placed(A, want) && s.placed(B, want)
	})
	t.Logf("split: side A %v, side B %v; x on %v, y on %v", A, B, s.holders(all, x), s.holders(all, y))

	s.heal(0)
	s.eventually(60*time.Second, "the sides to find each other", func() bool { return s.crossLinks() > 0 })
	s.eventually(60*time.Second, "every node to see every member live", s.allLive)
	s.eventually(120*time.Second, "x and y on exactly their copies", func() bool { return s.placed(all, want) })
	who := s.steady(want)
	t.Logf("healed with %d pairs connected across: x on %v, y on %v", s.crossLinks(), who[x], who[y])
}
