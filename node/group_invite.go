package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// Invites. A token holds an invite key, not the group secret; the device
// that made it keeps the invite (its ID, expiry, uses, who redeemed it) in
// groups/<id>/invites.json and hands the secret to a joiner that shows the
// key, over groupnet.InviteProtocol, while the invite is open. So a token
// expires (7 days by default), can be single-use and can be revoked; the
// price is that the device that made it must be online when it is used.

const invitesFile = "invites.json"

// book reads the group's invite book (empty when there is none).
func (g *localGroup) book() (*group.InviteBook, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, invitesFile))
	if errors.Is(err, os.ErrNotExist) {
		return &group.InviteBook{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read invites of group %s: %w", g.name, err)
	}
	return group.UnmarshalInviteBook(b)
}

// editBook runs fn on the group's invite book and saves it, under the
// set's invite lock.
func (g *localGroup) editBook(fn func(b *group.InviteBook) error) error {
	g.set.invMu.Lock()
	defer g.set.invMu.Unlock()
	b, err := g.book()
	if err != nil {
		return err
	}
	if err := fn(b); err != nil {
		return err
	}
	b.Prune(time.Now())
	raw, err := b.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(g.dir, invitesFile), raw, 0o600)
}

// GroupInvite makes an invite to the group, good for ttl (0: the default,
// 7 days) and for uses devices (0: any number until it expires).
func (n *Node) GroupInvite(ctx context.Context, name string, ttl time.Duration, uses int) (api.GroupInvite, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return api.GroupInvite{}, err
	}
	if ttl == 0 {
		ttl = group.DefaultInviteTTL
	}
	key, err := group.NewInviteKey()
	if err != nil {
		return api.GroupInvite{}, err
	}
	var rec group.InviteRecord
	err = g.editBook(func(b *group.InviteBook) error {
		rec, err = b.Add(key, time.Now(), ttl, uses)
		return err
	})
	if err != nil {
		return api.GroupInvite{}, fmt.Errorf("invite to group %s: %w", g.name, inviteKind(err))
	}
	tok, err := group.EncodeInvite(group.Invite{Name: g.name, Group: g.id, Key: key, Addrs: n.memberAddrs()})
	if err != nil {
		return api.GroupInvite{}, fmt.Errorf("invite to group %s: %w", g.name, err)
	}
	return api.GroupInvite{Group: g.info(), Token: tok, Invite: inviteInfo(rec)}, nil
}

// GroupInvites lists the invites this device made to the group.
func (n *Node) GroupInvites(ctx context.Context, name string) ([]api.Invite, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return nil, err
	}
	g.set.invMu.Lock()
	b, err := g.book()
	g.set.invMu.Unlock()
	if err != nil {
		return nil, err
	}
	out := []api.Invite{}
	for _, r := range b.Invites {
		out = append(out, inviteInfo(r))
	}
	return out, nil
}

// GroupRevokeInvites revokes the invite whose ID starts with id, or every
// open one ("all"), and returns how many.
func (n *Node) GroupRevokeInvites(ctx context.Context, name, id string) (int, error) {
	g, err := n.findGroup(name)
	if err != nil {
		return 0, err
	}
	var count int
	err = g.editBook(func(b *group.InviteBook) error {
		count, err = b.Revoke(id, time.Now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke invites of group %s: %w", g.name, inviteKind(err))
	}
	return count, nil
}

func inviteInfo(r group.InviteRecord) api.Invite {
	inv := api.Invite{ID: r.ID, Created: r.Created, Expires: r.Expires, Uses: r.Uses, Used: len(r.Joined), Revoked: r.Revoked}
	inv.Open = r.Open(time.Now())
	return inv
}

// inviteKind maps the group package's error kinds to the API's.
func inviteKind(err error) error {
	switch {
	case errors.Is(err, group.ErrInvalid), errors.Is(err, group.ErrInvite):
		return fmt.Errorf("%w: %w", err, api.ErrInvalid)
	case errors.Is(err, group.ErrNotFound):
		return fmt.Errorf("%w: %w", err, blockstore.ErrNotFound)
	}
	return err
}

// redeemInvite is this device's side of groupnet.InviteProtocol.
// Besides the secret, the joiner gets the group's epoch keys, so that it
// can read what is shared after a removal that happened before it joined.
func (gs *groupSet) redeemInvite(joiner peer.ID, id group.GroupID, key group.InviteKey) (group.Secret, []group.KeyGrant, error) {
	gs.mu.Lock()
	g := gs.byID[id]
	gs.mu.Unlock()
	if g == nil {
		return group.Secret{}, nil, fmt.Errorf("%w: this device is not in that group any more", group.ErrInvite)
	}
	var removed bool
	g.net.Read(func(s *group.State, _ *group.Liveness) { _, removed = s.Removed(joiner) })
	if removed {
		return group.Secret{}, nil, fmt.Errorf("%w: this device was removed from the group; it cannot join again", group.ErrInvite)
	}
	err := g.editBook(func(b *group.InviteBook) error { return b.Redeem(key, joiner, time.Now()) })
	if err != nil {
		return group.Secret{}, nil, err
	}
	return g.secret, g.net.InviteGrants(joiner), nil
}

// redeem gets the secret of the invite's group, and its epoch keys, from
// the member that made it (the token's addresses name it), once the dials
// are done.
func (n *Node) redeem(ctx context.Context, gs *groupSet, inv group.Invite) (*group.Keyring, error) {
	var errs []error
	for _, id := range addrPeers(inv.Addrs) {
		if n.host.Network().Connectedness(id) == network.NotConnected {
			continue
		}
		sec, grants, err := gs.svc.Redeem(ctx, id, inv.Group, inv.Key)
		if err == nil && sec.ID() != inv.Group {
			err = fmt.Errorf("%w: the inviter answered with another group's key", group.ErrInvite)
		}
		if err == nil {
			ring := group.NewKeyring(sec)
			for _, g := range grants {
				if _, err := ring.Add(g); err != nil {
					// The rest still let us in; a member hands the missing
					// key at the first sync.
					n.log.Warn("group invite: an epoch key from the inviter did not check out", "group", inv.Group, "err", err)
				}
			}
			return ring, nil
		}
		if errors.Is(err, group.ErrInvite) {
			return nil, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		n.log.Debug("redeem group invite", "err", errors.Join(errs...))
	}
	return nil, fmt.Errorf("could not reach the device that made this invite: it must be online, with kith daemon running, when the invite is used: %w", api.ErrUnavailable)
}
