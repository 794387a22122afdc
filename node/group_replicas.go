package node

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
	groupnet "github.com/kith-p2p/kith/protocol/group/net"
)

// replicaPinPrefix starts the name of every pin this node holds for a
// group, not for its user: "group-replica:<group id>:<intent name>". A pin
// without it is the user's, and the group code never removes or changes it.
const replicaPinPrefix = "group-replica:"

// fetchTimeout bounds one replica fetch; a failed one is retried at a later
// heartbeat.
const fetchTimeout = 30 * time.Minute

// replica is one root this node holds for a group: a replica pin of ours,
// or (user) a pin of the user's that we count as our copy.
type replica struct {
	size int64
	user bool
}

// localGroup is one group this node is in: the network side (groupnet),
// the planner and the replica set.
type localGroup struct {
	n      *Node
	set    *groupSet
	net    *groupnet.Group
	id     group.GroupID
	name   string
	secret group.Secret
	inc    uint64
	dir    string

	mu       sync.Mutex // planner, replicas, fetching, fetchErr, plan
	planner  *group.Planner
	replicas map[cid.Cid]replica
	fetching map[cid.Cid]context.CancelFunc // replica fetches under way
	fetchErr map[cid.Cid]string
	plan     group.Plan
	left     bool

	dirty atomic.Bool
	kick  chan struct{}
	soon  chan struct{} // holdings changed: heartbeat early
	done  chan struct{} // closed to stop run (leave)
	stop  sync.Once
}

func (g *localGroup) pinName(name string) string {
	return replicaPinPrefix + g.id.String() + ":" + name
}

func isReplicaPin(p blockstore.Pin) bool { return strings.HasPrefix(p.Name, replicaPinPrefix) }

// replicaLabel returns the share's name and the group's name (as this
// node calls it; its ID if it is not one of ours any more) of a replica
// pin's name, for showing it: the pin's own name is an internal key.
func (n *Node) replicaLabel(pinName string) (share, groupName string) {
	id, _, _ := strings.Cut(strings.TrimPrefix(pinName, replicaPinPrefix), ":")
	groupName = id
	if gs, err := n.groupSet(); err == nil {
		if g, err := gs.find(id); err == nil {
			groupName = g.name
		}
	}
	return replicaShareName(pinName), groupName
}

// replicaShareName is the share's name in a replica pin's name.
func replicaShareName(pinName string) string {
	rest := strings.TrimPrefix(pinName, replicaPinPrefix)
	if _, name, ok := strings.Cut(rest, ":"); ok {
		return name
	}
	return rest
}

// changed is the state's change hook: save soon, and re-plan.
func (g *localGroup) changed() {
	g.dirty.Store(true)
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// run drives the group: a heartbeat and a plan every interval (longer in
// larger groups, see group.Config.HeartbeatEvery), an early heartbeat when
// our holdings changed, a plan after a state change, and the state saved
// when it changed (at most once per interval: saving on every gossip
// message would be wasteful) and at exit.
func (g *localGroup) run(ctx context.Context) {
	beat := time.NewTimer(0)
	defer beat.Stop()
	var last, due time.Time
	// Tombstones older than the compaction horizon go hourly, so the state
	// does not grow forever; members away longer re-sync from a snapshot.
	compact := time.NewTicker(min(compactEvery, g.set.cfg.CompactionHorizon/8))
	defer compact.Stop()
	// Heartbeats are rarer in large groups; repairing a state that differs
	// from what members' heartbeats say should not be.
	behind := time.NewTicker(g.set.cfg.HeartbeatInterval)
	defer behind.Stop()
	defer g.save()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.done:
			return
		case <-beat.C:
			// The next beat is due an interval after this one started, not
			// after it ended: a slow tick must not stretch the interval
			// others expect from us.
			last = time.Now()
			g.tick(ctx)
			if g.dirty.Load() {
				g.save()
			}
			due = last.Add(g.net.Interval())
			beat.Reset(time.Until(due))
		case <-g.soon:
			// What we hold changed: tell the group well before the next
			// heartbeat (others wait for it to release surplus copies), but
			// at most a few times per base interval.
			if at := last.Add(g.set.cfg.HeartbeatInterval / 4); at.Before(due) {
				due = at
				beat.Reset(max(0, time.Until(at)))
			}
		case <-g.kick:
			g.replan(ctx)
		case <-behind.C:
			if g.net.Interval() > g.set.cfg.HeartbeatInterval { // else each heartbeat does it
				g.net.SyncBehind()
			}
		case <-compact.C:
			g.net.Compact(time.Now(), g.set.cfg.CompactionHorizon) // marks the state for saving
		}
	}
}

