package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// The node implements the API's group calls.
var _ api.GroupBackend = (*Node)(nil)

// join writes (or refreshes) our member record: name, addresses, budget.
// fresh keeps an existing name and budget when false (a restart).
func (g *localGroup) join(ctx context.Context, fresh bool) error {
	name := g.n.deviceName()
	budget := g.n.groupBudget()
	return g.net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) {
		if m, ok := s.Member(c.Node()); ok && !m.Left && !fresh {
			name, budget = m.Name, m.Budget
		}
		return s.Join(c, name, g.n.memberAddrs(), budget)
	})
}

// GroupCreate makes a new group with us as its only member.
func (n *Node) GroupCreate(ctx context.Context, name string) (api.GroupInvite, error) {
	gs, err := n.groupSet()
	if err != nil {
		return api.GroupInvite{}, err
	}
	if err := validGroupName(name); err != nil {
		return api.GroupInvite{}, err
	}
	if gs.named(name) {
		return api.GroupInvite{}, fmt.Errorf("you are already in a group called %q; choose another name, so that commands can tell the two apart: %w", name, api.ErrInvalid)
	}
	sec, err := group.NewSecret()
	if err != nil {
		return api.GroupInvite{}, fmt.Errorf("create group %s: %w", name, err)
	}
	g, err := gs.add(ctx, group.NewKeyring(sec), name)
	if err != nil {
		return api.GroupInvite{}, err
	}
	return n.GroupInvite(ctx, g.id.String(), 0, 0)
}

// GroupJoin joins the group of an invite token. The token is never logged.
func (n *Node) GroupJoin(ctx context.Context, token string) (api.Group, error) {
	gs, err := n.groupSet()
	if err != nil {
		return api.Group{}, err
	}
	inv, err := group.DecodeInvite(strings.TrimSpace(token))
	if err != nil {
		return api.Group{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if inv.Legacy() {
		return api.Group{}, fmt.Errorf("this invite was made by an older kith and never expires; ask a member for a new one (kith group invite %s): %w", inv.Name, api.ErrInvalid)
	}
	if g, err := gs.find(inv.Group.String()); err == nil {
		return g.info(), nil // already in it
	}
	if _, r, ok := gs.findRemoved(inv.Group.String()); ok {
		return api.Group{}, r.err()
	}
	// The member that made the invite hands us the secret, if the invite
	// is still open.
	n.dialAddrs(ctx, inv.Addrs, 15*time.Second)
	ring, err := n.redeem(ctx, gs, inv)
	if err != nil {
		return api.Group{}, err
	}
	// Another group of ours with the same name would make the name
	// ambiguous in every command: this one gets a free variant of it
	// (the answer names it).
	g, err := gs.add(ctx, ring, gs.freeName(inv.Name))
	if err != nil {
		return api.Group{}, err
	}
	// Sync with the first inviting member we reach, so the answer already
	// lists the group; the rest follows by gossip and later syncs. A
	// member behind a NAT is often reached through a relay first, and the
	// hole punch follows: a sync runs over the relayed connection too (it
	// is small), or the inviter would learn of us only from our heartbeats.
	for _, id := range addrPeers(inv.Addrs) {
		if n.host.Network().Connectedness(id) == network.NotConnected {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := g.net.Sync(sctx, id)
		cancel()
		if err == nil {
			break
		}
		if notice, removed := g.removal(); errors.Is(err, group.ErrRemoved) && removed {
			// An old token of a group that removed this device.
			g.checkRemoved(ctx) // (or the group's own loop does it first)
			return api.Group{}, removedGroup{name: g.name, notice: notice}.err()
		}
		n.log.Debug("first group sync", "group", g.id, "peer", id, "err", err)
	}
	g.changed()
	return g.info(), nil
}

// add opens a new group, joins it and saves it.
func (gs *groupSet) add(ctx context.Context, ring *group.Keyring, name string) (*localGroup, error) {
	g, err := gs.open(ring, groupMeta{Name: name, Incarnation: 1}, group.NewState())
	if err != nil {
		return nil, err
	}
	if err := g.saveMeta(); err != nil {
		return nil, err
	}
	if err := g.join(ctx, true); err != nil {
		return nil, fmt.Errorf("join group %s: %w", name, err)
	}
	g.save()
	return g, nil
}

// findGroup returns the running group called name (a name or an ID).
func (n *Node) findGroup(name string) (*localGroup, error) {
	gs, err := n.groupSet()
	if err != nil {
		return nil, err
	}
	return gs.find(name)
}

// GroupLeave leaves the group, stops it, and drops our replica pins.
func (n *Node) GroupLeave(ctx context.Context, name string) error {
	gs, err := n.groupSet()
	if err != nil {
		return err
	}
	if id, r, ok := gs.findRemoved(name); ok {
		n.forgetWatches(id.String())
		n.forgetMirrors(id.String())
		return gs.clearRemoved(id, r) // the group had removed us: clear its notice
	}
	g, err := n.findGroup(name)
	if err != nil {
		return err
	}
	if err := g.net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) { return s.Leave(c) }); err != nil {
		return fmt.Errorf("leave group %s: %w", name, err)
	}
	g.teardown(ctx)
	if err := os.RemoveAll(g.dir); err != nil {
		return fmt.Errorf("leave group %s: remove its folder: %w", name, err)
	}
	n.forgetWatches(g.id.String())
	n.forgetMirrors(g.id.String())
	return nil
}

// forgetWatches ends the watches of a group this device is no longer in.
func (n *Node) forgetWatches(groupID string) {
	if n.watcher == nil {
		return
	}
	gone, err := n.watcher.ForgetGroup(groupID)
	if err != nil {
		n.log.Warn("forget the watched folders of a group left", "group", groupID, "err", err)
	}
	for _, w := range gone {
		n.log.Info("left the group: no longer watching its folder", "path", w.Path, "group", w.Group)
		n.copyIntoRepo(w.Cid) // our own pin stays
	}
}

// Groups lists our groups by name.
func (n *Node) Groups(ctx context.Context) ([]api.Group, error) {
	gs, err := n.groupSet()
	if err != nil {
		return nil, err
	}
	out := []api.Group{}
	for _, g := range gs.list() {
		out = append(out, g.info())
	}
	gs.mu.Lock()
	for id, r := range gs.removed {
		out = append(out, api.Group{ID: id.String(), Name: r.name, Removed: r.notice.sentence(r.name)})
	}
	gs.mu.Unlock()
	slices.SortFunc(out, func(a, b api.Group) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, nil
}

func (g *localGroup) info() api.Group {
	info := api.Group{ID: g.id.String(), Name: g.name}
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		info.Members, info.Intents = len(s.Members()), len(s.Intents())
		if m, ok := s.Member(g.n.host.ID()); ok {
			info.Budget = m.Budget
		}
	})
	used, roots := g.holdings()
	info.Replicas, info.ReplicaBytes = len(roots), used
	return info
}

