package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// TestSyncKeepsEarlierVersions: a folder shared to sync both ways keeping
// 2 earlier versions (kith share --sync --keep 2), got to sync on another
// device that asked for none: that device keeps as many (the version's
// file of modes and times says so). After a change on each device in
// turn, the group shares the newest and the 2 before it, whichever device
// made them, and no more; an earlier version comes back whole, its large
// file as it was then (its blocks kept in the repos, not as where they
// were in the folders, which changed since).
func TestSyncKeepsEarlierVersions(t *testing.T) {
	ctx := context.Background()
	a, b := syncNode(t), syncNode(t)
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Notes")
	video := bytes.Repeat([]byte("frame 0 "), 100_000) // 800 KB: leaves large enough for references
	writeBytes(t, filepath.Join(dirA, "video.mov"), video)
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("plan 0\n"))
	since := time.Now()
	res, err := a.AddPaths(ctx, []string{dirA}, api.AddOptions{Recursive: true, Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := cid.MustParse(res.Cid)
	if _, err := a.GroupShare(ctx, "family", v1, api.ShareOptions{Copies: 2, Path: dirA, Keep: 2}); err != nil {
		t.Fatal(err)
	}
	if m, err := a.GroupSync(ctx, "family", "Notes", dirA, v1.String(), 0, 2, since); err != nil || m.Keep != 2 {
		t.Fatalf("a syncs keeping %d earlier versions (%v), want 2", m.Keep, err)
	}
	dirB := filepath.Join(t.TempDir(), "Notes")
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	since = time.Now()
	if _, err := b.Get(ctx, v1.String(), dirB, nil, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := b.GroupSync(ctx, "family", "Notes", dirB, v1.String(), 0, 0, since); err != nil || m.Keep != 2 {
		t.Fatalf("b syncs keeping %d earlier versions (%v), want 2 as the version says", m.Keep, err)
	}

	// Each device changes the folder in turn; each change reaches the
	// other before the next.
	versions := []cid.Cid{v1}
	bodies := [][]byte{slices.Clone(video)}
	for i, n := range []*Node{b, a, b} {
		dir := map[*Node]string{a: dirA, b: dirB}[n]
		copy(video[300_000:], []byte{'A' + byte(i)})
		// Written whole, then moved in (as an editor saves): a version
		// never holds it half-written.
		tmp := filepath.Join(t.TempDir(), "video.mov")
		writeBytes(t, tmp, video)
		if err := os.Rename(tmp, filepath.Join(dir, "video.mov")); err != nil {
			t.Fatal(err)
		}
		writeBytes(t, filepath.Join(dir, "plan.txt"), []byte{'p', 'l', 'a', 'n', ' ', '1' + byte(i), '\n'})
		n.watcher.Kick()
		var newest cid.Cid
		deadline := time.Now().Add(time.Minute)
		for {
			if folderCID(t, dirA) == folderCID(t, dirB) {
				if in, ok := newestShare(groupOf(t, a, "family"), "Notes"); ok && in.Root.String() == folderCID(t, dirA) {
					newest = in.Root
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("change %d: the folders did not meet at a shared version", i+1)
			}
			a.watcher.Kick()
			b.watcher.Kick()
			a.mirrors.Kick()
			b.mirrors.Kick()
			time.Sleep(50 * time.Millisecond) // polling pace: the sync runs in the daemons
		}
		versions = append(versions, newest)
		bodies = append(bodies, slices.Clone(video))
	}

	// The group shares the newest and the 2 before it; the first is gone.
	// (Versions made while a change was being merged count too: the 2
	// newest the newest was made from stay.)
	shared := func(n *Node) []cid.Cid {
		var out []cid.Cid
		groupOf(t, n, "family").net.Read(func(s *group.State, _ *group.Liveness) {
			for _, in := range s.Intents() {
				if in.Name == "Notes" {
					out = append(out, in.Root)
				}
			}
		})
		slices.SortFunc(out, func(x, y cid.Cid) int { return strings.Compare(x.KeyString(), y.KeyString()) })
		return out
	}
	newest := versions[len(versions)-1]
	kept := func(vs []cid.Cid) bool {
		return len(vs) == 3 && slices.Contains(vs, newest) && !slices.Contains(vs, v1)
	}
	for deadline := time.Now().Add(30 * time.Second); !kept(shared(a)) || !slices.Equal(shared(a), shared(b)); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the group shares %v (a sees) and %v (b sees), want the newest %s and the 2 before it (the folders were %v)", shared(a), shared(b), newest, versions)
		}
	}

	// Each device lists them among its watched folders.
	for _, n := range []*Node{a, b} {
		ws, err := n.GroupWatches(ctx)
		if err != nil || len(ws) != 1 || ws[0].Keep != 2 || len(ws[0].Earlier) != 2 || slices.Contains(ws[0].Earlier, newest.String()) {
			t.Errorf("watches: %+v (%v), want the folder keeping 2, the 2 earlier versions the group shares listed", ws, err)
		}
	}

	// The earlier versions come back whole, on either device, each as the
	// folder was at one time.
	for _, n := range []*Node{a, b} {
		for _, v := range shared(n) {
			if v == newest {
				continue
			}
			waitFor(t, time.Minute, "an earlier version kept whole", func() bool {
				missing, err := missingBlocks(ctx, n.store, v, nil)
				return err == nil && missing == 0
			})
			out := filepath.Join(t.TempDir(), "back")
			if _, err := n.Get(ctx, v.String(), out, nil, nil); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(out, "video.mov"))
			if err != nil || !slices.ContainsFunc(bodies, func(b []byte) bool { return bytes.Equal(b, got) }) {
				t.Errorf("the earlier version %s's video.mov is none the folder held (%v)", v, err)
			}
		}
	}
	// Each device's own pins are of versions still shared, or of none.
	for i, n := range []*Node{a, b} {
		stale := func() []cid.Cid {
			var out []cid.Cid
			live := shared(n)
			pins, err := n.store.Pins(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pins {
				if p.Owner.IsUser() && p.Name == "Notes" && !slices.Contains(live, p.Cid) {
					out = append(out, p.Cid)
				}
			}
			return out
		}
		for deadline := time.Now().Add(30 * time.Second); len(stale()) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("device %d pins %v, no longer shared (shared: %v; the folders were %v)", i, stale(), shared(n), versions)
			}
		}
	}
	// A file deleted on one device is brought back on the other as it was
	// (kith get CID/video.mov): the folder is as the newest but one, which
	// is shared again as the newest, and the file is back on both.
	if err := os.Remove(filepath.Join(dirB, "video.mov")); err != nil {
		t.Fatal(err)
	}
	b.watcher.Kick()
	waitFor(t, time.Minute, "the deletion synced", func() bool {
		_, err := os.Stat(filepath.Join(dirA, "video.mov"))
		a.mirrors.Kick()
		return os.IsNotExist(err)
	})
	if _, err := a.Get(ctx, newest.String()+"/video.mov", filepath.Join(dirA, "video.mov"), nil, nil); err != nil {
		t.Fatal(err)
	}
	a.watcher.Kick()
	waitFor(t, time.Minute, "the file brought back on both, the version before its deletion the newest again", func() bool {
		a.mirrors.Kick()
		b.mirrors.Kick()
		in, ok := newestShare(groupOf(t, b, "family"), "Notes")
		return ok && in.Root == newest && folderCID(t, dirA) == newest.String() && folderCID(t, dirB) == newest.String()
	})
	for deadline := time.Now().Add(3 * testReleaseDelay); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if folderCID(t, dirA) != newest.String() || folderCID(t, dirB) != newest.String() {
			t.Fatal("the file brought back went again")
		}
	}

	// Nothing kept of them is read from the folders: they changed since.
	for _, n := range []*Node{a, b} {
		if refs, err := n.store.FileRefStats(ctx); err != nil || refs.Blocks+refs.Changed != 0 {
			t.Errorf("a repo keeps %+v blocks as where they are in files (%v), want none: the folder holds only the newest", refs, err)
		}
	}
}
