package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore/fstest"
	"github.com/kith-p2p/kith/web/api"
)

// TestSyncOntoACaseInsensitiveDisk: a folder on a file system that does
// not tell names apart by case (exFAT, as macOS's and Windows') cannot
// hold a version with two names that differ only in case: got there, the
// get leaves one out and names it, and the folder is refused as a folder
// that syncs (its next version would remove that name on every device).
// A folder that syncs there already, sent such a version later, keeps
// what it holds, and what it shares next does not remove the name it
// could not write from the other device.
func TestSyncOntoACaseInsensitiveDisk(t *testing.T) {
	ctx := context.Background()
	stick := fstest.ExFAT(t)
	a, b := syncNode(t), syncNode(t)
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Notes")
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("the plan\n"))
	writeBytes(t, filepath.Join(dirA, "Plan.txt"), []byte("another plan\n"))
	since := time.Now()
	v1 := shareCopies(t, a, dirA, 2)
	if _, err := a.GroupSync(ctx, "family", "Notes", dirA, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	dirB := filepath.Join(stick, "Notes")
	since = time.Now()
	res, err := b.Get(ctx, v1.String(), dirB, nil, nil)
	if err != nil || len(res.NotWritten) != 1 || res.NotWritten[0].Path != "plan.txt" {
		t.Fatalf("get onto exFAT: %+v, %v; want plan.txt not written", res, err)
	}
	_, err = b.GroupSync(ctx, "family", "Notes", dirB, v1.String(), 0, 0, since)
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "it holds Plan.txt and plan.txt, and this file system does not tell names apart by case") {
		t.Fatalf("sync of a folder that lacks plan.txt: %v", err)
	}
	if ms, _ := b.GroupMirrors(ctx); len(ms) != 0 {
		t.Errorf("b's mirrors: %+v", ms)
	}

	// A folder that syncs there already, then sent a version with both.
	dirA2 := filepath.Join(t.TempDir(), "Docs")
	writeBytes(t, filepath.Join(dirA2, "plan.txt"), []byte("the plan\n"))
	since = time.Now()
	d1 := shareCopies(t, a, dirA2, 2)
	if _, err := a.GroupSync(ctx, "family", "Docs", dirA2, d1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "b to see Docs", func() bool { _, err := b.GroupStatus(ctx, d1); return err == nil })
	dirB2 := filepath.Join(stick, "Docs")
	since = time.Now()
	if res, err := b.Get(ctx, d1.String(), dirB2, nil, nil); err != nil || len(res.NotWritten) != 0 {
		t.Fatalf("get of Docs: %+v, %v", res, err)
	}
	if _, err := b.GroupSync(ctx, "family", "Docs", dirB2, d1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(dirA2, "Plan.txt"), []byte("another plan\n"))
	kick := func() {
		for _, n := range []*Node{a, b} {
			n.watcher.Kick()
			n.mirrors.Kick()
		}
	}
	waitFor(t, 60*time.Second, "b to hear of a's version with Plan.txt", func() bool {
		kick()
		ms, _ := b.GroupMirrors(ctx)
		for _, m := range ms {
			if m.Name == "Docs" && m.Error != "" {
				t.Logf("b: %s", m.Error)
				return true
			}
		}
		return false
	})
	writeBytes(t, filepath.Join(dirB2, "from-b.txt"), []byte("b's\n"))
	waitFor(t, 60*time.Second, "b's new file on a", func() bool {
		kick()
		_, err := os.Stat(filepath.Join(dirA2, "from-b.txt"))
		return err == nil
	})
	for name, body := range map[string]string{"plan.txt": "the plan\n", "Plan.txt": "another plan\n"} {
		if got := readString(t, filepath.Join(dirA2, name)); got != body {
			t.Errorf("a's %s holds %q after b shared what its folder holds", name, got)
		}
	}
}
