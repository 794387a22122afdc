package replicate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

// The fakes below stand in for the network and the node's host only: the
// pins and blocks are a real in-memory blockstore, and the state, liveness
// and planner are the real group package.

// testID returns a valid peer ID for member i.
func testID(i int) peer.ID {
	h, err := mh.Sum(fmt.Appendf(nil, "member %d", i), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return peer.ID(h)
}

// fakeNet is one member's view of a group, without a network: updates
// apply to the state at once and heartbeats go to the liveness tracker.
type fakeNet struct {
	mu     sync.Mutex
	cfg    group.Config
	s      *group.State
	l      *group.Liveness
	clocks map[peer.ID]*group.Clock
	self   peer.ID
	beats  int
	byes   int
}

func newFakeNet(cfg group.Config, self peer.ID) *fakeNet {
	return &fakeNet{cfg: cfg, s: group.NewState(), l: group.NewLiveness(cfg, time.Now()), clocks: map[peer.ID]*group.Clock{}, self: self}
}

func (f *fakeNet) clock(id peer.ID) *group.Clock {
	if f.clocks[id] == nil {
		f.clocks[id] = group.NewClock(id, time.Now)
	}
	return f.clocks[id]
}

// as applies a change made by member id.
func (f *fakeNet) as(t *testing.T, id peer.ID, fn func(s *group.State, c *group.Clock) (group.Update, error)) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := fn(f.s, f.clock(id))
	if err == nil {
		_, err = f.s.ApplyUpdate(u)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// beat records a heartbeat from member id holding roots.
func (f *fakeNet) beat(id peer.ID, used int64, roots []cid.Cid) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.l.Observe(group.Heartbeat{Member: id, Clock: f.clock(id).Now(), Incarnation: 1, Used: used, Held: len(roots), Parts: 1, Roots: roots}, time.Now())
}

func (f *fakeNet) Read(fn func(s *group.State, l *group.Liveness)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.s, f.l)
}

func (f *fakeNet) Apply(ctx context.Context, fn func(s *group.State, c *group.Clock) (group.Update, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := fn(f.s, f.clock(f.self))
	if err != nil {
		return err
	}
	_, err = f.s.ApplyUpdate(u)
	return err
}

func (f *fakeNet) Heartbeat(ctx context.Context, used int64, held []cid.Cid) error {
	f.beat(f.self, used, held)
	f.mu.Lock()
	f.beats++
	f.mu.Unlock()
	return nil
}

func (f *fakeNet) Goodbye(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byes++
	return nil
}

func (f *fakeNet) goodbyes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byes
}

func (f *fakeNet) heartbeats() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.beats
}

func (f *fakeNet) Interval() time.Duration { return f.cfg.HeartbeatInterval }
func (f *fakeNet) SyncBehind()             {}
func (f *fakeNet) Compact(now time.Time, horizon time.Duration) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s.Compact(now, horizon)
}
func (f *fakeNet) ConnectedMembers() []peer.ID { return nil }

// node is the rest of the daemon: pins and blocks in a MemStore, a fetcher
// that copies blocks from a "remote" MemStore (or waits, or fails), a disk
// of a set size, and a host that records its dials.
type node struct {
	store  *blockstore.MemStore
	remote *blockstore.MemStore
	gcl    *blockstore.GCLocker
	self   peer.ID

	mu       sync.Mutex
	free     int64
	budget   int64
	hang     bool  // Fetch waits for its context
	fetchErr error // Fetch fails with it
	fetches  int
	stopped  []cid.Cid // StopProviding calls
	dials    [][]string
}

func newNode(self peer.ID) *node {
	return &node{store: blockstore.NewMemStore(), remote: blockstore.NewMemStore(), gcl: blockstore.NewGCLocker(), self: self,
		free: 100 << 30, budget: 10 << 30}
}

func (n *node) PinsOf(ctx context.Context, c cid.Cid) ([]blockstore.Pin, error) {
	return n.store.PinsOf(ctx, c)
}
func (n *node) Pins(ctx context.Context) ([]blockstore.Pin, error) { return n.store.Pins(ctx) }
func (n *node) AddPin(ctx context.Context, p blockstore.Pin) error { return n.store.AddPin(ctx, p) }
func (n *node) RemovePin(ctx context.Context, c cid.Cid, o blockstore.Owner) error {
	return n.store.RemovePin(ctx, c, o)
}
func (n *node) PinLock() (unlock func()) { return n.gcl.PinLock() }

func (n *node) Fetch(ctx context.Context, root cid.Cid) error {
	n.mu.Lock()
	n.fetches++
	hang, ferr := n.hang, n.fetchErr
	n.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if ferr != nil {
		return ferr
	}
	b, err := n.remote.Get(ctx, root)
	if err != nil {
		return err
	}
	return n.store.Put(ctx, b)
}

