package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// watchRepoConfig is the local profile looking at watched folders every
// 300 ms (the daemon then waits 2 s for a changed folder to settle).
const watchRepoConfig = `{
  "api": {"address": "127.0.0.1:0"},
  "network": {"listen_addrs": ["/ip4/127.0.0.1/tcp/0"], "bootstrap": [], "mdns": false, "port_mapping": false,
    "autonat": false, "hole_punching": false, "relay_client": false},
  "dht": {"mode": "server"},
  "groups": {"watch_interval": "300ms", "release_delay": "1s"}
}`

// TestShareWatch: `kith share --watch` shares a folder and follows it: a
// change is shared in place of the version before (which is no longer
// shared, nor pinned as the user's), also when it happened while the
// daemon was stopped; `kith watch ls` lists the watch, with what went
// wrong when the folder is gone; `kith watch rm` stops following it and
// leaves the share; unsharing the share, or leaving the group, ends its
// watch.
func TestShareWatch(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchRepoConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, repo)
	mustKith(t, repo, "group", "create", "family")
	dir, write := newFolder(t, "docs")
	write("plan.txt", "first plan\n")
	// A socket in the folder (an editor's server) holds no content: it is
	// left out, named, and the folder is shared and followed all the same.
	sock := filepath.Join(dir, "editor.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, errOut, err := runKith(t, repo, "share", dir, "--copies", "1", "--watch", "--exclude", "*.swp")
	if err != nil || !strings.Contains(out, "watching "+dir+": when it changes, family keeps the new version") {
		t.Fatalf("share --watch: %v, says:\n%s%s", err, out, errOut)
	}
	if want := "left out 1 special file (sockets, named pipes and devices hold no content):\n  " + sock + " (socket)\n"; !strings.Contains(errOut, want) {
		t.Errorf("share --watch of a folder with a socket says on stderr:\n%s\nwant:\n%s", errOut, want)
	}
	v1 := strings.Fields(out)[1]
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, dir) || !strings.Contains(out, v1) || !strings.Contains(out, "family") {
		t.Fatalf("watch ls:\n%s", out)
	}

	// followed waits until the group shares one version of the folder
	// other than old, and no other, and returns it.
	followed := func(old string) string {
		t.Helper()
		var now string
		waitFor(t, 30*time.Second, "the group to share the folder's new version", func() bool {
			cids := strings.Fields(sharedCIDs(t, repo))
			if len(cids) != 1 || cids[0] == old {
				return false
			}
			now = cids[0]
			return true
		})
		return now
	}
	write("plan.txt", "second plan, longer\n")
	write(".plan.txt.swp", "editor swap file") // excluded
	v2 := followed(v1)
	var pins []struct {
		Cid     string `json:"cid"`
		Replica bool   `json:"replica"`
		Private bool   `json:"private"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "pin", "ls")), &pins); err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.Cid == v1 && !p.Replica {
			t.Errorf("the earlier version %s is still pinned as the user's", v1)
		}
		// What a group keeps is not announced in the public DHT, the
		// version the watch shared included.
		if p.Cid == v2 && !p.Replica && !p.Private {
			t.Errorf("the version the watch shared, %s, is pinned to be announced in the DHT", v2)
		}
	}
	got := filepath.Join(t.TempDir(), "got")
	mustKith(t, repo, "get", v2, "-o", got)
	if b, err := os.ReadFile(filepath.Join(got, "plan.txt")); err != nil || string(b) != "second plan, longer\n" {
		t.Fatalf("the new version holds plan.txt = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(got, ".plan.txt.swp")); !os.IsNotExist(err) {
		t.Fatalf("the new version holds the excluded swap file: %v", err)
	}
	// A .kithignore written in the folder leaves out what it names from
	// the next version on (and is shared itself, as a .gitignore is).
	write(".kithignore", "# the editor's cache\n/cache/\n")
	if err := os.Mkdir(filepath.Join(dir, "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("cache/index.db", "an index")
	v2 = followed(v2)
	got = filepath.Join(t.TempDir(), "got-ignore")
	mustKith(t, repo, "get", v2, "-o", got)
	if _, err := os.Stat(filepath.Join(got, "cache")); !os.IsNotExist(err) {
		t.Errorf("the version holds cache/, which .kithignore leaves out: %v", err)
	}
	if _, err := os.Stat(filepath.Join(got, ".kithignore")); err != nil {
		t.Errorf("the version lacks .kithignore: %v", err)
	}

	// A change while the daemon is stopped is shared when it starts.
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	write("notes.txt", "written while the daemon was stopped\n")
	startDaemon(t, repo)
	v3 := followed(v2)
	// What each share sent out, newest first, made here.
	changes := strings.Split(mustKith(t, repo, "watch", "changes", dir), "\n")
	if len(changes) != 4 || !strings.Contains(changes[0], "BY") {
		t.Fatalf("watch changes %s:\n%s", dir, strings.Join(changes, "\n"))
	}
	for i, want := range []string{"written  notes.txt", "written  .kithignore", "written  plan.txt"} {
		if row := changes[i+1]; !strings.Contains(row, want) || !strings.Contains(row, "this device") {
			t.Errorf("watch changes row %d is %q, want %q by this device", i+1, row, want)
		}
	}

	// Paused, across a restart too: watch ls says so (and resume finds
	// what changed meanwhile at once).
	if out := mustKith(t, repo, "watch", "pause", dir); out != "paused "+dir+": what changes there is not shared in family until 'kith watch resume "+dir+"'" {
		t.Fatalf("watch pause says %q", out)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, repo)
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, dir+": paused: what changes there is not shared until 'kith watch resume "+dir+"'") {
		t.Fatalf("watch ls of a paused folder:\n%s", out)
	}
	write("paused.txt", "written while paused\n")
	if _, stderr, err := runKith(t, repo, "mirror", "pause", filepath.Join(dir, "nothing")); err == nil || !strings.Contains(stderr, "neither follows a group's share nor is shared as it changes") {
		t.Fatalf("pause of a folder neither followed nor watched: %v, %s", err, stderr)
	}
	if _, stderr, err := runKith(t, repo, "watch", "resume"); err == nil || !strings.Contains(stderr, "give the folder to resume, or --all for every folder") {
		t.Fatalf("resume of no folder: %v, %s", err, stderr)
	}
	if out := mustKith(t, repo, "watch", "resume", "--all"); out != "resumed "+dir+": what changed there is shared in family from now on" {
		t.Fatalf("watch resume --all says %q", out)
	}
	v3 = followed(v3)

	// The folder gone: the watch says so and the share stays.
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "watch ls to say the folder is gone", func() bool {
		return strings.Contains(mustKith(t, repo, "watch", "ls"), "\nfamily: "+dir+" is gone (moved or deleted?)")
	})
	if got := sharedCIDs(t, repo); got != v3 {
		t.Fatalf("with the folder gone the group shares %q, want %s", got, v3)
	}
	if out := mustKith(t, repo, "status"); !strings.Contains(out, "\nnote: family: "+dir+" is gone (moved or deleted?)") {
		t.Errorf("kith status does not say the followed folder is gone:\n%s", out)
	}

	// Shared again from where it moved, the folder is followed there, and
	// the watch of the folder gone ends.
	out = mustKith(t, repo, "share", moved, "--copies", "1", "--watch", "--exclude", "*.swp")
	if !strings.Contains(out, "no longer watching "+dir+", which is gone: the folder moved to "+moved) {
		t.Fatalf("share --watch of the moved folder says:\n%s", out)
	}
	var ws []struct {
		Path string `json:"path"`
		Cid  string `json:"cid"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "watch", "ls")), &ws); err != nil || len(ws) != 1 || ws[0].Path != moved || ws[0].Cid != v3 {
		t.Fatalf("after the move the watches are %+v (%v), want %s alone, at %s", ws, err, moved, v3)
	}

	out = mustKith(t, repo, "watch", "rm", moved)
	if !strings.Contains(out, "no longer watching "+moved+" in family: "+v3+" stays shared") {
		t.Fatalf("watch rm says:\n%s", out)
	}
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, "no folder is watched") {
		t.Fatalf("watch ls after rm:\n%s", out)
	}
	if _, stderr, err := runKith(t, repo, "watch", "rm", dir); err == nil || !strings.Contains(stderr, dir+" is not watched (`kith watch ls` lists what is)") {
		t.Fatalf("watch rm of a folder not watched: %v: %s", err, stderr)
	}
	if got := sharedCIDs(t, repo); got != v3 {
		t.Fatalf("after watch rm the group shares %q, want %s", got, v3)
	}

	// Unsharing what a watch follows ends the watch: it would share the
	// folder again at its next change.
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	v4 := strings.Fields(mustKith(t, repo, "share", dir, "--copies", "1", "--watch", "--exclude", "*.swp"))[1]
	mustKith(t, repo, "unshare", v4, "--group", "family")
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, "no folder is watched") {
		t.Fatalf("watch ls after unsharing the watched share:\n%s", out)
	}
	// So does leaving the group. (--json says the watch too.)
	var shared struct {
		Cid   string `json:"cid"`
		Watch struct {
			Path string `json:"path"`
		} `json:"watch"`
	}
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, repo, "--json", "share", dir, "--copies", "1", "--watch"))), &shared); err != nil || shared.Watch.Path != dir {
		t.Fatalf("share --watch --json: %+v, %v", shared, err)
	}
	if out := mustKith(t, repo, "group", "leave", "family"); !strings.Contains(out, "left group family\n"+dir+" is no longer shared in family as it changes: it stays as it is") {
		t.Errorf("group leave says:\n%s", out)
	}
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, "no folder is watched") {
		t.Fatalf("watch ls after leaving the group:\n%s", out)
	}
}