// GroupMembers lists the members with what their heartbeats say.
func (n *Node) GroupMembers(ctx context.Context, name string) ([]api.GroupMember, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return nil, err
	}
	self := n.host.ID()
	used, roots := g.holdings()
	now := time.Now()
	out := []api.GroupMember{}
	g.net.Read(func(s *group.State, l *group.Liveness) {
		views := map[peer.ID]group.MemberView{}
		for _, v := range l.Views(s) {
			views[v.ID] = v
		}
		for _, m := range s.Members() {
			v := views[m.ID]
			gm := api.GroupMember{
				Peer: m.ID.String(), Name: m.Name, Budget: m.Budget, Used: v.Used, Held: len(v.Holds),
				Health: l.Health(m.ID, now).String(), LastSeen: l.LastSeen(m.ID),
			}
			if m.ID == self {
				gm.Self, gm.Health, gm.LastSeen, gm.Used, gm.Held = true, group.Alive.String(), now, used, len(roots)
			}
			out = append(out, gm)
		}
	})
	return out, nil
}

// GroupShare pins c (fetching what is missing) and records the intent.
// The group's other shares of the same name (earlier versions of a folder
// shared again) are withdrawn with opts.Replace, else reported.
func (n *Node) GroupShare(ctx context.Context, name string, c cid.Cid, opts api.ShareOptions) (api.GroupIntent, error) {
	return n.groupShare(ctx, name, c, opts, mirror.Versions{})
}

