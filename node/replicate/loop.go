package replicate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

// Tick is one heartbeat: check our replicas, say we are alive, re-plan,
// keep in touch.
func (r *Replicator) Tick(ctx context.Context) {
	r.refresh(ctx)
	used, roots := r.Holdings()
	r.fitBudget(ctx, used)
	if err := r.cfg.Net.Heartbeat(ctx, used, roots); err != nil && ctx.Err() == nil {
		r.cfg.Log.Debug("group heartbeat", "group", r.cfg.ID, "err", err)
	}
	r.Replan(ctx)
	r.keepConnected()
}

// fitBudget keeps the space we offer the group within what the disk can
// still hold: a member whose disk fills stops being offered copies (the
// planner places by budget), and offers space again when it is freed.
// Small changes are ignored so that the member record does not churn,
// unless the user changed the budget (OfferChanged).
func (r *Replicator) fitBudget(ctx context.Context, used int64) {
	asked := r.offerChanged.Swap(false)
	free, err := r.cfg.Disk.Free()
	if err != nil {
		return
	}
	target := min(r.cfg.Disk.Budget(), used+free)
	var current int64
	r.cfg.Net.Read(func(s *group.State, _ *group.Liveness) {
		if m, ok := s.Member(r.cfg.Peers.Self()); ok {
			current = m.Budget
		}
	})
	if diff := target - current; diff == 0 || (!asked && abs(diff) < max(current/4, 256<<20) && target > used) {
		return
	}
	err = r.cfg.Net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) {
		m, ok := s.Member(c.Node())
		if !ok || m.Left {
			return group.Update{}, fmt.Errorf("not a member")
		}
		return s.Join(c, m.Name, r.cfg.Peers.Addrs(), target)
	})
	if err == nil {
		r.cfg.Log.Info("group budget follows free disk space", "group", r.cfg.ID, "from", current, "to", target)
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// refresh drops from the replica set the roots whose record of ours is
// gone (removed behind the loop's back: by hand, or by an older kith).
func (r *Replicator) refresh(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.replicas {
		if !r.ours(ctx, c) {
			delete(r.replicas, c)
		}
	}
}

// ours reports whether this group has a record on root.
func (r *Replicator) ours(ctx context.Context, root cid.Cid) bool {
	ps, err := r.cfg.Pins.PinsOf(ctx, root)
	if err != nil {
		return true // unknown: keep counting it; the next tick looks again
	}
	for _, p := range ps {
		if OwnedBy(p, r.cfg.ID) {
			return true
		}
	}
	return false
}

// Replan runs the planner and acts on the plan: fetch what we are chosen
// for, keep what is already pinned here, release what has been surplus
// long enough.
func (r *Replicator) Replan(ctx context.Context) {
	if r.cfg.Removed != nil && r.cfg.Removed(ctx) {
		return
	}
	adopt, release, moved := r.planLocked(ctx)
	if moved {
		r.shown()
	}
	for _, in := range adopt {
		r.adopt(ctx, in)
	}
	for _, c := range release {
		r.release(ctx, c)
	}
}

// planLocked plans and starts fetches; it returns the roots we are chosen
// for that another owner already pinned here (to adopt: no fetch needed),
// and the roots to release, already out of the replica set. Both are acted
// on without the lock, since they wait for the pin lock. moved reports a
// fetch started or a copy given up (our part as others will see it).
func (r *Replicator) planLocked(ctx context.Context) (adopt []group.Intent, release []cid.Cid, moved bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.left {
		return nil, nil, false
	}
	held := make(map[cid.Cid]int64, len(r.replicas))
	for c, rep := range r.replicas {
		held[c] = rep.size
	}
	now := time.Now()
	r.cfg.Net.Read(func(s *group.State, l *group.Liveness) {
		r.plan = r.planner.Plan(s, l.Views(s), held, now)
	})
	// A fetch we are no longer chosen for (the intent was withdrawn, or the
	// member we stood in for is back) stops: a large replica would
	// otherwise be downloaded in full only to be released.
	self := r.cfg.Peers.Self()
	chosen := make(map[cid.Cid]bool, len(r.fetching))
	for _, a := range r.plan.Assignments {
		if a.Chosen(self) {
			chosen[a.Intent.Root] = true
		}
	}
	for c, cancel := range r.fetching {
		if !chosen[c] {
			r.cfg.Log.Info("group replica no longer wanted here; fetch stopped", "group", r.cfg.ID, "cid", c)
			cancel()
		}
	}
	r.keepMetasLocked(chosen)
	limit := max(1, r.cfg.FetchConcurrency)
	for _, in := range r.plan.Fetch {
		if r.fetching[in.Root] != nil {
			continue
		}
		// A root the user (or another group) pinned is already here: the
		// group adds its own record and counts it as its copy.
		if ps, err := r.cfg.Pins.PinsOf(ctx, in.Root); err == nil && len(ps) > 0 {
			adopt = append(adopt, in)
			continue
		}
		if len(r.fetching) >= limit {
			continue
		}
		fctx, cancel := context.WithCancel(r.cfg.Context) // the daemon's lifetime, whoever planned
		r.fetching[in.Root] = cancel
		r.cfg.Go(func(context.Context) { r.fetch(fctx, in) })
		moved = true
	}
	for _, c := range r.plan.Release {
		if _, ok := r.replicas[c]; ok {
			delete(r.replicas, c)
			r.beatSoon()
			release = append(release, c)
			moved = true
		}
	}
	return adopt, release, moved
}

// adopt adds the group's record to a root another owner keeps here.
func (r *Replicator) adopt(ctx context.Context, in group.Intent) {
	unlock := r.cfg.Pins.PinLock()
	ps, err := r.cfg.Pins.PinsOf(ctx, in.Root)
	if err == nil && len(ps) == 0 {
		unlock() // unpinned meanwhile: the next plan fetches it
		return
	}
	if err == nil {
		// No meta: the file of modes and times is not fetched here (a
		// mirror of this device fetches it when it applies it).
		p := r.pin(in)
		p.Meta = cid.Undef
		err = r.cfg.Pins.AddPin(ctx, p)
	}
	unlock()
	if err != nil {
		r.cfg.Log.Warn("pin group replica", "group", r.cfg.ID, "cid", in.Root, "err", err)
		return
	}
	r.hold(ctx, in, cid.Undef) // keepMetas fetches it
}

// hold counts a root the group now has its record on (keeping meta) as
// our copy; if the group stopped meanwhile, the record goes again.
func (r *Replicator) hold(ctx context.Context, in group.Intent, meta cid.Cid) {
	r.mu.Lock()
	left := r.left
	if !left {
		r.replicas[in.Root] = replica{size: in.Size, meta: meta}
	}
	r.mu.Unlock()
	if left {
		r.release(ctx, in.Root)
		return
	}
	r.beatSoon()
	r.shown()
}

// pin is the group's record for a copy of in, which keeps its meta too.
func (r *Replicator) pin(in group.Intent) blockstore.Pin {
	return blockstore.Pin{Cid: in.Root, Owner: PinOwner(r.cfg.ID, in.Name), Name: in.Name, Size: uint64(in.Size), Created: time.Now().UTC(), Meta: in.Meta}
}

// release removes this group's records on root, and no other owner's: a
// root the user or another group pins stays. The blocks go at the next gc
// if no owner remains.
func (r *Replicator) release(ctx context.Context, root cid.Cid) {
	unlock := r.cfg.Pins.PinLock()
	defer unlock()
	ps, err := r.cfg.Pins.PinsOf(ctx, root)
	if err != nil {
		r.cfg.Log.Warn("release group replica", "group", r.cfg.ID, "cid", root, "err", err)
		return
	}
	userPinned := false
	for _, p := range ps {
		if p.Owner.IsUser() {
			userPinned = true
		}
		if !OwnedBy(p, r.cfg.ID) {
			continue
		}
		if err := r.cfg.Pins.RemovePin(ctx, root, p.Owner); err != nil && !errors.Is(err, blockstore.ErrNotFound) {
			r.cfg.Log.Warn("release group replica", "group", r.cfg.ID, "cid", root, "err", err)
			return
		}
	}
	// Groups' copies are not announced; the user's pin is, and stays so.
	if !userPinned {
		if err := r.cfg.Fetcher.StopProviding(ctx, root); err != nil {
			r.cfg.Log.Debug("stop providing", "cid", root, "err", err)
		}
	}
}

// fetch fetches and pins one replica.
func (r *Replicator) fetch(ctx context.Context, in group.Intent) {
	err := r.fetchOne(ctx, in)
	stopped := ctx.Err() != nil // a plan that no longer wants it, or the daemon stopping
	r.mu.Lock()
	r.fetching[in.Root]() // cancels ctx
	delete(r.fetching, in.Root)
	if err != nil {
		if !stopped {
			r.fetchErr[in.Root] = err.Error()
			r.cfg.Log.Info("group replica fetch failed; will retry", "group", r.cfg.ID, "cid", in.Root, "err", err)
		}
		r.mu.Unlock()
		r.shown()
		return
	}
	delete(r.fetchErr, in.Root)
	r.mu.Unlock()
	// Not announced in the DHT: members find holders through the group.
	r.hold(r.cfg.Context, in, in.Meta)
	r.Changed() // re-plan
}

// fetchOne first dials the members that hold the root (and the one who
// shared it), so the fetcher finds them among connected peers without
// waiting for the DHT; then it fetches the root and adds the group's
// record on it.
func (r *Replicator) fetchOne(ctx context.Context, in group.Intent) error {
	if err := r.cfg.Disk.CheckSpace(in.Size); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var addrs []string
	r.cfg.Net.Read(func(s *group.State, l *group.Liveness) {
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
			if m, ok := s.Member(id); ok && l.Health(id, now) == group.Alive && !r.cfg.Peers.Connected(id) {
				addrs = append(addrs, m.Addrs...)
			}
		}
	})
	if len(addrs) > 0 {
		r.cfg.Peers.Dial(ctx, addrs, 10*time.Second)
	}
	unlock := r.cfg.Pins.PinLock()
	defer unlock()
	if err := r.cfg.Fetcher.Fetch(ctx, in.Root); err != nil {
		return fmt.Errorf("fetch %s for group %s: %w", in.Root, r.cfg.Name, err)
	}
	// The folder's modes and times, kept with it: a member that follows
	// the folder gets them from any holder, the sharer gone.
	if in.Meta.Defined() {
		if err := r.cfg.Fetcher.Fetch(ctx, in.Meta); err != nil {
			return fmt.Errorf("fetch the modes and times of %s for group %s: %w", in.Root, r.cfg.Name, err)
		}
	}
	if err := r.cfg.Pins.AddPin(ctx, r.pin(in)); err != nil {
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
func (r *Replicator) keepConnected() {
	const want = 4
	conn := map[peer.ID]bool{}
	for _, p := range r.cfg.Net.ConnectedMembers() {
		conn[p] = true
	}
	self := r.cfg.Peers.Self()
	var cands, gone [][]string
	r.cfg.Net.Read(func(s *group.State, l *group.Liveness) {
		now := time.Now()
		for _, m := range s.Members() {
			if m.ID == self || conn[m.ID] || len(m.Addrs) == 0 {
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
		r.cfg.Go(func(ctx context.Context) { r.cfg.Peers.Dial(ctx, addrs, 5*time.Second) })
	}
}
