package replicate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

// PinOwner is the owner of the copy a group keeps of its share called
// name: one record per group and share, beside the user's and other
// groups' records on the same root.
func PinOwner(id group.GroupID, name string) blockstore.Owner {
	return blockstore.GroupOwner(id.String(), name)
}

// OwnedBy reports whether p is group id's record (of any of its shares).
func OwnedBy(p blockstore.Pin, id group.GroupID) bool {
	gid, _, ok := p.Owner.Group()
	return ok && gid == id.String()
}

// fetchTimeout bounds one replica fetch; a failed one is retried at a later
// heartbeat.
const fetchTimeout = 30 * time.Minute

// compactEvery is how often a group's tombstones are compacted (more often
// when the horizon is shorter than a few hours).
const compactEvery = time.Hour

// Config is what a Replicator needs: the group, the node's parts it acts
// through, and the hooks back into the node.
type Config struct {
	ID   group.GroupID // the group
	Name string        // the group's name, for errors
	// Group is the group timings and placement settings.
	Group group.Config
	// FetchConcurrency bounds how many replicas are fetched at once (at least 1).
	FetchConcurrency int

	Net     Net
	Pins    Pins
	Fetcher Fetcher
	Disk    Disk
	Peers   Peers
	Log     *slog.Logger

	// Context bounds the fetches, whichever plan started them: the
	// daemon's lifetime.
	Context context.Context
	// Go runs fn in the background (fetches, dials); the daemon waits for
	// it when it stops.
	Go func(fn func(ctx context.Context))
	// Save writes the group's state (when it changed, and at exit).
	Save func()
	// Removed acts on our removal from the group if the state shows it
	// (it stops the group) and reports whether we were removed.
	Removed func(ctx context.Context) bool
	// Shown, when set, is called after what this node holds or fetches for
	// the group changed (a copy held or released, a fetch started or
	// failed): a page showing the group's copies redraws.
	Shown func()
}

// replica is one root this node holds for a group: the group has its own
// record on it (whoever else pins it too).
type replica struct {
	size int64
	meta cid.Cid // the meta our record keeps (Pin.Meta)
}

// Replicator is one group's replication loop and replica set.
type Replicator struct {
	cfg     Config
	self    string // for logs
	planner *group.Planner

	mu       sync.Mutex // replicas, fetching, fetchErr, metas, plan, left
	replicas map[cid.Cid]replica
	fetching map[cid.Cid]context.CancelFunc // replica fetches under way
	fetchErr map[cid.Cid]string
	metas    map[cid.Cid]time.Time // metas being fetched for a copy (since), or that failed (when)
	plan     group.Plan
	left     bool

	dirty atomic.Bool
	// offerChanged: the user changed the space offered; the next
	// fitBudget tells the group even a small change.
	offerChanged atomic.Bool
	kick         chan struct{}
	soon         chan struct{} // holdings changed: heartbeat early
	done         chan struct{} // closed to stop Run (Stop)
	stop         sync.Once
}

