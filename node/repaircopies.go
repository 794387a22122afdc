package node

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/kith-p2p/kith/blockstore"
)

// A copy this device keeps for a group may be read from the user's files
// (a folder that follows the share, see infiles.go): once such a file is
// changed here, the copy lacks the blocks it held, and the group, which
// counts it, has one copy fewer than it thinks. So the copies kept for
// groups are walked now and then, and what they lack is fetched again
// (with its bytes, kept in the repo from then on).

// releasingRoots are the roots of pins that only groups keep, of content
// no group shares any more (shared lists what the groups share): copies
// on their way out once groups.release_delay has passed (a watched
// folder's version before the current one, say).
func releasingRoots(pins []blockstore.Pin, shared map[cid.Cid]bool) map[cid.Cid]bool {
	if shared == nil {
		return map[cid.Cid]bool{} // the groups are not known: none is judged going
	}
	user := map[cid.Cid]bool{}
	for _, p := range pins {
		if p.Owner.IsUser() {
			user[p.Cid] = true
		}
	}
	out := map[cid.Cid]bool{}
	for _, p := range pins {
		if _, _, ok := p.Owner.Group(); ok && !user[p.Cid] && !shared[p.Cid] {
			out[p.Cid] = true
		}
	}
	return out
}

// repairEvery is how often the copies kept for groups are checked whole.
const repairEvery = 10 * time.Minute

// repairLoop checks the copies kept for groups every repairEvery, while
// the store keeps blocks as where they are in files.
func (n *Node) repairLoop(ctx context.Context) {
	t := time.NewTicker(repairEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n.store.HasFileRefs(ctx) {
				n.repairCopies(ctx)
			}
		}
	}
}

// repairCopies fetches again what the copies kept for groups lack. It
// returns how many copies lacked blocks.
func (n *Node) repairCopies(ctx context.Context) int {
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return 0
	}
	seen := releasingRoots(pins, n.groupShares()) // going: nothing to mend
	lacking := 0
	for _, p := range pins {
		if _, _, ok := p.Owner.Group(); !ok || seen[p.Cid] {
			continue
		}
		seen[p.Cid] = true
		missing, err := missingBlocks(ctx, n.store, p.Cid, nil)
		if err != nil || missing == 0 {
			continue
		}
		lacking++
		n.log.Info("a copy kept for a group lacks blocks (a file it was read from changed); fetching them again", "cid", p.Cid, "name", p.Name, "missing", missing)
		unlock := n.gcl.PinLock()
		_, err = n.ensureLocal(ctx, p.Cid, nil)
		unlock()
		if err != nil && ctx.Err() == nil {
			n.log.Warn("could not fetch again what a copy kept for a group lacks; trying later", "cid", p.Cid, "err", err)
		}
	}
	return lacking
}
