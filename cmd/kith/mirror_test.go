package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGetFollow: a laptop shares a folder with --watch; a second device
// gets it with --follow. Each change on the laptop reaches the second
// device's folder by itself; a file changed there is kept and named by
// kith mirror ls; kith mirror rm ends it, the files staying.
func TestGetFollow(t *testing.T) {
	config := strings.Replace(groupRepoConfig, `"sync_interval": "5s"`, `"sync_interval": "5s", "watch_interval": "300ms"`, 1)
	laptop, desk := familyOfTwo(t, config)
	dir, write := newFolder(t, "docs")
	write("plan.txt", "first plan\n")
	write("notes.txt", "notes\n")
	mustKith(t, laptop, "share", dir, "--copies", "1", "--watch")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "docs", "--follow"}, "--follow follows what a group shares under a name: give the name and --group"},
		{[]string{"get", "docs/plan.txt", "--group", "family", "--follow"}, "--follow follows a whole share: give its name (docs), not a path in it"},
	} {
		if _, stderr, err := runKith(t, desk, c.args...); err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("kith %s: %v: %s, want %q", strings.Join(c.args, " "), err, stderr, c.want)
		}
	}
	solo := filepath.Join(t.TempDir(), "solo.txt")
	if err := os.WriteFile(solo, []byte("one file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustKith(t, laptop, "share", solo, "--copies", "1")
	out := filepath.Join(t.TempDir(), "docs")
	waitFor(t, 30*time.Second, "the desk to see the shares", func() bool {
		_, _, err := runKith(t, desk, "ls", "docs", "--group", "family")
		_, _, err2 := runKith(t, desk, "cat", "solo.txt", "--group", "family")
		return err == nil && err2 == nil
	})
	// A file is not followed, and not written to be refused after.
	soloOut := filepath.Join(t.TempDir(), "solo.txt")
	if _, stderr, err := runKith(t, desk, "get", "solo.txt", "--group", "family", "-o", soloOut, "--follow"); err == nil || !strings.Contains(stderr, "solo.txt is a file, not a folder: only a folder is followed (get it without --follow)") {
		t.Errorf("get --follow of a file: %v: %s", err, stderr)
	}
	if _, err := os.Lstat(soloOut); !os.IsNotExist(err) {
		t.Errorf("get --follow of a file wrote it: %v", err)
	}
	got := mustKith(t, desk, "get", "docs", "--group", "family", "-o", out, "--follow")
	if !strings.Contains(got, "following: each newer version family shares as docs is written into "+out) {
		t.Fatalf("get --follow says:\n%s", got)
	}

	// A change on the laptop reaches the desk; the desk's own change stays.
	if err := os.WriteFile(filepath.Join(out, "notes.txt"), []byte("the desk's notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("plan.txt", "second plan, longer\n")
	write("notes.txt", "the laptop's notes\n")
	waitFor(t, 60*time.Second, "the laptop's change to reach the desk", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "plan.txt"))
		return string(b) == "second plan, longer\n"
	})
	if b, _ := os.ReadFile(filepath.Join(out, "notes.txt")); string(b) != "the desk's notes\n" {
		t.Errorf("notes.txt, changed on the desk, = %q", b)
	}
	// A script made on the laptop is executable on the desk too, and has
	// the laptop's time, as the folder's other files have.
	write("run.sh", "#!/bin/sh\necho hi\n")
	script := filepath.Join(dir, "run.sh")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the script to reach the desk executable, with its time", func() bool {
		src, err := os.Stat(script)
		got, err2 := os.Stat(filepath.Join(out, "run.sh"))
		plan, err3 := os.Stat(filepath.Join(dir, "plan.txt"))
		gotPlan, err4 := os.Stat(filepath.Join(out, "plan.txt"))
		return err == nil && err2 == nil && err3 == nil && err4 == nil && got.Mode().Perm() == 0o755 &&
			got.ModTime().Equal(src.ModTime()) && gotPlan.ModTime().Equal(plan.ModTime())
	})
	// So is the script got alone, by its path in the share.
	one := filepath.Join(t.TempDir(), "run.sh")
	if got := mustKith(t, desk, "get", "docs/run.sh", "--group", "family", "-o", one); !strings.Contains(got, "kept the sharer's modes and times (1 changed)") {
		t.Errorf("get of a shared file says:\n%s", got)
	}
	src, err := os.Stat(script)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.Stat(one); err != nil {
		t.Error(err)
	} else if got.Mode().Perm() != 0o755 || !got.ModTime().Equal(src.ModTime()) {
		t.Errorf("docs/run.sh got alone: %v %v, want 0755 %v", got.Mode(), got.ModTime(), src.ModTime())
	}
	ls := mustKith(t, desk, "mirror", "ls")
	for _, want := range []string{out, "family", "docs", out + ": changed here, kept as they are (delete one, or 'kith mirror revert' them all, to have the group's): notes.txt"} {
		if !strings.Contains(ls, want) {
			t.Errorf("mirror ls lacks %q:\n%s", want, ls)
		}
	}
	// What the updates wrote in, newest first (not the desk's own notes).
	changes := strings.Split(mustKith(t, desk, "mirror", "changes", out), "\n")
	if len(changes) != 3 || strings.Fields(changes[0])[0] != "WHEN" || !strings.Contains(changes[0], "BY") ||
		!strings.Contains(changes[1], "written  run.sh") || !strings.Contains(changes[2], "written  plan.txt") ||
		strings.Contains(changes[1], "this device") {
		t.Errorf("mirror changes %s:\n%s", out, strings.Join(changes, "\n"))
	}

	// A copy the desk already had (from before kith) follows as it is:
	// what differs from the group's is kept, what is missing written.
	had := filepath.Join(t.TempDir(), "had")
	if err := os.MkdirAll(had, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(had, "notes.txt"), []byte("an old copy of the notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustKith(t, desk, "mirror", "add", "docs", had, "--group", "family"); !strings.Contains(got, had+" follows family's docs: its newest version is being written in") {
		t.Errorf("mirror add says %q", got)
	}
	waitFor(t, 30*time.Second, "the copy the desk had to follow", func() bool {
		b, _ := os.ReadFile(filepath.Join(had, "plan.txt"))
		return string(b) == "second plan, longer\n"
	})
	waitFor(t, 10*time.Second, "mirror ls to name what was kept", func() bool {
		return strings.Contains(mustKith(t, desk, "mirror", "ls"), had+": changed here, kept as they are (delete one, or 'kith mirror revert' them all, to have the group's): notes.txt")
	})
	if b, _ := os.ReadFile(filepath.Join(had, "notes.txt")); string(b) != "an old copy of the notes\n" {
		t.Errorf("notes.txt of the copy the desk had = %q", b)
	}
	// Reverted: the group's notes over the old copy, at once.
	if got := mustKith(t, desk, "mirror", "revert", had); got != had+" holds family's docs again where it was changed here" {
		t.Errorf("mirror revert says %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(had, "notes.txt")); string(b) != "the laptop's notes\n" {
		t.Errorf("notes.txt after the revert = %q", b)
	}
	if ls := mustKith(t, desk, "mirror", "ls"); strings.Contains(ls, had+": changed here") {
		t.Errorf("mirror ls after the revert:\n%s", ls)
	}
	if _, stderr, err := runKith(t, desk, "mirror", "revert", filepath.Join(t.TempDir(), "nothing")); err == nil || !strings.Contains(stderr, "follows no group's share") {
		t.Errorf("revert of a folder that follows nothing: %v: %s", err, stderr)
	}
	// Selective: the scripts left out from now on; what the mirror wrote
	// of them goes, the rest stays; a get leaves them out too.
	if got := mustKith(t, desk, "mirror", "add", "docs", had, "--group", "family", "--exclude", "*.sh"); !strings.Contains(got, had+" follows family's docs, now leaving out *.sh: what kith wrote there and is now left out is removed") {
		t.Errorf("mirror add --exclude says %q", got)
	}
	waitFor(t, 30*time.Second, "the script to leave the folder that leaves it out", func() bool {
		_, err := os.Stat(filepath.Join(had, "run.sh"))
		return os.IsNotExist(err)
	})
	if b, _ := os.ReadFile(filepath.Join(had, "plan.txt")); string(b) != "second plan, longer\n" {
		t.Errorf("plan.txt after leaving out *.sh = %q", b)
	}
	if ls := mustKith(t, desk, "mirror", "ls"); !strings.Contains(ls, had+": leaves out *.sh") {
		t.Errorf("mirror ls lacks what %s leaves out:\n%s", had, ls)
	}
	sel := filepath.Join(t.TempDir(), "sel")
	if got := mustKith(t, desk, "get", "docs", "--group", "family", "-o", sel, "--exclude", "*.sh"); !strings.Contains(got, "left out: *.sh") {
		t.Errorf("get --exclude says %q", got)
	}
	if _, err := os.Stat(filepath.Join(sel, "run.sh")); !os.IsNotExist(err) {
		t.Errorf("get --exclude '*.sh' wrote run.sh: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sel, "plan.txt")); err != nil {
		t.Errorf("get --exclude '*.sh' left out plan.txt: %v", err)
	}
	mustKith(t, desk, "mirror", "rm", had)

	// Gone (a disk not mounted): kith status says so, and the folder is
	// not made again.
	away := out + ".away"
	if err := os.Rename(out, away); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "kith status to say the folder is gone", func() bool {
		return strings.Contains(mustKith(t, desk, "status"), "note: family: "+out+" is gone: family's newer versions of docs are written into it once it is back ('kith mirror rm "+out+"' stops) ('kith mirror ls' lists the folders that follow a share)")
	})
	if err := os.Rename(away, out); err != nil {
		t.Fatal(err)
	}

	if got := mustKith(t, desk, "mirror", "rm", out); got != out+" no longer follows family's docs: its files stay as they are" {
		t.Errorf("mirror rm says %q", got)
	}
	if got := mustKith(t, desk, "mirror", "ls"); !strings.HasPrefix(got, "no folder follows a group's share") {
		t.Errorf("mirror ls after rm:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(out, "plan.txt")); err != nil {
		t.Errorf("the files went with the mirror: %v", err)
	}
}

// BenchmarkFollowedChange: one laptop follows a folder of 10,000 files in
// 100 folders (share --watch, default settings, inotify); a second device
// follows its share (get --follow). One file is changed on the laptop, and
// the time is taken until the second device's folder holds the change:
// what a user waits for between two of their computers. Changes 11 s
// apart (looks asked for by events are at least 10 s apart).
func BenchmarkFollowedChange(b *testing.B) {
	laptop, desk := familyOfTwo(b, watchNotifyConfig(true, "1m"))
	dir := filepath.Join(b.TempDir(), "docs")
	manyFiles(b, dir, 10_000)
	mustKith(b, laptop, "share", dir, "--copies", "1", "--watch")
	waitFor(b, time.Minute, "the desk to see the share", func() bool {
		_, _, err := runKith(b, desk, "ls", "docs", "--group", "family")
		return err == nil
	})
	out := filepath.Join(b.TempDir(), "docs")
	mustKith(b, desk, "get", "docs", "--group", "family", "-o", out, "--follow")
	changed := filepath.Join("50", "5050.txt")
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		time.Sleep(11 * time.Second)
		b.StartTimer()
		body := fmt.Sprintf("change %d\n", i)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, changed), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		waitFor(b, 3*time.Minute, "the change to reach the desk", func() bool {
			got, _ := os.ReadFile(filepath.Join(out, changed))
			return string(got) == body
		})
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/change")
}

// familyOfTwo starts two daemons with config, the first creating the group
// family and the second joining it (the token on stdin, as users are told
// to pass it), and returns their repos.
func familyOfTwo(tb testing.TB, config string) (first, second string) {
	tb.Helper()
	first, second = tb.TempDir(), tb.TempDir()
	for _, r := range []string{first, second} {
		if err := os.WriteFile(filepath.Join(r, "config.json"), []byte(config), 0o600); err != nil {
			tb.Fatal(err)
		}
		startDaemon(tb, r)
	}
	var inv struct{ Token string }
	if err := json.Unmarshal([]byte(mustKith(tb, first, "--json", "group", "create", "family")), &inv); err != nil {
		tb.Fatal(err)
	}
	join := exec.Command(kithBin, "--repo", second, "group", "join", "-")
	join.Stdin = strings.NewReader(inv.Token + "\n")
	if out, err := join.CombinedOutput(); err != nil {
		tb.Fatalf("group join: %v: %s", err, out)
	}
	return first, second
}

// manyFiles writes n small files into dir, 100 to a folder ("05/512.txt").
func manyFiles(tb testing.TB, dir string, n int) {
	tb.Helper()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%02d", i/100), fmt.Sprintf("%d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