// New returns the replicator of one group; Load fills its replica set and
// Run drives it.
func New(cfg Config) *Replicator {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Replicator{
		cfg:      cfg,
		planner:  group.NewPlanner(cfg.Peers.Self(), cfg.Group),
		replicas: map[cid.Cid]replica{}, fetching: map[cid.Cid]context.CancelFunc{}, fetchErr: map[cid.Cid]string{},
		metas: map[cid.Cid]time.Time{}, kick: make(chan struct{}, 1), soon: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// SetNet sets the group's network side, when it is opened after New (its
// change hook calls Changed). It must be called before Run.
func (r *Replicator) SetNet(n Net) { r.cfg.Net = n }

// Load rebuilds the replica set from this group's pin records.
func (r *Replicator) Load(ctx context.Context) error {
	pins, err := r.cfg.Pins.Pins(ctx)
	if err != nil {
		return fmt.Errorf("list pins for group %s: %w", r.cfg.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range pins {
		if OwnedBy(p, r.cfg.ID) {
			r.replicas[p.Cid] = replica{size: int64(p.Size), meta: p.Meta}
		}
	}
	return nil
}

// Changed is the state's change hook: save soon, and re-plan.
func (r *Replicator) Changed() {
	r.dirty.Store(true)
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// MemberHears is the group's hook for a member that started to hear the
// topic (a new connection, its restart): it learns what we hold from our
// next heartbeat, which comes early (within a quarter of the interval of
// the last one) rather than up to an interval later.
func (r *Replicator) MemberHears(peer.ID) { r.beatSoon() }

// OfferChanged is the hook for a change of the space this member offers
// (Disk.Budget, a setting the user changed): the next heartbeat, which
// tells the group, comes early, and tells it however small the change.
func (r *Replicator) OfferChanged() {
	r.offerChanged.Store(true)
	r.beatSoon()
}

// shown calls the Shown hook.
func (r *Replicator) shown() {
	if r.cfg.Shown != nil {
		r.cfg.Shown()
	}
}

// beatSoon asks Run for an early heartbeat: our holdings changed, or a
// member needs to hear them.
func (r *Replicator) beatSoon() {
	select {
	case r.soon <- struct{}{}:
	default:
	}
}

// goodbyeTimeout bounds the goodbye a stopping daemon sends its groups.
const goodbyeTimeout = 2 * time.Second

// Run drives the group until ctx ends or Stop: a heartbeat and a plan
// every interval (longer in larger groups, see group.Config.HeartbeatEvery),
// an early heartbeat when our holdings changed, a plan after a state
// change, and the state saved when it changed (at most once per interval:
// saving on every gossip message would be wasteful) and at exit.
func (r *Replicator) Run(ctx context.Context) {
	beat := time.NewTimer(0)
	defer beat.Stop()
	var last, due time.Time
	// Tombstones older than the compaction horizon go hourly, so the state
	// does not grow forever; members away longer re-sync from a snapshot.
	compact := time.NewTicker(min(compactEvery, r.cfg.Group.CompactionHorizon/8))
	defer compact.Stop()
	// Heartbeats are rarer in large groups; repairing a state that differs
	// from what members' heartbeats say should not be.
	behind := time.NewTicker(r.cfg.Group.HeartbeatInterval)
	defer behind.Stop()
	defer r.save()
	for {
		select {
		case <-ctx.Done():
			// The daemon stops: members show us offline at once rather
			// than alive until they suspect our silence.
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), goodbyeTimeout)
			if err := r.cfg.Net.Goodbye(gctx); err != nil {
				r.cfg.Log.Debug("group goodbye", "group", r.cfg.ID, "err", err)
			}
			cancel()
			return
		case <-r.done:
			return
		case <-beat.C:
			// The next beat is due an interval after this one started, not
			// after it ended: a slow tick must not stretch the interval
			// others expect from us.
			last = time.Now()
			r.Tick(ctx)
			if r.dirty.Load() {
				r.save()
			}
			due = last.Add(r.cfg.Net.Interval())
			beat.Reset(time.Until(due))
		case <-r.soon:
			// What we hold changed: tell the group well before the next
			// heartbeat (others wait for it to release surplus copies), but
			// at most a few times per base interval.
			if at := last.Add(r.cfg.Group.HeartbeatInterval / 4); at.Before(due) {
				due = at
				beat.Reset(max(0, time.Until(at)))
			}
		case <-r.kick:
			r.Replan(ctx)
		case <-behind.C:
			if r.cfg.Net.Interval() > r.cfg.Group.HeartbeatInterval { // else each heartbeat does it
				r.cfg.Net.SyncBehind()
			}
		case <-compact.C:
			r.cfg.Net.Compact(time.Now(), r.cfg.Group.CompactionHorizon) // marks the state for saving
		}
	}
}

func (r *Replicator) save() {
	r.dirty.Store(false)
	if r.cfg.Save != nil {
		r.cfg.Save()
	}
}

// Stop stops the loop and the fetches and drops this group's pin records
// (never the user's, nor another group's); it reports false if the group
// was already stopped.
func (r *Replicator) Stop(ctx context.Context) bool {
	r.mu.Lock()
	if r.left {
		r.mu.Unlock()
		return false
	}
	r.left = true
	release := make([]cid.Cid, 0, len(r.replicas))
	for c := range r.replicas {
		release = append(release, c)
	}
	r.replicas = map[cid.Cid]replica{}
	for _, cancel := range r.fetching {
		cancel()
	}
	r.mu.Unlock()
	r.stop.Do(func() { close(r.done) })
	// Records of ours the set lost track of (a fetch that finished as we
	// stopped) go too: no record may outlive its group.
	if pins, err := r.cfg.Pins.Pins(ctx); err == nil {
		for _, p := range pins {
			if OwnedBy(p, r.cfg.ID) && !slices.Contains(release, p.Cid) {
				release = append(release, p.Cid)
			}
		}
	}
	for _, c := range release {
		r.release(ctx, c)
	}
	return true
}

// Stopped reports whether Stop was called (the group was left or removed us).
func (r *Replicator) Stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.left
}

// Holdings is what our heartbeat reports: the bytes and roots we hold.
func (r *Replicator) Holdings() (int64, []cid.Cid) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var used int64
	roots := make([]cid.Cid, 0, len(r.replicas))
	for c, rep := range r.replicas {
		used += rep.size
		roots = append(roots, c)
	}
	return used, roots
}

// Holds reports whether this group keeps a copy of root here (its own pin
// record on it).
func (r *Replicator) Holds(root cid.Cid) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.replicas[root]
	return ok
}

// Fetching reports whether a fetch of root is under way.
func (r *Replicator) Fetching(root cid.Cid) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetching[root] != nil
}

// FetchErr is why the last fetch of root failed ("" if it did not).
func (r *Replicator) FetchErr(root cid.Cid) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetchErr[root]
}

// Plan is the last plan.
func (r *Replicator) Plan() group.Plan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plan
}

// Placer is the planner's placer (for a root's status).
func (r *Replicator) Placer() *group.Placer { return r.planner.Placer() }