func (n *node) StopProviding(ctx context.Context, c cid.Cid) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopped = append(n.stopped, c)
	return nil
}

func (n *node) Free() (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.free, nil
}

func (n *node) CheckSpace(size int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if size > n.free {
		return errors.New("not enough disk space")
	}
	return nil
}

func (n *node) Budget() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.budget
}

func (n *node) Self() peer.ID            { return n.self }
func (n *node) Connected(p peer.ID) bool { return false }
func (n *node) Addrs() []string          { return []string{"/ip4/127.0.0.1/tcp/1/p2p/" + n.self.String()} }
func (n *node) Dial(ctx context.Context, addrs []string, timeout time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dials = append(n.dials, addrs)
}

func (n *node) set(fn func(n *node)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n)
}

func (n *node) get(fn func(n *node)) { n.set(fn) }

// fixture is a two-member group: self (the replicator's node) and other,
// who shares.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	id    group.GroupID
	self  peer.ID
	other peer.ID
	net   *fakeNet
	node  *node
	rep   *Replicator
	bg    sync.WaitGroup
	saves int
	shown int // calls of the Shown hook
	mu    sync.Mutex
}

func newFixture(t *testing.T, cfg group.Config, budget int64) *fixture {
	t.Helper()
	return newGroupOn(t, cfg, budget, newNode(testID(1)), "test group id for replicate tests")
}

// newGroupOn is another group of two (named by id, 32 bytes) on an
// existing node: several groups on one node share its store.
func newGroupOn(t *testing.T, cfg group.Config, budget int64, n *node, id string) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{t: t, ctx: ctx, self: n.self, other: testID(2)}
	copy(f.id[:], id)
	f.net = newFakeNet(cfg, f.self)
	f.node = n
	f.net.as(t, f.self, func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Join(c, "self", f.node.Addrs(), budget)
	})
	f.net.as(t, f.other, func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Join(c, "other", []string{"/ip4/127.0.0.1/tcp/2/p2p/" + f.other.String()}, budget)
	})
	f.net.beat(f.other, 0, nil)
	f.rep = New(Config{
		ID: f.id, Name: "family", Group: cfg, FetchConcurrency: 2,
		Net: f.net, Pins: f.node, Fetcher: f.node, Disk: f.node, Peers: f.node,
		Context: ctx,
		Go: func(fn func(ctx context.Context)) {
			f.bg.Add(1)
			go func() { defer f.bg.Done(); fn(ctx) }()
		},
		Save:  func() { f.mu.Lock(); f.saves++; f.mu.Unlock() },
		Shown: func() { f.mu.Lock(); f.shown++; f.mu.Unlock() },
	})
	t.Cleanup(func() { cancel(); f.bg.Wait() })
	return f
}

// root puts a raw block of size bytes in the remote store and returns its CID.
func (f *fixture) root(i, size int) cid.Cid {
	f.t.Helper()
	data := make([]byte, size)
	copy(data, fmt.Sprintf("root %d", i))
	// A raw block, so that gc (which reads dag-pb blocks for links) can run.
	c, err := cid.NewPrefixV1(cid.Raw, mh.SHA2_256).Sum(data)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.node.remote.Put(f.ctx, b); err != nil {
		f.t.Fatal(err)
	}
	return b.Cid()
}

// share makes other share root (called name) with copies copies.
func (f *fixture) share(root cid.Cid, name string, size int64, copies int) {
	f.t.Helper()
	f.net.as(f.t, f.other, func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Share(c, root, name, size, copies)
	})
}

func (f *fixture) unshare(root cid.Cid) {
	f.t.Helper()
	f.net.as(f.t, f.other, func(s *group.State, c *group.Clock) (group.Update, error) { return s.Unshare(c, root) })
}

// waitFor polls cond, re-planning, until it holds or a second passes.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		f.rep.Replan(f.ctx)
		time.Sleep(time.Millisecond)
	}
}

// pin is this group's record on root.
func (f *fixture) pin(root cid.Cid) (blockstore.Pin, bool) {
	ps, err := f.node.store.PinsOf(f.ctx, root)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range ps {
		if OwnedBy(p, f.id) {
			return p, true
		}
	}
	return blockstore.Pin{}, false
}

// userPin is the user's record on root.
func (f *fixture) userPin(root cid.Cid) (blockstore.Pin, bool) {
	p, err := f.node.store.GetPin(f.ctx, root, blockstore.OwnerUser)
	return p, err == nil
}

// shownCalls is how many times the Shown hook was called.
func (f *fixture) shownCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shown
}

// fetchCount is how many fetches were asked for.
func (n *node) fetchCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fetches
}

func mustGet(t *testing.T, bs *blockstore.MemStore, c cid.Cid) blocks.Block {
	t.Helper()
	b, err := bs.Get(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testMetaCID is a CID of a block no store has.
func testMetaCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := cid.NewPrefixV1(cid.Raw, mh.SHA2_256).Sum([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
