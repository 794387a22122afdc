package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/kith-p2p/kith/web/api"
)

// TestGetOfAGroupShareNamesWhoKeepsIt: when the only member that keeps a
// group's share is offline, a get of it, or of a file inside it, says so
// (who keeps it, when it was last seen, that it comes once that device
// is online), not "no peers": the DHT never lists a group's copies.
func TestGetOfAGroupShareNamesWhoKeepsIt(t *testing.T) {
	ctx := context.Background()
	a, b := groupNode(t, t.TempDir(), 1<<30), groupNode(t, t.TempDir(), 1) // b keeps nothing
	formGroup(t, []*Node{a, b}, "family")
	res, err := a.Add(ctx, "Docs", files.NewMapDirectory(map[string]files.Node{
		"x.bin": files.NewBytesFile(randomData(64 << 10)),
	}), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := cid.MustParse(res.Cid)
	if _, err := a.GroupShare(ctx, "family", root, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the other member to hear that a holds the share", func() bool {
		sts, err := b.GroupStatus(ctx, root)
		return err == nil && len(sts) == 1 && len(sts[0].Holders) == 1 && sts[0].Holders[0].State == "held"
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the connection to close", func() bool {
		return b.Host().Network().Connectedness(a.Host().ID()) != network.Connected
	})
	for _, ref := range []string{root.String(), root.String() + "/x.bin"} {
		_, err := b.Get(ctx, ref, t.TempDir()+"/out", nil, nil)
		msg := api.Sentence(err)
		if err == nil || !strings.Contains(msg, "family keeps Docs on ") || !strings.Contains(msg, "(last seen ") ||
			!strings.Contains(msg, "not connected now. It comes once that device is online") || api.KindOf(err) != api.KindNotFound {
			sts, _ := b.GroupStatus(ctx, root)
			t.Errorf("get %s: %q (%v), want it to say who keeps it, offline; status %+v", ref, msg, api.KindOf(err), sts)
		}
	}
}
