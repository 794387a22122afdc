package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
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
	dec, err := group.DecodeInvite(inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	dec.Addrs = nil // B reaches nobody when it joins
	tok, err := group.EncodeInvite(dec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupJoin(ctx, tok); err != nil {
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