// newFolder makes an empty folder called name and returns it with a
// function that writes a file in it.
func newFolder(t *testing.T, name string) (dir string, write func(name, body string)) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// watchNotifyConfig is the local profile looking at watched folders only
// every hour (or as the system reports changes, with watch_notify).
func watchNotifyConfig(notify bool, interval string) string {
	return fmt.Sprintf(`{
  "api": {"address": "127.0.0.1:0"},
  "network": {"listen_addrs": ["/ip4/127.0.0.1/tcp/0"], "bootstrap": [], "mdns": false, "port_mapping": false,
    "autonat": false, "hole_punching": false, "relay_client": false},
  "dht": {"mode": "server"},
  "groups": {"watch_interval": %q, "watch_notify": %t}
}`, interval, notify)
}

// watchedCID is the version the only watch of repo shares now.
func watchedCID(tb testing.TB, repo string) string {
	tb.Helper()
	var ws []struct {
		Cid string `json:"cid"`
	}
	if err := json.Unmarshal([]byte(mustKith(tb, repo, "--json", "watch", "ls")), &ws); err != nil || len(ws) != 1 {
		tb.Fatalf("watch ls: %+v, %v; want one watch", ws, err)
	}
	return ws[0].Cid
}

// TestShareWatchNotified: with the interval an hour away, a change to a
// watched folder (here inside a folder made after the share) is shared
// within seconds: the system reported it (Linux).
func TestShareWatchNotified(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("changes are reported by the system on Linux only; elsewhere the interval finds them")
	}
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchNotifyConfig(true, "1h")), 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, repo)
	mustKith(t, repo, "group", "create", "family")
	dir, write := newFolder(t, "docs")
	write("plan.txt", "first plan\n")
	mustKith(t, repo, "share", dir, "--copies", "1", "--watch")
	v1 := watchedCID(t, repo)
	if err := os.Mkdir(filepath.Join(dir, "2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("2026/march.txt", "march\n")
	var v2 string
	waitFor(t, 30*time.Second, "the change to be shared", func() bool {
		v2 = watchedCID(t, repo)
		return v2 != v1
	})
	got := filepath.Join(t.TempDir(), "got")
	mustKith(t, repo, "get", v2, "-o", got)
	waitFor(t, 30*time.Second, "the version with 2026/march.txt", func() bool {
		if b, err := os.ReadFile(filepath.Join(got, "2026", "march.txt")); err == nil && string(b) == "march\n" {
			return true
		}
		// Shared when 2026 was made, before march.txt: the next one.
		if v := watchedCID(t, repo); v != v2 {
			v2 = v
			os.RemoveAll(got)
			mustKith(t, repo, "get", v2, "-o", got)
		}
		return false
	})
}

// BenchmarkWatchedChange: from a one-line change in a watched folder of
// 1,000 files to its new version shared (`kith watch ls` shows it), with
// the default interval (1 min) and the system's reports on or off; the
// changes 11 s apart.
func BenchmarkWatchedChange(b *testing.B) {
	for _, notify := range []bool{true, false} {
		name := "notified"
		if !notify {
			name = "interval-1m"
		}
		b.Run(name, func(b *testing.B) {
			repo := b.TempDir()
			if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchNotifyConfig(notify, "1m")), 0o600); err != nil {
				b.Fatal(err)
			}
			startDaemon(b, repo)
			mustKith(b, repo, "group", "create", "family")
			dir := filepath.Join(b.TempDir(), "docs")
			manyFiles(b, dir, 1000)
			mustKith(b, repo, "share", dir, "--copies", "1", "--watch")
			var total time.Duration
			b.ResetTimer()
			for i := range b.N {
				// Changes a user makes minutes apart, not back to back: a
				// folder is looked at, by event, at most every 10 s.
				b.StopTimer()
				time.Sleep(11 * time.Second)
				b.StartTimer()
				before := watchedCID(b, repo)
				start := time.Now()
				f, err := os.OpenFile(filepath.Join(dir, "05", "512.txt"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				fmt.Fprintf(f, "change %d\n", i)
				f.Close()
				waitFor(b, 3*time.Minute, "the change to be shared", func() bool { return watchedCID(b, repo) != before })
				total += time.Since(start)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/change")
		})
	}
}

// TestShareWatchKeep: `kith share --watch --keep 1` has the group keep the
// version before the current one too; `kith watch ls` lists it, `kith get
// NAME --group` gets the newest and notes the other; --keep without
// --watch is refused.
func TestShareWatchKeep(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchNotifyConfig(runtime.GOOS == "linux", "2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, repo)
	mustKith(t, repo, "group", "create", "family")
	dir, write := newFolder(t, "docs")
	write("plan.txt", "first plan\n")
	if _, stderr, err := runKith(t, repo, "share", dir, "--keep", "2"); err == nil || !strings.Contains(stderr, "--keep is for a followed folder: add --watch") {
		t.Fatalf("share --keep without --watch: %v: %s", err, stderr)
	}
	out := mustKith(t, repo, "share", dir, "--copies", "1", "--watch", "--keep", "1")
	if !strings.Contains(out, "family keeps the new version and the 1 version before it") {
		t.Fatalf("share --watch --keep 1 says:\n%s", out)
	}
	v1 := watchedCID(t, repo)
	write("plan.txt", "second plan, longer\n")
	var v2 string
	waitFor(t, 30*time.Second, "the change to be shared", func() bool { v2 = watchedCID(t, repo); return v2 != v1 })
	if got, want := sharedCIDs(t, repo), strings.Join(sortedStrings(v1, v2), " "); got != want {
		t.Fatalf("the group shares %s, want both versions %s", got, want)
	}
	if out := mustKith(t, repo, "watch", "ls"); !strings.Contains(out, "family keeps 1 earlier version of "+dir+" (of at most 1; 'kith get CID' brings one back), newest first:\n  "+v1) {
		t.Errorf("watch ls:\n%s", out)
	}
	// kith status lists both, newest first, with when each was shared.
	var lines []string
	for _, l := range strings.Split(mustKith(t, repo, "status"), "\n") {
		if strings.HasPrefix(l, "docs ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.HasSuffix(lines[0], v2) || !strings.HasSuffix(lines[1], v1) || !strings.Contains(lines[1], " ago ") {
		t.Errorf("kith status lists the versions as %q, want %s then %s, each with when it was shared", lines, v2, v1)
	}
	got := filepath.Join(t.TempDir(), "got")
	_, stderr, err := runKith(t, repo, "get", "docs", "--group", "family", "-o", got)
	if err != nil || !strings.Contains(stderr, "family keeps 2 versions of docs: this is the newest") || !strings.Contains(stderr, v1) {
		t.Fatalf("get docs --group family: %v: %s", err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(got, "plan.txt")); err != nil || string(b) != "second plan, longer\n" {
		t.Errorf("get of the newest wrote plan.txt = %q, %v", b, err)
	}

	// Unshared by its name, every version goes, and the folder is no
	// longer followed.
	if _, stderr, err := runKith(t, repo, "unshare", "doc"); err == nil || !strings.Contains(stderr, "doc is neither a CID, a ticket nor a name your groups share something as") {
		t.Errorf("unshare of a name nothing is shared as: %v: %s", err, stderr)
	}
	out = mustKith(t, repo, "unshare", "docs")
	if want := "unshared docs in family (2 versions: " + v2 + ", " + v1 + "): your own pin stays"; !strings.HasPrefix(out, want) {
		t.Errorf("unshare docs says:\n%s\nwant:\n%s...", out, want)
	}
	if cids := sharedCIDs(t, repo); cids != "" {
		t.Errorf("after unshare docs, the group shares %s", cids)
	}
	if out := mustKith(t, repo, "--json", "watch", "ls"); out != "[]" {
		t.Errorf("after unshare docs, watch ls: %s", out)
	}
}
