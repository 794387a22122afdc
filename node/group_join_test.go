package node

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestGroupLearnsOfUnheardJoiner: a member that joined without reaching
// the inviter (its dial failed, or, behind NATs, only a relayed connection
// was up and the hole punch came later) is learned once the two connect:
// its heartbeats, sealed with the group's key, make the inviter sync with
// it. Neither knows the other as a member, so nothing else would.
func TestGroupLearnsOfUnheardJoiner(t *testing.T) {
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	ctx := context.Background()
	inv, err := a.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	// B has the group's key (it redeemed an invite) but reaches nobody
	// when it joins.
	if _, err := b.groups.add(ctx, group.NewKeyring(groupOf(t, a, inv.Name).secret), "family"); err != nil {
		t.Fatal(err)
	}
	if err := b.host.Connect(ctx, peer.AddrInfo{ID: a.host.ID(), Addrs: a.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "A and B to list each other", func() bool {
		for _, n := range []*Node{a, b} {
			ms, err := n.GroupMembers(ctx, "family")
			if err != nil || len(ms) != 2 {
				return false
			}
		}
		return true
	})
}

// TestGroupNamesStayDistinct: a second group of the same name would make
// the name useless in every command. Creating one is refused with a
// reason; joining one names it apart (family-2), and says so.
func TestGroupNamesStayDistinct(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	if _, err := a.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupCreate(ctx, "family"); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "already in a group called") {
		t.Fatalf("second group called family: %v, want a refusal that says why", err)
	}
	inv, err := b.GroupCreate(ctx, "family") // another family, b's
	if err != nil {
		t.Fatal(err)
	}
	joined, err := a.GroupJoin(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if joined.Name != "family-2" {
		t.Fatalf("joined b's family as %q, want family-2", joined.Name)
	}
	for _, name := range []string{"family", "family-2"} {
		if _, err := a.GroupMembers(ctx, name); err != nil {
			t.Errorf("group %s: %v", name, err)
		}
	}
	// Sharing asks for more copies than there are members: the answer says
	// how many members there are.
	root := addData(t, a, randomData(10<<10))
	in, err := a.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 3})
	if err != nil {
		t.Fatal(err)
	}
	if in.Members != 1 || in.Copies != 3 {
		t.Fatalf("share answered %d members, %d copies; want 1, 3", in.Members, in.Copies)
	}
}

// TestGroupRenameMe: a device renamed in all its groups is known by the
// new name to the other members and joins later groups under it; renamed
// in one group, only in that one.
func TestGroupRenameMe(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1<<30)}
	formGroup(t, nodes, "family")
	a, b := nodes[0], nodes[1]
	nameOn := func(n *Node, grp string, who peer.ID) string {
		ms, err := n.GroupMembers(ctx, grp)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Peer == who.String() {
				return m.Name
			}
		}
		return ""
	}
	res, err := a.GroupRenameMe(ctx, "anna's laptop", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "anna's laptop" || len(res.Groups) != 1 || res.Groups[0] != "family" {
		t.Fatalf("rename answered %+v", res)
	}
	waitFor(t, 20*time.Second, "b to know a by its new name", func() bool {
		return nameOn(b, "family", a.host.ID()) == "anna's laptop"
	})
	// b's connections name a by it too.
	ps, err := b.Peers(ctx)
	if i := slices.IndexFunc(ps, func(p api.Peer) bool { return p.ID == a.host.ID().String() }); err != nil || i < 0 || ps[i].Name != "anna's laptop" {
		t.Errorf("b's peers do not name a: %+v, %v", ps, err)
	}
	// A group created afterwards gets the chosen name, not the hostname.
	if _, err := a.GroupCreate(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if got := nameOn(a, "work", a.host.ID()); got != "anna's laptop" {
		t.Errorf("in a new group a is %q", got)
	}
	// Renamed in one group only.
	if _, err := a.GroupRenameMe(ctx, "office pc", "work"); err != nil {
		t.Fatal(err)
	}
	if got := nameOn(a, "work", a.host.ID()); got != "office pc" {
		t.Errorf("in work a is %q, want office pc", got)
	}
	if got := nameOn(a, "family", a.host.ID()); got != "anna's laptop" {
		t.Errorf("in family a is %q after renaming in work only", got)
	}
	if _, err := a.GroupRenameMe(ctx, "", ""); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("empty name: %v, want invalid", err)
	}
}