// beatSoon asks run for an early heartbeat: our holdings changed.
func (g *localGroup) beatSoon() {
	select {
	case g.soon <- struct{}{}:
	default:
	}
}

// compactEvery is how often a group's tombstones are compacted (more often
// when the horizon is shorter than a few hours).
const compactEvery = time.Hour

// tick: check our replicas, say we are alive, re-plan, keep in touch.
func (g *localGroup) tick(ctx context.Context) {
	g.refresh(ctx)
	used, roots := g.holdings()
	g.fitBudget(ctx, used)
	if err := g.net.Heartbeat(ctx, used, roots); err != nil && ctx.Err() == nil {
		g.n.log.Debug("group heartbeat", "group", g.id, "err", err)
	}
	g.replan(ctx)
	g.keepConnected(ctx)
}

// fitBudget keeps the space we offer the group within what the disk can
// still hold: a member whose disk fills stops being offered copies (the
// planner places by budget), and offers space again when it is freed.
// Small changes are ignored so that the member record does not churn.
func (g *localGroup) fitBudget(ctx context.Context, used int64) {
	free, err := g.n.store.Free()
	if err != nil {
		return
	}
	target := min(g.n.groupBudget(), used+free)
	var current int64
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		if m, ok := s.Member(g.n.host.ID()); ok {
			current = m.Budget
		}
	})
	if diff := target - current; diff == 0 || (abs(diff) < max(current/4, 256<<20) && target > used) {
		return
	}
	err = g.net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) {
		m, ok := s.Member(c.Node())
		if !ok || m.Left {
			return group.Update{}, fmt.Errorf("not a member")
		}
		return s.Join(c, m.Name, g.n.memberAddrs(), target)
	})
	if err == nil {
		g.n.log.Info("group budget follows free disk space", "group", g.id, "from", current, "to", target)
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// holdings is what our heartbeat reports: the bytes and roots we hold.
func (g *localGroup) holdings() (int64, []cid.Cid) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var used int64
	roots := make([]cid.Cid, 0, len(g.replicas))
	for r, rep := range g.replicas {
		used += rep.size
		roots = append(roots, r)
	}
	return used, roots
}

// refresh reconciles the replica set with the pins: the user may have
// removed a replica pin (we no longer hold it), pinned a replica root
// himself (it is now his pin), or unpinned a root we counted as our copy.
func (g *localGroup) refresh(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for r, rep := range g.replicas {
		p, err := g.n.store.GetPin(ctx, r)
		switch {
		case err != nil:
			delete(g.replicas, r)
		case !isReplicaPin(p) && !rep.user:
			rep.user = true
			g.replicas[r] = rep
		case isReplicaPin(p) && rep.user:
			rep.user = false
			g.replicas[r] = rep
		}
	}
}

// replan runs the planner and acts on the plan: fetch what we are chosen
// for, release what has been surplus long enough.
func (g *localGroup) replan(ctx context.Context) {
	if g.checkRemoved(ctx) {
		return
	}
	for _, r := range g.planLocked(ctx) {
		g.release(ctx, r)
	}
}

