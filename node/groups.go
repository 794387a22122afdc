package node

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
	groupnet "github.com/kith-p2p/kith/protocol/group/net"
	"github.com/kith-p2p/kith/web/api"
)

// groupsDir holds one folder per group:
// groups/<id>/{secret,keys,group.json,state,invites.json}.
const groupsDir = "groups"

// keysFile holds a group's epoch keys (group.Keyring.Marshal), 0600 like
// the secret; absent while the group is in epoch 0.
const keysFile = "keys"

// groupSet is the groups this node is in, over one groupnet.Service.
type groupSet struct {
	n   *Node
	svc *groupnet.Service
	cfg group.Config

	mu      sync.Mutex
	byID    map[group.GroupID]*localGroup
	removed map[group.GroupID]removedGroup // groups that removed us (notices)
	invMu   sync.Mutex                     // invite books (group_invite.go)
}

// groupMeta is what we keep beside a group's state.
type groupMeta struct {
	Name        string `json:"name"`
	Incarnation uint64 `json:"incarnation"`
	// Removed: the group removed this device; only this notice is kept.
	Removed *removedNotice `json:"removed,omitempty"`
}

// startGroups starts group networking and reopens every group in the repo.
// A group that fails to load is logged and skipped: the rest still run.
func (n *Node) startGroups() error {
	opts := []groupnet.Option{groupnet.WithLogger(n.log)}
	if d := time.Duration(n.cfg.Groups.GossipHeartbeat); d > 0 {
		opts = append(opts, groupnet.WithGossipHeartbeat(d))
	}
	svc, err := groupnet.NewService(n.host, opts...)
	if err != nil {
		return err
	}
	gs := &groupSet{n: n, svc: svc, cfg: n.cfg.Groups.groupConfig(), byID: map[group.GroupID]*localGroup{}, removed: map[group.GroupID]removedGroup{}}
	svc.HandleInvites(gs.redeemInvite)
	n.groups = gs
	n.groupsReady.Store(gs)
	ents, err := os.ReadDir(filepath.Join(n.repo.dir, groupsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read groups folder: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if err := gs.load(filepath.Join(n.repo.dir, groupsDir, e.Name())); err != nil {
			n.log.Warn("group not loaded", "dir", e.Name(), "err", err)
		}
	}
	return nil
}

// closeGroups stops group networking; the group loops have already saved
// their state (they run on the node's context).
func (n *Node) closeGroups() {
	if n.groups != nil {
		n.groups.svc.Close()
	}
}

// load reopens the group persisted in dir, bumping its incarnation.
func (gs *groupSet) load(dir string) error {
	var meta groupMeta
	b, err := os.ReadFile(filepath.Join(dir, "group.json"))
	if err != nil {
		return fmt.Errorf("read group metadata: %w", err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return fmt.Errorf("group metadata in %s: %w", dir, err)
	}
	if meta.Removed != nil {
		var id group.GroupID
		if raw, err := hex.DecodeString(filepath.Base(dir)); err != nil || len(raw) != len(id) {
			return fmt.Errorf("group folder %s: not a group ID", dir)
		} else {
			copy(id[:], raw)
		}
		gs.mu.Lock()
		gs.removed[id] = removedGroup{name: meta.Name, dir: dir, notice: *meta.Removed}
		gs.mu.Unlock()
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "secret"))
	if err != nil {
		return fmt.Errorf("read group secret: %w", err)
	}
	var sec group.Secret
	if len(raw) != len(sec) {
		return fmt.Errorf("group secret in %s is damaged", dir)
	}
	copy(sec[:], raw)
	ring := group.NewKeyring(sec)
	if b, err := os.ReadFile(filepath.Join(dir, keysFile)); err == nil {
		if r, err := group.UnmarshalKeyring(sec, b); err == nil {
			ring = r
		} else {
			// A member hands us the current key at our next sync; only
			// older payloads stay unreadable.
			gs.n.log.Warn("group keys damaged; getting them again from members", "dir", dir, "err", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read group keys: %w", err)
	}
	st := group.NewState()
	if b, err := os.ReadFile(filepath.Join(dir, "state")); err == nil {
		if st, err = group.Unmarshal(b); err != nil {
			return fmt.Errorf("group state in %s: %w", dir, err)
		}
	}
	meta.Incarnation++
	g, err := gs.open(ring, meta, st)
	if err != nil {
		return err
	}
	if err := g.saveMeta(); err != nil {
		return err
	}
	// Our addresses may have changed since the last run.
	err = g.join(gs.n.ctx, false)
	if errors.Is(err, group.ErrRemoved) && g.checkRemoved(gs.n.ctx) {
		return nil // removed while we were stopping: only the notice stays
	}
	return err
}

// open starts a group's networking and its loop.
func (gs *groupSet) open(ring *group.Keyring, meta groupMeta, st *group.State) (*localGroup, error) {
	sec := ring.Secret()
	id := sec.ID()
	g := &localGroup{
		n: gs.n, set: gs, id: id, name: meta.Name, secret: sec, inc: meta.Incarnation,
		dir: filepath.Join(gs.n.repo.dir, groupsDir, id.String()),
	}
	g.rep = g.newReplicator()
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create group folder: %w", err)
	}
	if err := g.rep.Load(gs.n.ctx); err != nil {
		return nil, err
	}
	var err error
	g.net, err = gs.svc.Open(groupnet.GroupOptions{
		Secret: sec, Keyring: ring, State: st, Incarnation: meta.Incarnation, Config: gs.cfg,
		SyncInterval:  time.Duration(gs.n.cfg.Groups.SyncInterval),
		OnChange:      g.changed,
		OnMemberHears: g.rep.MemberHears,
		OnHeard:       gs.n.groupWatch.notify,
	})
	if err != nil {
		return nil, err
	}
	g.rep.SetNet(g.net)
	gs.mu.Lock()
	gs.byID[id] = g
	gs.mu.Unlock()
	gs.n.background(g.rep.Run)
	gs.n.groupWatch.notify()
	return g, nil
}

// find returns the group called name (its name, or its ID).
func (gs *groupSet) find(name string) (*localGroup, error) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	var found []*localGroup
	for _, g := range gs.byID {
		if g.id.String() == name {
			return g, nil
		}
		if g.name == name {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		if _, r, ok := gs.removedLocked(name); ok {
			return nil, r.err()
		}
		return nil, fmt.Errorf("you are in no group called %q: %w", name, blockstore.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("several groups are called %q; name one by its ID: %w", name, api.ErrInvalid)
}

// named reports whether one of our groups is called name.
func (gs *groupSet) named(name string) bool {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for _, g := range gs.byID {
		if g.name == name {
			return true
		}
	}
	for _, r := range gs.removed {
		if r.name == name {
			return true
		}
	}
	return false
}

// freeName returns name, or the first of name-2, name-3, ... that none of
// our groups is called.
func (gs *groupSet) freeName(name string) string {
	if !gs.named(name) {
		return name
	}
	for i := 2; ; i++ {
		suffix := fmt.Sprintf("-%d", i)
		cand := name
		if len(cand)+len(suffix) > group.MaxNameLen {
			cand = cand[:group.MaxNameLen-len(suffix)]
		}
		if cand += suffix; !gs.named(cand) {
			return cand
		}
	}
}

// list returns the open groups, by name.
func (gs *groupSet) list() []*localGroup {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	out := make([]*localGroup, 0, len(gs.byID))
	for _, g := range gs.byID {
		out = append(out, g)
	}
	// By name, so that what lists groups (a CID's status in each, the
	// groups that share it) says them in the same order every time.
	slices.SortFunc(out, func(a, b *localGroup) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.id.String(), b.id.String()))
	})
	return out
}

// groups returns the running group set, or an error if the node is not started.
func (n *Node) groupSet() (*groupSet, error) {
	if n.groups == nil {
		return nil, fmt.Errorf("groups are not running (the daemon is starting or stopping): %w", api.ErrUnavailable)
	}
	return n.groups, nil
}

// budget is what we offer a group we join, and what a group's heartbeat
// brings its member record to (groups.budget_percent changes live).
func (n *Node) groupBudget() int64 {
	free, err := freeBytes(n.repo.dir)
	if err != nil {
		free = 10 << 30
	}
	g := n.cfg.Groups
	if b := n.budget.Load(); b != nil {
		g = *b
	}
	return g.budget(free)
}

// memberAddrs are the addresses others dial us at, as /p2p multiaddrs.
func (n *Node) memberAddrs() []string {
	var out []string
	for _, a := range n.host.Addrs() {
		s := a.Encapsulate(ma.StringCast("/p2p/" + n.host.ID().String())).String()
		if len(s) <= group.MaxAddrLen && len(out) < group.MaxAddrs {
			out = append(out, s)
		}
	}
	return out
}

// dialAddrs connects to the peers in a list of /p2p multiaddrs, each
// within timeout; failures are only logged (the peer may be asleep).
func (n *Node) dialAddrs(ctx context.Context, addrs []string, timeout time.Duration) int {
	infos := map[peer.ID]*peer.AddrInfo{}
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil || ai.ID == n.host.ID() {
			continue
		}
		if cur, ok := infos[ai.ID]; ok {
			cur.Addrs = append(cur.Addrs, ai.Addrs...)
		} else {
			infos[ai.ID] = ai
		}
	}
	ok := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ai := range infos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := n.host.Connect(cctx, *ai); err != nil {
				n.log.Debug("dial group member", "peer", ai.ID, "err", err)
				return
			}
			mu.Lock()
			ok++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok
}

// validGroupName checks a name a user typed.
func validGroupName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > group.MaxNameLen {
		return fmt.Errorf("a group name must be 1 to %d bytes: %w", group.MaxNameLen, api.ErrInvalid)
	}
	return nil
}

// addrPeers returns the peers named by /p2p multiaddrs, in order, once each.
func addrPeers(addrs []string) []peer.ID {
	var out []peer.ID
	seen := map[peer.ID]bool{}
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err == nil && !seen[ai.ID] {
			seen[ai.ID] = true
			out = append(out, ai.ID)
		}
	}
	return out
}
