package replicate

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/group"
)

// metaRetry is how long a meta that could not be fetched waits before it
// is tried again.
const metaRetry = time.Minute

// metaTimeout bounds one fetch of a meta (a small file).
const metaTimeout = 2 * time.Minute

// keepMetasLocked has each copy we keep hold the meta (a folder's modes and
// times) its intent carries now: a copy adopted from another owner's pin
// (no meta fetched then), or one whose intent was shared again with a new
// meta (a file touched, the same bytes) fetches it in the background and
// its record keeps it. r.mu is held.
func (r *Replicator) keepMetasLocked(chosen map[cid.Cid]bool) {
	now := time.Now()
	for _, a := range r.plan.Assignments {
		in := a.Intent
		rep, held := r.replicas[in.Root]
		if !chosen[in.Root] || !held || !in.Meta.Defined() || rep.meta.Equals(in.Meta) {
			continue
		}
		if at, ok := r.metas[in.Root]; ok && now.Sub(at) < metaRetry {
			continue // under way, or failed a moment ago
		}
		r.metas[in.Root] = now
		r.cfg.Go(func(context.Context) { r.fetchMeta(in) })
	}
}

// fetchMeta fetches in's meta and has our record on in.Root keep it.
func (r *Replicator) fetchMeta(in group.Intent) {
	err := r.keepMeta(in)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.metas[in.Root] = time.Now() // tried again after metaRetry
		if r.cfg.Context.Err() == nil {
			r.cfg.Log.Info("group replica: modes and times not fetched; will retry", "group", r.cfg.ID, "cid", in.Root, "meta", in.Meta, "err", err)
		}
		return
	}
	delete(r.metas, in.Root)
	if rep, ok := r.replicas[in.Root]; ok {
		rep.meta = in.Meta
		r.replicas[in.Root] = rep
	}
}

func (r *Replicator) keepMeta(in group.Intent) error {
	ctx, cancel := context.WithTimeout(r.cfg.Context, metaTimeout)
	defer cancel()
	unlock := r.cfg.Pins.PinLock()
	defer unlock()
	if err := r.cfg.Fetcher.Fetch(ctx, in.Meta); err != nil {
		return fmt.Errorf("fetch the modes and times of %s: %w", in.Root, err)
	}
	ps, err := r.cfg.Pins.PinsOf(ctx, in.Root)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if OwnedBy(p, r.cfg.ID) && !p.Meta.Equals(in.Meta) {
			p.Meta = in.Meta
			if err := r.cfg.Pins.AddPin(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}
