package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// A CID can be pinned by several owners (blockstore.Owner): the user, and
// each group that keeps a copy here. The user's pins are what add, pin
// add, import and "Keep a copy for me" make and what pin rm removes; a
// group's records are its replication loop's (node/replicate). The API
// shows one entry per pinned root: the user's pin, with the groups that
// also keep it, or else the groups' copy, marked as a replica.

// userPin is the user's record among one root's records.
func userPin(ps []blockstore.Pin) (blockstore.Pin, bool) {
	for _, p := range ps {
		if p.Owner.IsUser() {
			return p, true
		}
	}
	return blockstore.Pin{}, false
}

// groupPin is the first group's record among one root's records (its Name
// is the share's name).
func groupPin(ps []blockstore.Pin) (blockstore.Pin, bool) {
	for _, p := range ps {
		if _, _, ok := p.Owner.Group(); ok {
			return p, true
		}
	}
	return blockstore.Pin{}, false
}

// groupShares is the set of roots our groups share (their last plans).
// It takes the groups' locks: not to be called under the gc lock.
func (n *Node) groupShares() map[cid.Cid]bool {
	gs, err := n.groupSet()
	if err != nil {
		return nil
	}
	shared := map[cid.Cid]bool{}
	for _, g := range gs.list() {
		for _, c := range g.sharedRoots() {
			shared[c] = true
		}
	}
	return shared
}

// toAPIPin shows one root's records (at least one) as the API's one entry.
func (n *Node) toAPIPin(ps []blockstore.Pin) api.Pin {
	var groups []string
	for _, p := range ps {
		if name := n.groupName(p.Owner); name != "" && !slices.Contains(groups, name) {
			groups = append(groups, name)
		}
	}
	slices.Sort(groups)
	p, mine := userPin(ps)
	if !mine {
		p = ps[0]
	}
	out := api.Pin{Cid: p.Cid.String(), Name: p.Name, Size: p.Size, Created: p.Created, Groups: groups}
	if !mine {
		out.Replica = true
		out.Group = n.groupName(p.Owner)
	} else {
		out.Private = p.Private
	}
	return out
}

// PinAdd pins content as the user's, fetching from peers whatever the repo
// lacks. A root a group keeps here gets the user's record beside the
// group's (named after the share unless name is given), which no group
// ever releases. Content a group of ours keeps or shares is pinned private
// (not announced in the DHT): what a group keeps is the group's.
// opts.Private, when set, makes the pin private or announced, whatever it
// was.
//
// A fetch whose peers go away in the middle waits for one that has the
// rest (fetchPatiently, for n.dropWait).
func (n *Node) PinAdd(ctx context.Context, c cid.Cid, opts api.PinOptions, progress func(api.Progress)) (api.Pin, error) {
	return n.pinAdd(ctx, c, opts, patience{wait: n.dropWait}, progress)
}

// pinAdd is PinAdd, waiting for peers as pt says.
func (n *Node) pinAdd(ctx context.Context, c cid.Cid, opts api.PinOptions, pt patience, progress func(api.Progress)) (api.Pin, error) {
	name := opts.Name
	// Asked before the gc lock is taken: the groups' status takes theirs.
	shared := opts.Private == nil && n.groupShares()[c]
	// A pin keeps the data; nobody reads it back now (unlike `kith get`).
	bctx := blockstore.BypassCache(ctx)
	_, unlock, err := n.fetchPatiently(ctx, c, pt, progress, func(progress func(api.Progress)) (api.FetchStats, error) {
		return n.fetchBlocks(bctx, c, progress)
	})
	defer unlock()
	if err != nil {
		return api.Pin{}, fmt.Errorf("pin %s: %w", c, err)
	}
	st, err := dag.Stat(ctx, n.store, c)
	if err != nil {
		return api.Pin{}, fmt.Errorf("pin %s: %w", c, err)
	}
	others, err := n.store.PinsOf(ctx, c)
	if err != nil {
		return api.Pin{}, fmt.Errorf("pin %s: %w", c, err)
	}
	p := blockstore.Pin{Cid: c, Owner: blockstore.OwnerUser, Name: name, Size: st.Size, Created: time.Now().UTC()}
	old, had := userPin(others)
	if had {
		p.Created, p.Private, p.Meta = old.Created, old.Private, old.Meta
		if name == "" {
			p.Name = old.Name
		}
	} else {
		g, kept := groupPin(others)
		p.Private = shared || kept
		if kept && name == "" {
			p.Name = g.Name
		}
	}
	if opts.Private != nil {
		p.Private = *opts.Private
	}
	if err := n.store.AddPin(ctx, p); err != nil {
		return api.Pin{}, fmt.Errorf("pin %s: %w", c, err)
	}
	n.reannounce(ctx, old, had, p)
	return n.toAPIPin(append([]blockstore.Pin{p}, others...)), nil
}

