package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// Removing members. Any current member may remove another (there is no
// admin: a family's devices are peers, and the removal is signed, so every
// member sees who did it). The removed device's record becomes a removal
// that no later record of its own beats: placement moves its copies
// elsewhere, members stop gossiping and syncing with it, and its old invite
// token cannot bring it back. It learns of it at its next sync with any
// member, drops its replicas and keeps only a notice ("removed by ...")
// until the user clears it with `kith group leave`.

// removedNotice is what a device keeps of a group that removed it.
type removedNotice struct {
	By     string    `json:"by"`      // the remover's name in the group
	ByPeer string    `json:"by_peer"` // and peer ID
	At     time.Time `json:"at"`
}

func (r removedNotice) sentence(group string) string {
	return fmt.Sprintf("removed from group %s by %s on %s", group, MemberLabel(r.By, r.ByPeer), r.At.Local().Format("2006-01-02 15:04"))
}

// MemberLabel is how a member is shown: "NAME (…end of its peer ID)"
// (names are checked for control characters when they enter the state).
func MemberLabel(name, id string) string {
	short := id
	if len(short) > 8 {
		short = "…" + short[len(short)-6:]
	}
	if name == "" {
		return short
	}
	return fmt.Sprintf("%s (%s)", name, short)
}

// GroupRemove removes member (a peer ID, the end of one as shown in member
// lists, or a member's name if only one has it) from the group.
func (n *Node) GroupRemove(ctx context.Context, name, member string) (api.GroupMember, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return api.GroupMember{}, err
	}
	var target group.Member
	g.net.Read(func(s *group.State, _ *group.Liveness) { target, err = findMember(s.Members(), member) })
	if err != nil {
		return api.GroupMember{}, fmt.Errorf("remove from group %s: %w", g.name, err)
	}
	if target.ID == n.host.ID() {
		return api.GroupMember{}, fmt.Errorf("%s is this device: to go, leave the group (kith group leave %s): %w", MemberLabel(target.Name, target.ID.String()), g.name, api.ErrInvalid)
	}
	err = g.net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) { return s.Remove(c, target.ID) })
	if err != nil {
		return api.GroupMember{}, fmt.Errorf("remove %s from group %s: %w", MemberLabel(target.Name, target.ID.String()), g.name, err)
	}
	n.log.Info("group member removed", "group", g.id, "member", target.ID, "name", target.Name)
	// The removal made a new key epoch (Apply ran the rotation): this
	// device may be its only holder until it reaches another member, so
	// the key goes to disk now, not at the next periodic save.
	if err := g.saveKeys(); err != nil {
		n.log.Warn("save group keys", "group", g.id, "err", err)
	}
	g.changed()
	return api.GroupMember{Peer: target.ID.String(), Name: target.Name, Health: "removed"}, nil
}

// findMember picks the member that q names: its peer ID, the end of it
// (at least 4 characters, as member lists show it), or its name.
func findMember(ms []group.Member, q string) (group.Member, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "…")
	if q == "" {
		return group.Member{}, fmt.Errorf("say which member: a name or peer ID from kith group members: %w", api.ErrInvalid)
	}
	var byName, byID []group.Member
	for _, m := range ms {
		id := m.ID.String()
		switch {
		case id == q:
			return m, nil
		case len(q) >= 4 && (strings.HasSuffix(id, q) || strings.HasPrefix(id, q)):
			byID = append(byID, m)
		case m.Name == q:
			byName = append(byName, m)
		}
	}
	for _, found := range [][]group.Member{byID, byName} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			return group.Member{}, fmt.Errorf("%d members match %q: give the peer ID from kith group members: %w", len(found), q, api.ErrInvalid)
		}
	}
	return group.Member{}, fmt.Errorf("no member matches %q (see kith group members): %w", q, blockstore.ErrNotFound)
}

// checkRemoved acts on our own removal, once the state shows it: stop the
// group, drop its replicas, keep a notice. It reports whether we were
// removed.
func (g *localGroup) checkRemoved(ctx context.Context) bool {
	notice, removed := g.removal()
	if !removed {
		return false
	}
	if !g.teardown(ctx) {
		return true // already stopped (a leave, or a second call)
	}
	g.n.log.Warn("this device was "+notice.sentence(g.name), "group", g.id)
	if err := g.keepNotice(notice); err != nil {
		g.n.log.Warn("save group removal notice", "group", g.id, "err", err)
	}
	g.set.mu.Lock()
	g.set.removed[g.id] = removedGroup{name: g.name, dir: g.dir, notice: notice}
	g.set.mu.Unlock()
	return true
}

// removal says whether the state shows us removed, and by whom.
func (g *localGroup) removal() (removedNotice, bool) {
	var notice removedNotice
	var removed bool
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		var r group.Member
		if r, removed = s.Removed(g.n.host.ID()); removed {
			by, _ := s.Member(r.Version.Node)
			notice = removedNotice{By: by.Name, ByPeer: r.Version.Node.String(), At: r.Version.Time()}
		}
	})
	return notice, removed
}

// teardown stops the group and drops our replica pins (never a user's pin);
// it reports false if the group was already stopped.
func (g *localGroup) teardown(ctx context.Context) bool {
	if !g.rep.Stop(ctx) {
		return false
	}
	g.set.mu.Lock()
	delete(g.set.byID, g.id)
	g.set.mu.Unlock()
	g.net.Close()
	g.n.groupWatch.notify()
	return true
}

// keepNotice replaces the group's folder by the removal notice: the secret
// and state of a group that removed us are of no use any more.
func (g *localGroup) keepNotice(notice removedNotice) error {
	b, _ := json.Marshal(groupMeta{Name: g.name, Incarnation: g.inc, Removed: &notice})
	if err := writeFileAtomic(filepath.Join(g.dir, "group.json"), b, 0o600); err != nil {
		return err
	}
	for _, f := range []string{"secret", keysFile, "state"} {
		if err := os.Remove(filepath.Join(g.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removedGroup is a group that removed us: listed until the user clears it.
type removedGroup struct {
	name   string
	dir    string
	notice removedNotice
}

// removedErr is the error for a command on a group that removed us.
func (r removedGroup) err() error {
	return fmt.Errorf("this device was %s; kith group leave %s clears the notice: %w", r.notice.sentence(r.name), r.name, api.ErrInvalid)
}

// findRemoved returns the group called name (or with that ID) that
// removed us.
func (gs *groupSet) findRemoved(name string) (group.GroupID, removedGroup, bool) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return gs.removedLocked(name)
}

func (gs *groupSet) removedLocked(name string) (group.GroupID, removedGroup, bool) {
	for id, r := range gs.removed {
		if r.name == name || id.String() == name {
			return id, r, true
		}
	}
	return group.GroupID{}, removedGroup{}, false
}

// clearRemoved forgets a removal notice (kith group leave on it).
func (gs *groupSet) clearRemoved(id group.GroupID, r removedGroup) error {
	gs.mu.Lock()
	delete(gs.removed, id)
	gs.mu.Unlock()
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("clear group %s: %w", r.name, err)
	}
	return nil
}