// groupShare is GroupShare, with the versions of a version a folder that
// syncs both ways shares (mirror.EncodeMeta's; Keep: opts.Keep if not set).
func (n *Node) groupShare(ctx context.Context, name string, c cid.Cid, opts api.ShareOptions, vers mirror.Versions) (api.GroupIntent, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return api.GroupIntent{}, err
	}
	copies := opts.Copies
	if copies < group.MinCopies || copies > group.MaxCopies {
		return api.GroupIntent{}, fmt.Errorf("copies must be between %d and %d: %w", group.MinCopies, group.MaxCopies, api.ErrInvalid)
	}
	if opts.Keep < 0 || opts.Keep > mirror.MaxKeep {
		return api.GroupIntent{}, fmt.Errorf("keep must be between 0 and %d earlier versions: %w", mirror.MaxKeep, api.ErrInvalid)
	}
	vers.Keep = max(vers.Keep, opts.Keep)
	p, err := n.store.GetPin(ctx, c, blockstore.OwnerUser)
	if err != nil {
		// Share means "keep this": it becomes the user's own pin (beside
		// a copy a group keeps here, named after that share), private as
		// what kith share adds.
		ap, err := n.PinAdd(ctx, c, api.PinOptions{Private: new(true)}, nil)
		if err != nil {
			return api.GroupIntent{}, fmt.Errorf("share %s: %w", c, err)
		}
		p = blockstore.Pin{Cid: c, Name: ap.Name, Size: ap.Size}
	}
	in := api.GroupIntent{Group: g.name, Cid: c.String(), Name: p.Name, Size: int64(p.Size), Copies: copies}
	from := opts.Path
	if from == "" {
		// Content shared by its CID (the web UI's share of a pin): the
		// path the daemon last added it from, if it did.
		from, _ = n.adds.pathOf(c)
	}
	meta, err := n.shareMeta(ctx, c, from, vers)
	if err != nil {
		return api.GroupIntent{}, err
	}
	if meta.Defined() {
		in.Meta = meta.String()
	}
	var same []group.Intent
	err = g.net.Apply(ctx, func(s *group.State, clk *group.Clock) (group.Update, error) {
		in.Members = len(s.Members())
		same = sameName(s.Intents(), p.Name, c)
		if len(vers.Ancestors) > 0 && !isNewest(s.Intents(), p.Name, c) {
			// A synced folder's new version is the newest, even when it
			// is an earlier one still kept (a deleted file brought back).
			// (The newest shared again, with other modes and times, stays
			// as new as it was: a version made since stays newer.)
			return s.ShareNewest(clk, c, meta, p.Name, int64(p.Size), copies)
		}
		return s.ShareWithMeta(clk, c, meta, p.Name, int64(p.Size), copies)
	})
	if err != nil {
		return api.GroupIntent{}, fmt.Errorf("share %s in group %s: %w", c, g.name, err)
	}
	for _, old := range same {
		v := api.SharedVersion{Cid: old.Root.String(), Size: old.Size, Created: old.Created.Time()}
		if !opts.Replace {
			in.Earlier = append(in.Earlier, v)
			continue
		}
		err := g.net.Apply(ctx, func(s *group.State, clk *group.Clock) (group.Update, error) { return s.Unshare(clk, old.Root) })
		if errors.Is(err, group.ErrNotFound) {
			continue // withdrawn meanwhile, by another member
		}
		if err != nil {
			return in, fmt.Errorf("shared %s in group %s, but could not withdraw the earlier %s: %w", c, g.name, old.Root, err)
		}
		in.Replaced = append(in.Replaced, v)
	}
	return in, nil
}

// isNewest reports whether c is the newest live share called name.
func isNewest(intents []group.Intent, name string, c cid.Cid) bool {
	in, ok := newestNamed(intents, name)
	return ok && in.Root.Equals(c)
}

// sameName picks, oldest first, the live intents named name for another
// root than c. Nameless content has no versions.
func sameName(intents []group.Intent, name string, c cid.Cid) []group.Intent {
	if name == "" {
		return nil
	}
	var out []group.Intent
	for _, i := range intents {
		if i.Name == name && !i.Root.Equals(c) && !i.Withdrawn {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b group.Intent) int { return a.Created.Compare(b.Created) })
	return out
}

// GroupUnshare withdraws the intent, and stops following the folder the
// share followed (kith share --watch); our own pin stays.
func (n *Node) GroupUnshare(ctx context.Context, name string, c cid.Cid) error {
	g, err := n.unshare(ctx, name, c)
	if err != nil {
		return err
	}
	// A folder this share followed is no longer followed: it would be
	// shared again at its next change.
	if n.watcher != nil {
		gone, err := n.watcher.Forget(g.id.String(), c.String())
		if err != nil {
			return fmt.Errorf("unshared %s in group %s, but: %w", c, g.name, err)
		}
		for _, w := range gone {
			n.log.Info("unshared: no longer watching its folder", "path", w.Path, "group", g.name)
			if w.Sync {
				n.endSync(w.Path)
			}
			n.copyIntoRepo(w.Cid) // our own pin stays
		}
	}
	return nil
}

// unshare withdraws the intent for c in the group name, and returns the
// group.
func (n *Node) unshare(ctx context.Context, name string, c cid.Cid) (*localGroup, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return nil, err
	}
	err = g.net.Apply(ctx, func(s *group.State, clk *group.Clock) (group.Update, error) { return s.Unshare(clk, c) })
	if errors.Is(err, group.ErrNotFound) {
		return nil, fmt.Errorf("%s is not shared in group %s: %w", c, g.name, blockstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("unshare %s in group %s: %w", c, g.name, err)
	}
	return g, nil
}

