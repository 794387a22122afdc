package node

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestMemberThatKeepsNoCopies: a laptop set to groups.budget_percent 0
// while its daemon runs offers the group no space from its next
// heartbeat: what it shares is kept by the others, it is never chosen to
// hold a copy, and a share that needs it says why.
func TestMemberThatKeepsNoCopies(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	laptop := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{a, b, laptop}, "family")
	offered := func() int64 {
		ms, err := a.GroupMembers(ctx, "family")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Peer == laptop.host.ID().String() {
				return m.Budget
			}
		}
		return -1
	}
	waitFor(t, 10*time.Second, "the laptop's offer to be known", func() bool { return offered() > 0 })
	if _, err := SetConfig(laptop.repo.dir, "groups.budget_percent", "0"); err != nil {
		t.Fatal(err)
	}
	if res, err := laptop.ApplyConfig(ctx, "groups.budget_percent"); err != nil || !res.Applied {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	waitFor(t, 10*time.Second, "the laptop to offer no space", func() bool { return offered() == 0 })

	docs := filepath.Join(t.TempDir(), "Docs")
	writeBytes(t, filepath.Join(docs, "plan.txt"), []byte("the plan"))
	root := shareCopies(t, laptop, docs, 2)
	var st api.GroupStatus
	waitFor(t, 30*time.Second, "the two other members to hold the laptop's share", func() bool {
		sts, err := laptop.GroupStatus(ctx, root)
		if err != nil || len(sts) != 1 {
			return false
		}
		st = sts[0]
		return st.State == "held"
	})
	var holders []string
	for _, h := range st.Holders {
		holders = append(holders, h.Peer)
	}
	slices.Sort(holders)
	want := []string{a.host.ID().String(), b.host.ID().String()}
	slices.Sort(want)
	if !slices.Equal(holders, want) {
		t.Errorf("holders %v, want the two members that offer space %v", holders, want)
	}

	// Three copies: only two members can keep one, and the status says why.
	writeBytes(t, filepath.Join(docs, "more.txt"), []byte("more"))
	other := shareCopies(t, a, docs, 3)
	waitFor(t, 30*time.Second, "the share of three copies to say why one is missing", func() bool {
		sts, err := a.GroupStatus(ctx, other)
		return err == nil && len(sts) == 1 && strings.Contains(sts[0].Reason, "(1 of them keeps no copies)")
	})
}
