package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestGroupInvites: tokens hold no group key; the device that made one
// hands the key over while it is open. A single-use token admits one
// device; an expired or revoked one none; a token from an older kith (the
// key itself) is refused with what to do; an inviter that is offline is
// named as the reason.
func TestGroupInvites(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	c := groupNode(t, t.TempDir(), 1<<30)
	created, err := a.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := group.DecodeInvite(created.Token)
	if err != nil || dec.Legacy() || dec.Secret != (group.Secret{}) {
		t.Fatalf("the token holds the group key: %+v, %v", dec.Legacy(), err)
	}
	if !created.Invite.Open || created.Invite.Uses != 0 || time.Until(created.Invite.Expires) < 6*24*time.Hour {
		t.Fatalf("create's invite: %+v", created.Invite)
	}

	single, err := a.GroupInvite(ctx, "family", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupJoin(ctx, single.Token); err != nil {
		t.Fatal(err)
	}
	_, err = c.GroupJoin(ctx, single.Token)
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "already used by 1 device") {
		t.Fatalf("second use of a single-use token: %v", err)
	}
	if gs, _ := c.Groups(ctx); len(gs) != 0 {
		t.Fatalf("a refused join left a group behind: %+v", gs)
	}

	short, err := a.GroupInvite(ctx, "family", 50*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the invite to expire", func() bool { return time.Now().After(short.Invite.Expires) })
	if _, err := c.GroupJoin(ctx, short.Token); err == nil || !strings.Contains(err.Error(), "it expired on") {
		t.Fatalf("expired token: %v", err)
	}

	revoked, err := a.GroupInvite(ctx, "family", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.GroupRevokeInvites(ctx, "family", revoked.Invite.ID[:6]); n != 1 || err != nil {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	if _, err := c.GroupJoin(ctx, revoked.Token); err == nil || !strings.Contains(err.Error(), "it was revoked") {
		t.Fatalf("revoked token: %v", err)
	}

	invs, err := a.GroupInvites(ctx, "family")
	if err != nil || len(invs) != 4 {
		t.Fatalf("invites: %+v, %v", invs, err)
	}
	open := 0
	for _, inv := range invs {
		if inv.Open {
			open++
		}
	}
	if open != 1 { // only create's
		t.Fatalf("%d open invites, want 1: %+v", open, invs)
	}

	// A token of an older kith: the group key itself.
	old, err := group.EncodeInvite(group.Invite{Name: "family", Secret: groupOf(t, a, "family").secret, Addrs: dec.Addrs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GroupJoin(ctx, old); err == nil || !strings.Contains(err.Error(), "made by an older kith") {
		t.Fatalf("v1 token: %v", err)
	}

	// The token still open works for c while a is up; once a is gone, a
	// fresh device is told why it cannot join.
	if _, err := c.GroupJoin(ctx, created.Token); err != nil {
		t.Fatal(err)
	}
	d := groupNode(t, t.TempDir(), 1<<30)
	a.Close()
	_, err = d.GroupJoin(ctx, created.Token)
	if !errors.Is(err, api.ErrUnavailable) || !strings.Contains(err.Error(), "must be online") {
		t.Fatalf("inviter offline: %v", err)
	}
}