// copyChecking is the state of a copy (and of a share whose copies are
// all held or so) on a member not heard from since this daemon started:
// it may well hold it; its next heartbeat says.
const copyChecking = "checking"

// GroupStatus reports, for each group sharing c, its holders and state.
func (n *Node) GroupStatus(ctx context.Context, c cid.Cid) ([]api.GroupStatus, error) {
	gs, err := n.groupSet()
	if err != nil {
		return nil, err
	}
	out := []api.GroupStatus{}
	for _, g := range gs.list() {
		if st, ok := g.status(c); ok {
			out = append(out, st)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is not shared in any of your groups (`kith status` lists what is): %w", c, blockstore.ErrNotFound)
	}
	return out, nil
}

// GroupStatuses reports every root shared in any group, as GroupStatus
// does for one: the Files page shows them all with one request.
func (n *Node) GroupStatuses(ctx context.Context) ([]api.GroupStatus, error) {
	gs, err := n.groupSet()
	if err != nil {
		return nil, err
	}
	out := []api.GroupStatus{}
	for _, g := range gs.list() {
		for _, c := range g.sharedRoots() {
			if st, ok := g.status(c); ok {
				out = append(out, st)
			}
		}
	}
	return out, nil
}

// sharedRoots lists the roots of g's last plan.
func (g *localGroup) sharedRoots() []cid.Cid {
	plan := g.rep.Plan()
	out := make([]cid.Cid, 0, len(plan.Assignments))
	for _, a := range plan.Assignments {
		out = append(out, a.Intent.Root)
	}
	return out
}

// status is c's placement in g, computed from the last plan's assignment
// and the current views.
func (g *localGroup) status(c cid.Cid) (api.GroupStatus, bool) {
	plan := g.rep.Plan()
	var asg *group.Assignment
	for i := range plan.Assignments {
		if plan.Assignments[i].Intent.Root == c {
			asg = &plan.Assignments[i]
		}
	}
	if asg == nil {
		return api.GroupStatus{}, false
	}
	self := g.n.host.ID()
	now := time.Now()
	me := group.MemberView{ID: self, LastSeen: now, Holds: group.RootSet{}}
	used, roots := g.rep.Holdings()
	for _, r := range roots {
		me.Holds[r] = struct{}{}
	}
	me.Used = used
	fetchErr := g.rep.FetchErr(c) // not under Read: the loop takes its lock before the state's
	in := asg.Intent
	st := api.GroupStatus{GroupIntent: api.GroupIntent{Group: g.name, Cid: c.String(), Name: in.Name, Size: in.Size, Copies: in.Copies}, Created: in.Created.Time()}
	names := map[peer.ID]string{}
	g.net.Read(func(s *group.State, l *group.Liveness) {
		vs := []group.MemberView{}
		for _, v := range l.Views(s) {
			if v.ID != self {
				vs = append(vs, v)
			}
		}
		if m, ok := s.Member(self); ok {
			me.Name, me.Budget = m.Name, m.Budget
		}
		for _, m := range s.Members() {
			names[m.ID] = m.Name
		}
		p := g.rep.Placer().Status(*asg, group.NewViews(append(vs, me)), now, g.set.cfg.Grace)
		st.State, st.Reason = p.State.String(), p.Reason
		unheard, missing := 0, 0
		for _, mc := range p.Copies {
			h := api.GroupHolder{Peer: mc.ID.String(), Name: names[mc.ID], State: mc.State.String(), Self: mc.ID == self}
			switch {
			case mc.ID == self && mc.State == group.CopyFetching:
				h.Reason = fetchErr
				missing++
			case mc.State == group.CopyFetching && !l.Heard(mc.ID):
				// Since this daemon started: what it holds is not known
				// yet, not missing.
				h.State, h.Reason = copyChecking, "has not said yet what it holds (since this device started, or since it joined)"
				unheard++
			case mc.State == group.CopyFetching:
				missing++
			}
			st.Holders = append(st.Holders, h)
		}
		if unheard > 0 && missing == 0 && (p.State == group.Fetching || p.State == group.Wanted) {
			st.State = copyChecking
			have := "has"
			if unheard > 1 {
				have = "have"
			}
			st.Reason = fmt.Sprintf("%d of the members chosen to keep a copy %s not said yet what it holds: each does every %s",
				unheard, have, g.set.cfg.HeartbeatEvery(len(names)).Round(time.Second))
		}
	})
	if st.Holders == nil {
		st.Holders = []api.GroupHolder{}
	}
	return st, true
}
