package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyncBothWays: `kith share --sync --keep 1` on one device, `kith get
// --sync` on another: a change on either is written on the other, a
// deletion too; `kith mirror ls` and `kith watch ls` say the folder syncs,
// and the desk keeps the earlier version as the laptop asked (`kith
// status`: the newest and the one before); --exclude is refused with the
// way that works; `kith mirror rm` stops both directions.
func TestSyncBothWays(t *testing.T) {
	config := strings.Replace(groupRepoConfig, `"sync_interval": "5s"`, `"sync_interval": "5s", "watch_interval": "300ms"`, 1)
	laptop, desk := familyOfTwo(t, config)
	dir, write := newFolder(t, "notes")
	write("plan.txt", "first plan\n")
	write("old.txt", "old\n")

	if _, stderr, err := runKith(t, laptop, "share", dir, "--sync", "--exclude", "*.tmp"); err == nil || !strings.Contains(stderr, "in a .kithignore file at the top of the folder") {
		t.Errorf("share --sync --exclude: %v: %s", err, stderr)
	}
	got := mustKith(t, laptop, "share", dir, "--copies", "2", "--sync", "--keep", "1")
	if !strings.Contains(got, "syncing "+dir+" both ways with family's notes") || !strings.Contains(got, "family keeps 1 earlier version too") {
		t.Fatalf("share --sync says:\n%s", got)
	}
	waitFor(t, 30*time.Second, "the desk to see the share", func() bool {
		_, _, err := runKith(t, desk, "ls", "notes", "--group", "family")
		return err == nil
	})
	out := filepath.Join(t.TempDir(), "desk-notes")
	if _, stderr, err := runKith(t, desk, "get", "notes", "--group", "family", "-o", out, "--keep", "1"); err == nil || !strings.Contains(stderr, "--keep is for --sync") {
		t.Errorf("get --keep without --sync: %v: %s", err, stderr)
	}
	got = mustKith(t, desk, "get", "notes", "--group", "family", "-o", out, "--sync")
	if !strings.Contains(got, "syncing "+out+" both ways with family's notes") || !strings.Contains(got, "family keeps 1 earlier version too") {
		t.Fatalf("get --sync says:\n%s", got)
	}
	if ls := mustKith(t, desk, "mirror", "ls"); !strings.Contains(ls, out+": syncs both ways: what changes here is shared too; family keeps 1 earlier version too") {
		t.Errorf("mirror ls:\n%s", ls)
	}
	if ls := mustKith(t, desk, "watch", "ls"); !strings.Contains(ls, out+": syncs both ways") {
		t.Errorf("watch ls:\n%s", ls)
	}

	// The desk changes plan.txt; the laptop deletes old.txt.
	if err := os.WriteFile(filepath.Join(out, "plan.txt"), []byte("the desk's plan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the desk's change to reach the laptop", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "plan.txt"))
		return string(b) == "the desk's plan\n"
	})
	if err := os.Remove(filepath.Join(dir, "old.txt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the laptop's deletion to reach the desk", func() bool {
		_, err := os.Stat(filepath.Join(out, "old.txt"))
		return os.IsNotExist(err)
	})
	// What goes wrong sharing a synced folder is said by mirror ls too:
	// a file whose name no other system could write back is refused.
	bad := filepath.Join(out, `back\slash.txt`)
	if err := os.WriteFile(bad, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "mirror ls to say why the desk's folder is not shared", func() bool {
		return strings.Contains(mustKith(t, desk, "mirror", "ls"), out+": add desk-notes: ")
	})
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	// The group shares the newest and the one before it (the desk's
	// change), not the first.
	waitFor(t, 30*time.Second, "two versions of notes, the newest and the one before", func() bool {
		st := mustKith(t, desk, "status")
		return strings.Count(st, "notes ") == 2
	})

	got = mustKith(t, desk, "mirror", "rm", out)
	if !strings.Contains(got, out+" no longer syncs with family's notes, either way") {
		t.Errorf("mirror rm says %q", got)
	}
	if ls := mustKith(t, desk, "watch", "ls"); !strings.Contains(ls, "no folder is watched") {
		t.Errorf("after mirror rm (it said %q), watch ls:\n%s", got, ls)
	}
	if ls := mustKith(t, desk, "mirror", "ls"); strings.Contains(ls, out) {
		t.Errorf("after mirror rm, mirror ls:\n%s", ls)
	}
}
