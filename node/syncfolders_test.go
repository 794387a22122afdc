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

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// syncNode is a group node whose watched folders are looked at when
// notified or kicked, settling at once.
func syncNode(t *testing.T) *Node {
	t.Helper()
	return newNodeAt(t, t.TempDir(), syncConfig)
}

var syncConfig = groupConfig(1<<30, testTimings, func(c *Config) {
	c.Groups.WatchInterval = Duration(time.Hour)
	c.Groups.WatchSettle = Duration(10 * time.Millisecond)
})

// folderCID is the CID an add of dir would give (kith's own way of
// saying two folders hold the same); a folder being written (a file gone
// while it is read) gives a CID of its own, never another folder's.
func folderCID(t *testing.T, dir string) string {
	t.Helper()
	nd, err := dag.OpenPath(dir, dag.Exclusion{})
	if err == nil {
		var res dag.Result
		if res, err = dag.NewImporter(blockstore.NewMemStore()).Add(context.Background(), nd, nil); err == nil {
			return res.Root.String()
		}
	}
	return dir + " being written: " + err.Error()
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// TestSyncFolderBothWays: a folder shared to sync both ways on one device
// and got to sync on another: what changes on either is written on the
// other (a new file, a changed one, a deleted one), nothing else; where
// both changed a file before hearing of the other's change, both devices
// end with the same folder, one version of the file under its name and
// the other's beside it as a conflict copy: nothing is lost.
func TestSyncFolderBothWays(t *testing.T) {
	ctx := context.Background()
	a, b := syncNode(t), syncNode(t)
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Notes")
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("the plan\n"))
	writeBytes(t, filepath.Join(dirA, "todo.txt"), []byte("buy milk\n"))
	writeBytes(t, filepath.Join(dirA, "old.txt"), []byte("to be deleted\n"))
	// Large enough that its blocks are kept as where they are in the
	// folder's file (the folder is its own copy: blockstore.FileBlock).
	video := bytes.Repeat([]byte("frame "), 500_000)
	writeBytes(t, filepath.Join(dirA, "video.mov"), video)
	since := time.Now()
	v1 := shareCopies(t, a, dirA, 2)
	if _, err := a.GroupSync(ctx, "family", "Notes", dirA, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}

	dirB := filepath.Join(t.TempDir(), "notes-on-b")
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	since = time.Now()
	if _, err := b.Get(ctx, v1.String(), dirB, nil, nil); err != nil {
		t.Fatal(err)
	}
	m, err := b.GroupSync(ctx, "family", "Notes", dirB, v1.String(), 0, 0, since)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Sync || m.Cid != v1.String() {
		t.Fatalf("b's folder: %+v, want it syncing at %s", m, v1)
	}
	// In sync: the same folder on both devices.
	same := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for folderCID(t, dirA) != folderCID(t, dirB) {
			if time.Now().After(deadline) {
				for _, n := range []*Node{a, b} {
					ms, _ := n.GroupMirrors(ctx)
					ws, _ := n.GroupWatches(ctx)
					t.Logf("mirrors %+v\nwatches %+v", ms, ws)
				}
				t.Fatalf("timed out waiting for %s", what)
			}
			a.watcher.Kick()
			b.watcher.Kick()
			a.mirrors.Kick()
			b.mirrors.Kick()
			time.Sleep(50 * time.Millisecond)
		}
	}

	// A change on b reaches a; one on a reaches b.
	writeBytes(t, filepath.Join(dirB, "plan.txt"), []byte("the plan, revised on b\n"))
	writeBytes(t, filepath.Join(dirB, "new-on-b.txt"), []byte("from b\n"))
	b.watcher.Kick()
	same("b's change written on a")
	if got := readString(t, filepath.Join(dirA, "plan.txt")); got != "the plan, revised on b\n" {
		t.Fatalf("a's plan.txt = %q", got)
	}
	// A large file edited in the middle on b: a fetches what changed from
	// b's folder, where b's repo says its bytes are.
	copy(video[1<<20:], "a scene cut on b")
	writeBytes(t, filepath.Join(dirB, "video.mov"), video)
	b.watcher.Kick()
	same("b's edit of the video written on a")
	if got, err := os.ReadFile(filepath.Join(dirA, "video.mov")); err != nil || !bytes.Equal(got, video) {
		t.Fatalf("a's video.mov differs from b's edit (%v)", err)
	}
	if refs, err := b.store.FileRefStats(ctx); err != nil || refs.Bytes == 0 {
		t.Errorf("b's repo keeps %d bytes as where they are in its folder (%v): want the edited video's", refs.Bytes, err)
	}
	if err := os.Remove(filepath.Join(dirA, "old.txt")); err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(dirA, "todo.txt"), []byte("buy milk\nand bread\n"))
	a.watcher.Kick()
	same("a's change written on b")
	if _, err := os.Stat(filepath.Join(dirB, "old.txt")); !os.IsNotExist(err) {
		t.Fatalf("old.txt, deleted on a, is on b: %v", err)
	}
	if got := readString(t, filepath.Join(dirB, "todo.txt")); got != "buy milk\nand bread\n" {
		t.Fatalf("b's todo.txt = %q", got)
	}
	// Each device's recent changes name both sides' changes, newest
	// first, each by the device that made it.
	changes := func(n *Node) []string {
		var out []string
		for _, ch := range mirrorOf(t, n).Recent {
			by := ch.ByID
			if ch.Here {
				by = "here"
			}
			for _, x := range []*Node{a, b} {
				by = strings.ReplaceAll(by, x.host.ID().String(), map[*Node]string{a: "a", b: "b"}[x])
			}
			out = append(out, ch.What+" "+ch.Path+" by "+by)
		}
		return out
	}
	wantA := []string{"removed old.txt by here", "written todo.txt by here", "written video.mov by b", "written new-on-b.txt by b", "written plan.txt by b"}
	wantB := []string{"removed old.txt by a", "written todo.txt by a", "written video.mov by here", "written new-on-b.txt by here", "written plan.txt by here"}
	if got := changes(a); !slices.Equal(got, wantA) {
		t.Errorf("a's recent changes: %q, want %q", got, wantA)
	}
	if got := changes(b); !slices.Equal(got, wantB) {
		t.Errorf("b's recent changes: %q, want %q", got, wantB)
	}

	// Both change plan.txt, and each a file of its own, before either
	// hears of the other: shared at the same moment.
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("a's plan\n"))
	writeBytes(t, filepath.Join(dirA, "a-only.txt"), []byte("a\n"))
	writeBytes(t, filepath.Join(dirB, "plan.txt"), []byte("b's plan, longer\n"))
	writeBytes(t, filepath.Join(dirB, "b-only.txt"), []byte("b\n"))
	a.watcher.Kick()
	b.watcher.Kick()
	same("the concurrent changes merged on both")
	ents, err := os.ReadDir(dirA)
	if err != nil {
		t.Fatal(err)
	}
	var plans []string
	for _, e := range ents {
		if e.Name() == "plan.txt" || strings.HasPrefix(e.Name(), "plan.sync-conflict-") {
			plans = append(plans, readString(t, filepath.Join(dirA, e.Name())))
		}
	}
	if len(plans) != 2 || !(plans[0] == "a's plan\n" && plans[1] == "b's plan, longer\n" || plans[1] == "a's plan\n" && plans[0] == "b's plan, longer\n") {
		t.Errorf("plan.txt and its conflict copies hold %q, want a's and b's", plans)
	}
	for _, f := range []string{"a-only.txt", "b-only.txt", "new-on-b.txt", "todo.txt"} {
		if _, err := os.Stat(filepath.Join(dirA, f)); err != nil {
			t.Errorf("%s lost: %v", f, err)
		}
	}
	ms, err := b.GroupMirrors(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("b's mirrors: %+v, %v", ms, err)
	}
	t.Logf("conflicts: a %v, b %v", mirrorOf(t, a).Conflicts, ms[0].Conflicts)

	// The group keeps one version of the name: the newest.
	waitFor(t, 20*time.Second, "one version of Notes shared", func() bool {
		n := 0
		sts, err := a.GroupStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			if st.Name == "Notes" {
				n++
			}
		}
		return n == 1
	})

	// Stopping: the folder no longer follows nor is shared as it changes.
	if _, err := b.GroupUnmirror(ctx, dirB); err != nil {
		t.Fatal(err)
	}
	if ws, _ := b.GroupWatches(ctx); len(ws) != 0 {
		t.Errorf("b still watches %+v", ws)
	}
}

