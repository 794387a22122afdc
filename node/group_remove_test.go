package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// TestGroupRemoveMember: a member removes a lost laptop that holds a copy.
// Its copy is placed on the member that held none, it learns it was removed (at its next sync), drops its
// replica, keeps a notice across a restart, and its old invite token does
// not bring it back.
func TestGroupRemoveMember(t *testing.T) {
	ctx := context.Background()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*Node, len(dirs))
	for i := range nodes {
		nodes[i] = groupNode(t, dirs[i], 1<<30)
	}
	inv, err := nodes[0].GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		if _, err := n.GroupJoin(ctx, inv.Token); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every node to see every member", func() bool {
		for _, n := range nodes {
			if ms, err := n.GroupMembers(ctx, "family"); err != nil || len(ms) != len(nodes) {
				return false
			}
		}
		return true
	})
	root := addData(t, nodes[0], randomData(200<<10))
	if _, err := nodes[0].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "3 holders", func() bool { c, _ := countHolders(t, nodes, root); return c == 3 })
	// The lost laptop: a holder other than the sharer, put last.
	_, who := countHolders(t, nodes, root)
	v := who[len(who)-1]
	if v == 0 {
		t.Fatalf("holders %v", who)
	}
	nodes[1], nodes[v], dirs[1], dirs[v] = nodes[v], nodes[1], dirs[v], dirs[1]
	if _, err := nodes[1].GroupRenameMe(ctx, "old laptop", "family"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the new name everywhere", func() bool {
		_, err := findMemberNamed(nodes[0], "old laptop")
		return err == nil
	})

	// Wrong targets first: oneself, nobody, an ambiguous short ID.
	if _, err := nodes[0].GroupRemove(ctx, "family", nodes[0].host.ID().String()); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "kith group leave") {
		t.Fatalf("removing oneself: %v", err)
	}
	if _, err := nodes[0].GroupRemove(ctx, "family", "nobody"); !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("removing nobody: %v", err)
	}

	m, err := nodes[0].GroupRemove(ctx, "family", "old laptop")
	if err != nil {
		t.Fatal(err)
	}
	if m.Peer != nodes[1].host.ID().String() {
		t.Fatalf("removed %s, want node 1", m.Peer)
	}
	// Every remaining member stops counting it.
	for _, n := range []*Node{nodes[0], nodes[2], nodes[3]} {
		waitFor(t, 30*time.Second, "every remaining member to drop it", func() bool {
			ms, err := n.GroupMembers(ctx, "family")
			return err == nil && len(ms) == 3
		})
	}
	// It learns at its next sync and keeps only a notice.
	var notice string
	waitFor(t, 30*time.Second, "the removed device to learn it", func() bool {
		gs, err := nodes[1].Groups(ctx)
		if err != nil || len(gs) != 1 {
			return false
		}
		notice = gs[0].Removed
		return notice != ""
	})
	t.Logf("removed device says: %s", notice)
	if !strings.Contains(notice, "removed from group family by") {
		t.Fatalf("notice %q", notice)
	}
	if groupPinned(t, nodes[1], root) {
		t.Fatal("the removed device kept its replica pin")
	}
	if _, err := nodes[1].GroupMembers(ctx, "family"); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "removed from group family") {
		t.Fatalf("a command on the group after removal: %v", err)
	}
	// Three copies again, without it: its copy was placed on the member
	// that held none.
	waitFor(t, 30*time.Second, "3 holders among the remaining members", func() bool {
		return holds(t, nodes[0], "family", root) && holds(t, nodes[2], "family", root) && holds(t, nodes[3], "family", root)
	})

	// The notice survives a restart, and the old token does not let it in.
	nodes[1].Close()
	nodes[1] = groupNode(t, dirs[1], 1<<30)
	gs, err := nodes[1].Groups(ctx)
	if err != nil || len(gs) != 1 || gs[0].Removed == "" {
		t.Fatalf("after restart: %+v, %v", gs, err)
	}
	if _, err := nodes[1].GroupJoin(ctx, inv.Token); err == nil || !strings.Contains(err.Error(), "removed from group family") {
		t.Fatalf("re-join with the old token: %v", err)
	}
	// Clearing the notice, then trying again: refused by the members.
	if err := nodes[1].GroupLeave(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	if gs, _ := nodes[1].Groups(ctx); len(gs) != 0 {
		t.Fatalf("notice not cleared: %+v", gs)
	}
	// (the inviter refuses to hand the group key to a removed device)
	if _, err := nodes[1].GroupJoin(ctx, inv.Token); err == nil || !strings.Contains(err.Error(), "this device was removed from the group; it cannot join again") {
		t.Fatalf("re-join after clearing the notice: %v", err)
	}
	if ms, _ := nodes[0].GroupMembers(ctx, "family"); len(ms) != 3 {
		t.Fatalf("the removed device is back: %d members", len(ms))
	}
}

func findMemberNamed(n *Node, name string) (api.GroupMember, error) {
	ms, err := n.GroupMembers(context.Background(), "family")
	if err != nil {
		return api.GroupMember{}, err
	}
	for _, m := range ms {
		if m.Name == name {
			return m, nil
		}
	}
	return api.GroupMember{}, blockstore.ErrNotFound
}