// planLocked plans and starts fetches; it returns the replica pins to
// release, already out of the replica set (released without the lock,
// since release looks at the other groups).
func (g *localGroup) planLocked(ctx context.Context) (release []cid.Cid) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.left {
		return nil
	}
	held := make(map[cid.Cid]int64, len(g.replicas))
	for r, rep := range g.replicas {
		held[r] = rep.size
	}
	now := time.Now()
	g.net.Read(func(s *group.State, l *group.Liveness) {
		g.plan = g.planner.Plan(s, l.Views(s), held, now)
	})
	// A fetch we are no longer chosen for (the intent was withdrawn, or the
	// member we stood in for is back) stops: a large replica would
	// otherwise be downloaded in full only to be released.
	chosen := make(map[cid.Cid]bool, len(g.fetching))
	for _, a := range g.plan.Assignments {
		if a.Chosen(g.n.host.ID()) {
			chosen[a.Intent.Root] = true
		}
	}
	for r, cancel := range g.fetching {
		if !chosen[r] {
			g.n.log.Info("group replica no longer wanted here; fetch stopped", "group", g.id, "cid", r)
			cancel()
		}
	}
	limit := max(1, g.n.cfg.Groups.FetchConcurrency)
	for _, in := range g.plan.Fetch {
		if g.fetching[in.Root] != nil {
			continue
		}
		// A root the user pinned is already here: it counts as our copy.
		if p, err := g.n.store.GetPin(ctx, in.Root); err == nil && !isReplicaPin(p) {
			g.replicas[in.Root] = replica{size: in.Size, user: true}
			continue
		}
		if len(g.fetching) >= limit {
			continue
		}
		fctx, cancel := context.WithCancel(g.n.ctx) // the node's lifetime, whoever planned
		g.fetching[in.Root] = cancel
		g.n.background(func(context.Context) { g.fetch(fctx, in) })
	}
	for _, r := range g.plan.Release {
		if rep, ok := g.replicas[r]; ok {
			delete(g.replicas, r)
			g.beatSoon()
			if !rep.user {
				release = append(release, r)
			}
		}
	}
	return release
}

// release drops our replica pin on r, never a user's pin, and not while
// another group still keeps it. The blocks go at the next gc.
func (g *localGroup) release(ctx context.Context, r cid.Cid) {
	if g.set.heldElsewhere(g, r) {
		return
	}
	unlock := g.n.gcl.PinLock()
	defer unlock()
	if p, err := g.n.store.GetPin(ctx, r); err == nil && isReplicaPin(p) {
		if err := g.n.store.RemovePin(ctx, r); err != nil {
			g.n.log.Warn("release group replica", "group", g.id, "cid", r, "err", err)
			return
		}
		if err := g.n.dht.StopProviding(ctx, r); err != nil {
			g.n.log.Debug("stop providing", "cid", r, "err", err)
		}
	}
}

// holdsReplica reports whether this group keeps a replica pin on r.
func (g *localGroup) holdsReplica(r cid.Cid) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	rep, ok := g.replicas[r]
	return ok && !rep.user
}

// fetch fetches and pins one replica. It first dials the members that
// hold the root (and the one who shared it), so the fetcher finds them
// among connected peers without waiting for the DHT.
func (g *localGroup) fetch(ctx context.Context, in group.Intent) {
	err := g.fetchOne(ctx, in)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetching[in.Root]()
	delete(g.fetching, in.Root)
	if err != nil {
		if ctx.Err() == nil {
			g.fetchErr[in.Root] = err.Error()
			g.n.log.Info("group replica fetch failed; will retry", "group", g.id, "cid", in.Root, "err", err)
		}
		return
	}
	delete(g.fetchErr, in.Root)
	if g.left {
		return
	}
	g.replicas[in.Root] = replica{size: in.Size}
	// Not announced in the DHT: members find holders through the group.
	g.changed() // re-plan
	g.beatSoon()
}