func mirrorOf(t *testing.T, n *Node) api.GroupMirror {
	t.Helper()
	ms, err := n.GroupMirrors(context.Background())
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors: %+v, %v", ms, err)
	}
	return ms[0]
}

// TestSyncFolderThreeDevices: three devices change the same folder at
// once, each its own file and one file all three: they end with the same
// folder, every change in it (two of the three changes to the shared file
// as conflict copies), and the group keeps one version.
func TestSyncFolderThreeDevices(t *testing.T) {
	ctx := context.Background()
	nodes := []*Node{syncNode(t), syncNode(t), syncNode(t)}
	formGroup(t, nodes, "family")
	dirs := make([]string, len(nodes))
	dirs[0] = filepath.Join(t.TempDir(), "Notes")
	writeBytes(t, filepath.Join(dirs[0], "plan.txt"), []byte("the plan\n"))
	since := time.Now()
	v1 := shareCopies(t, nodes[0], dirs[0], 2)
	if _, err := nodes[0].GroupSync(ctx, "family", "Notes", dirs[0], v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes[1:] {
		waitFor(t, 20*time.Second, "the share seen", func() bool { _, err := n.GroupStatus(ctx, v1); return err == nil })
		dirs[i+1] = filepath.Join(t.TempDir(), "Notes")
		since := time.Now()
		if _, err := n.Get(ctx, v1.String(), dirs[i+1], nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := n.GroupSync(ctx, "family", "Notes", dirs[i+1], v1.String(), 0, 0, since); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range dirs {
		writeBytes(t, filepath.Join(d, "plan.txt"), []byte(strings.Repeat("x", i+1)+" plan\n"))
		writeBytes(t, filepath.Join(d, "own"+string(rune('a'+i))+".txt"), []byte("mine\n"))
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		a, b, c := folderCID(t, dirs[0]), folderCID(t, dirs[1]), folderCID(t, dirs[2])
		if a == b && b == c {
			break
		}
		if time.Now().After(deadline) {
			for i, d := range dirs {
				ents, _ := os.ReadDir(d)
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Logf("device %d: %v", i, names)
			}
			t.Fatal("the three folders never became the same")
		}
		for _, n := range nodes {
			n.watcher.Kick()
			n.mirrors.Kick()
		}
		time.Sleep(50 * time.Millisecond)
	}
	ents, err := os.ReadDir(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	plans := map[string]bool{}
	for _, e := range ents {
		if e.Name() == "plan.txt" || strings.HasPrefix(e.Name(), "plan.sync-conflict-") {
			plans[readString(t, filepath.Join(dirs[0], e.Name()))] = true
		}
	}
	for i := range dirs {
		if !plans[strings.Repeat("x", i+1)+" plan\n"] {
			t.Errorf("device %d's change to plan.txt is lost: %d versions of it kept", i, len(plans))
		}
		if _, err := os.Stat(filepath.Join(dirs[0], "own"+string(rune('a'+i))+".txt")); err != nil {
			t.Errorf("device %d's own file lost: %v", i, err)
		}
	}
	if len(plans) != 3 {
		t.Errorf("plan.txt kept in %d versions, want 3 (one under its name, two beside it): %v", len(plans), plans)
	}
	if t.Failed() {
		for _, e := range ents {
			t.Logf("%s: %q", e.Name(), readString(t, filepath.Join(dirs[0], e.Name())))
		}
	}
}

// TestSyncWithAWatchedShare: a folder shared with --watch only (one way)
// on one device, synced on another: each version the watch shares is
// written in as it is, no conflict copy made of what only it changed.
func TestSyncWithAWatchedShare(t *testing.T) {
	ctx := context.Background()
	a, b := syncNode(t), syncNode(t)
	formGroup(t, []*Node{a, b}, "family")
	dirA := filepath.Join(t.TempDir(), "Notes")
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("the plan\n"))
	since := time.Now()
	v1 := shareCopies(t, a, dirA, 2)
	if _, err := a.GroupWatch(ctx, "family", dirA, api.WatchOptions{Copies: 2, Cid: v1.String(), Since: since}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	dirB := filepath.Join(t.TempDir(), "Notes")
	since = time.Now()
	if _, err := b.Get(ctx, v1.String(), dirB, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupSync(ctx, "family", "Notes", dirB, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(dirA, "plan.txt"), []byte("the plan, changed on a\n"))
	waitFor(t, 60*time.Second, "a's change written on b", func() bool {
		a.watcher.Kick()
		b.mirrors.Kick()
		return readString(t, filepath.Join(dirB, "plan.txt")) == "the plan, changed on a\n"
	})
	if m := mirrorOf(t, b); len(m.Conflicts) != 0 {
		t.Errorf("conflict copies of what only a changed: %v", m.Conflicts)
	}
}
