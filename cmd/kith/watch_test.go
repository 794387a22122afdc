package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	out := mustKith(t, repo, "share", dir, "--copies", "1", "--watch", "--exclude", "*.swp")
	if !strings.Contains(out, "watching "+dir+": when it changes, family keeps the new version") {
		t.Fatalf("share --watch says:\n%s", out)
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
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "pin", "ls")), &pins); err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.Cid == v1 && !p.Replica {
			t.Errorf("the earlier version %s is still pinned as the user's", v1)
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

	// A change while the daemon is stopped is shared when it starts.
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	write("notes.txt", "written while the daemon was stopped\n")
	startDaemon(t, repo)
	v3 := followed(v2)

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
	mustKith(t, repo, "group", "leave", "family")
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