func (g *localGroup) fetchOne(ctx context.Context, in group.Intent) error {
	if err := g.n.store.CheckSpace(in.Size); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var addrs []string
	g.net.Read(func(s *group.State, l *group.Liveness) {
		now := time.Now()
		ids := []peer.ID{in.Who}
		for _, v := range l.Views(s) {
			if v.Holds.Has(in.Root) {
				ids = append(ids, v.ID)
			}
		}
		for _, id := range ids {
			// Only members heard from lately: dialling a holder that went
			// away (the reason we fetch) would hold the fetch up for a
			// dial timeout.
			if m, ok := s.Member(id); ok && l.Health(id, now) == group.Alive && g.n.host.Network().Connectedness(id) != network.Connected {
				addrs = append(addrs, m.Addrs...)
			}
		}
	})
	g.n.dialAddrs(ctx, addrs, 10*time.Second)
	unlock := g.n.gcl.PinLock()
	defer unlock()
	if _, err := g.n.ensureLocal(ctx, in.Root, nil); err != nil {
		return fmt.Errorf("fetch %s for group %s: %w", in.Root, g.name, err)
	}
	if _, err := g.n.store.GetPin(ctx, in.Root); err == nil {
		return nil // pinned meanwhile (by the user, or for another group)
	}
	p := blockstore.Pin{Cid: in.Root, Name: g.pinName(in.Name), Size: uint64(in.Size), Created: time.Now().UTC()}
	if err := g.n.store.AddPin(ctx, p); err != nil {
		return fmt.Errorf("pin replica %s: %w", in.Root, err)
	}
	return nil
}

// keepConnected dials a few members when we are connected to too few of
// them for gossip to reach us reliably, and one member gone past the grace
// period at every heartbeat: it may be back (a network split that healed, a
// laptop that slept for hours), and no one else would dial it (Serf's
// reconnect loop). libp2p's dial backoff keeps a member that is gone for good
// from costing more than a failed dial every few minutes.
func (g *localGroup) keepConnected(ctx context.Context) {
	const want = 4
	conn := map[peer.ID]bool{}
	for _, p := range g.net.ConnectedMembers() {
		conn[p] = true
	}
	var cands, gone [][]string
	g.net.Read(func(s *group.State, l *group.Liveness) {
		now := time.Now()
		for _, m := range s.Members() {
			if m.ID == g.n.host.ID() || conn[m.ID] || len(m.Addrs) == 0 {
				continue
			}
			if l.Health(m.ID, now) == group.Gone {
				gone = append(gone, m.Addrs)
			} else {
				cands = append(cands, m.Addrs)
			}
		}
	})
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	var addrs []string
	for _, c := range cands[:min(len(cands), max(0, want-len(conn)))] {
		addrs = append(addrs, c...)
	}
	if len(gone) > 0 {
		addrs = append(addrs, gone[rand.IntN(len(gone))]...)
	}
	if len(addrs) > 0 {
		g.n.background(func(ctx context.Context) { g.n.dialAddrs(ctx, addrs, 5*time.Second) })
	}
}

// loadReplicas rebuilds the replica set from our replica pins for this group.
func (g *localGroup) loadReplicas(ctx context.Context) error {
	pins, err := g.n.store.Pins(ctx)
	if err != nil {
		return fmt.Errorf("list pins for group %s: %w", g.id, err)
	}
	prefix := g.pinName("")
	for _, p := range pins {
		if strings.HasPrefix(p.Name, prefix) {
			g.replicas[p.Cid] = replica{size: int64(p.Size)}
		}
	}
	return nil
}

// save writes the state (and is called at exit too). Errors are logged: the
// state is rebuilt from peers by sync if it is lost.
func (g *localGroup) save() {
	g.dirty.Store(false)
	var b []byte
	var err error
	g.net.Read(func(s *group.State, _ *group.Liveness) { b, err = s.Marshal() })
	if err == nil {
		g.mu.Lock()
		left := g.left
		g.mu.Unlock()
		if left {
			return
		}
		err = writeFileAtomic(filepath.Join(g.dir, "state"), b, 0o600)
	}
	if err != nil {
		g.n.log.Warn("save group state", "group", g.id, "err", err)
	}
}

// saveMeta writes the group's secret (0600) and metadata.
func (g *localGroup) saveMeta() error {
	if err := writeFileAtomic(filepath.Join(g.dir, "secret"), g.secret[:], 0o600); err != nil {
		return err
	}
	b, _ := json.Marshal(groupMeta{Name: g.name, Incarnation: g.inc})
	return writeFileAtomic(filepath.Join(g.dir, "group.json"), b, 0o600)
}