// PinRm removes the user's pin; the blocks go at the next gc, unless a
// group still keeps a copy here. A root only groups keep is not the
// user's to unpin: the error says which groups keep it.
func (n *Node) PinRm(ctx context.Context, c cid.Cid) error {
	err := n.store.RemovePin(ctx, c, blockstore.OwnerUser)
	if missingRoot(err, c) {
		msg := fmt.Sprintf("%s is not pinned (`kith pin ls` lists the pins)", c)
		if ps, perr := n.store.PinsOf(ctx, c); perr == nil && len(ps) > 0 {
			msg = fmt.Sprintf("%s is not your pin: %s a copy here (`kith pin add` makes it yours too)", c, groupsKeep(n.toAPIPin(ps).Groups))
		}
		return &api.Error{Kind: api.KindNotFound, Message: msg}
	} else if err != nil {
		return fmt.Errorf("unpin %s: %w", c, err)
	}
	// Only the user's pin is announced; a group's copy never is.
	n.stopProviding(ctx, c)
	return nil
}

// stopProviding stops announcing c in the DHT (the records already out
// there expire, as in IPFS).
func (n *Node) stopProviding(ctx context.Context, c cid.Cid) {
	if err := n.dht.StopProviding(ctx, c); err != nil {
		n.log.Debug("stop providing", "cid", c, "err", err)
	}
}

// Pins lists every pinned root once, in the order of its entry's record
// (the user's, or else the first group's), oldest first.
func (n *Node) Pins(ctx context.Context) ([]api.Pin, error) {
	ps, err := n.store.Pins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	byRoot := map[cid.Cid][]blockstore.Pin{}
	for _, p := range ps {
		byRoot[p.Cid] = append(byRoot[p.Cid], p)
	}
	type entry struct {
		pin     api.Pin
		created time.Time
	}
	entries := make([]entry, 0, len(byRoot))
	releasing := releasingRoots(ps, n.groupShares())
	for _, root := range blockstore.PinnedRoots(ps) {
		recs := byRoot[root]
		slices.SortStableFunc(recs, func(a, b blockstore.Pin) int { return strings.Compare(string(a.Owner), string(b.Owner)) })
		shown, ok := userPin(recs)
		if !ok {
			shown = recs[0]
		}
		p := n.toAPIPin(recs)
		p.Releasing = releasing[root]
		entries = append(entries, entry{p, shown.Created})
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.created.Compare(b.created) })
	out := make([]api.Pin, len(entries))
	for i, e := range entries {
		out[i] = e.pin
	}
	return out, nil
}

// pinLabel is the name c is pinned under, as the user knows it: the
// user's name for it, or else the share's; "" when unpinned.
func (n *Node) pinLabel(ctx context.Context, c cid.Cid) string {
	ps, err := n.store.PinsOf(ctx, c)
	if err != nil || len(ps) == 0 {
		return ""
	}
	if p, ok := userPin(ps); ok && p.Name != "" {
		return p.Name
	}
	if p, ok := groupPin(ps); ok {
		return p.Name
	}
	return ""
}

// groupsKeep says which groups keep something: "your group family keeps",
// "your groups family and work keep".
func groupsKeep(groups []string) string {
	switch len(groups) {
	case 0:
		return "kith keeps"
	case 1:
		return "your group " + groups[0] + " keeps"
	}
	return "your groups " + strings.Join(groups[:len(groups)-1], ", ") + " and " + groups[len(groups)-1] + " keep"
}
