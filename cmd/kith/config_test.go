package main_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConfigCommands: `kith config` reads and changes a real repo's
// config.json, has the running daemon take a cap at once, says when it
// must be restarted for the rest, and the daemon runs with what it wrote.
func TestConfigCommands(t *testing.T) {
	repo := t.TempDir()
	d := startDaemon(t, repo)
	path := filepath.Join(repo, "config.json")

	if got := mustKith(t, repo, "config", "get", "api.address"); got != "127.0.0.1:0" {
		t.Fatalf("config get api.address = %q (the local profile's)", got)
	}
	var addrs []string
	if err := json.Unmarshal([]byte(mustKith(t, repo, "config", "get", "network.listen_addrs")), &addrs); err != nil || len(addrs) != 2 {
		t.Fatalf("config get of a list is not a JSON array: %v %q", err, addrs)
	}

	// While the daemon runs, set writes the file; a cap the daemon takes
	// at once, anything else at its next start.
	out := mustKith(t, repo, "config", "set", "fetch.upload_limit", "2MiB")
	if out != "fetch.upload_limit = 2097152\nthe running daemon uses it now" {
		t.Fatalf("config set of a cap printed:\n%s", out)
	}
	waitFor(t, 10*time.Second, "the daemon to log the setting applied", func() bool {
		return strings.Contains(mustKith(t, repo, "log"), `msg="setting applied" key=fetch.upload_limit`)
	})
	out = mustKith(t, repo, "config", "set", "network.mdns", "false")
	if !strings.Contains(out, "network.mdns = false") || !strings.Contains(out, "restart it (kith shutdown, then kith daemon) for this to take effect") {
		t.Fatalf("config set printed:\n%s", out)
	}
	var set struct {
		Key     string
		Value   json.RawMessage
		Applied bool
		Restart bool `json:"restart_needed"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "config", "set", "groups.grace", "45m")), &set); err != nil ||
		set.Key != "groups.grace" || string(set.Value) != `"45m0s"` || !set.Restart || set.Applied {
		t.Fatalf("config set --json: %+v %v", set, err)
	}
	set = struct {
		Key     string
		Value   json.RawMessage
		Applied bool
		Restart bool `json:"restart_needed"`
	}{}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "config", "unset", "fetch.download_limit")), &set); err != nil ||
		set.Key != "fetch.download_limit" || !set.Applied || set.Restart {
		t.Fatalf("config unset --json of a cap: %+v %v", set, err)
	}
	if got := mustKith(t, repo, "config", "get", "fetch.upload_limit"); got != "2097152" {
		t.Fatalf("config get after set = %q", got)
	}
	var shown struct {
		API   struct{ Address string }
		Fetch struct {
			UploadLimit int64 `json:"upload_limit"`
		}
	}
	show := mustKith(t, repo, "config", "show")
	if err := json.Unmarshal([]byte(show), &shown); err != nil || shown.Fetch.UploadLimit != 2097152 || !strings.Contains(show, "\n  \"api\": {") {
		t.Fatalf("config show (%v):\n%s", err, show)
	}
	if js := mustKith(t, repo, "--json", "config", "show"); strings.Contains(js, "\n") || !json.Valid([]byte(js)) {
		t.Fatalf("config show --json is not one line of JSON: %s", js)
	}

	// The file keeps what set did not touch, byte for byte where it can.
	before, _ := os.ReadFile(path)
	mustKith(t, repo, "config", "set", "network.conn_high", "120")
	after, _ := os.ReadFile(path)
	if strings.Replace(string(before), `"conn_high": 96`, `"conn_high": 120`, 1) != string(after) {
		t.Fatalf("config set changed more than its key:\n%s\n---\n%s", before, after)
	}

	// Stopped, set says nothing of a restart; the daemon then listens
	// where the config says (no --api flag this time).
	mustKith(t, repo, "shutdown")
	<-d.done
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiAddr := ln.Addr().String()
	ln.Close()
	out = mustKith(t, repo, "config", "set", "api.address", apiAddr)
	if strings.Contains(out, "restart") || out != "api.address = "+apiAddr {
		t.Fatalf("config set with no daemon printed %q", out)
	}
	cmd := exec.Command(kithBin, "daemon", "--repo", repo, "--profile", "local")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var id struct{ API string }
	waitFor(t, 60*time.Second, "the daemon on the configured API address", func() bool {
		stdout, _, err := runKith(t, repo, "--json", "id")
		return err == nil && json.Unmarshal([]byte(stdout), &id) == nil
	})
	if id.API != apiAddr {
		t.Fatalf("daemon API on %s, config says %s", id.API, apiAddr)
	}
	mustKith(t, repo, "config", "unset", "api.address")
	if got := mustKith(t, repo, "config", "get", "api.address"); got != "127.0.0.1:5091" {
		t.Fatalf("config unset api.address left %q", got)
	}
}

// TestDaemonLog: the daemon keeps its log in the repo; `kith log` prints
// its end whether or not the daemon runs, `kith log -f` follows it, and
// `kith doctor` names it.
func TestDaemonLog(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	logPath := filepath.Join(repo, "logs", "daemon.log")

	out := mustKith(t, repo, "log", "-n", "5")
	if !strings.Contains(out, `msg="kith daemon ready"`) || strings.Count(out, "\n") > 4 {
		t.Fatalf("kith log -n 5:\n%s", out)
	}
	var doc struct{ Log string }
	json.Unmarshal([]byte(mustKith(t, repo, "--json", "doctor")), &doc)
	if doc.Log != logPath {
		t.Fatalf("doctor names the log %q, want %q", doc.Log, logPath)
	}
	doctor := mustKith(t, repo, "doctor")
	if !strings.Contains(doctor, "log:            "+logPath) {
		t.Fatal("kith doctor does not name the log")
	}
	// A daemon of the local profile is said to stay on this machine, not
	// to sit behind a NAT with no address to give.
	if !strings.Contains(doctor, "reachability:   local (") || strings.Contains(doctor, "NAT:") {
		t.Errorf("kith doctor of a local daemon:\n%s", doctor)
	}
	if id := mustKith(t, repo, "id"); !strings.Contains(id, "reachability: this machine only (--profile local") || strings.Contains(id, "NAT") || strings.Contains(id, "none yet") {
		t.Errorf("kith id of a local daemon:\n%s", id)
	}

	// Follow: the last line first, then the shutdown's lines as they come.
	follow := exec.Command(kithBin, "--repo", repo, "log", "-f", "-n", "1")
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	var mu sync.Mutex
	var followed []string
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			followed = append(followed, sc.Text())
			mu.Unlock()
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(followed) }
	waitFor(t, 30*time.Second, "kith log -f to print the last line", func() bool { return count() >= 1 })
	mustKith(t, repo, "shutdown")
	waitFor(t, 60*time.Second, "kith log -f to show the daemon stopping", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(strings.Join(followed, "\n"), `msg="daemon stopped"`)
	})

	// With the daemon gone, the log is still there to read.
	if out := mustKith(t, repo, "log"); !strings.Contains(out, "kith daemon ready") || !strings.Contains(out, "daemon stopped") {
		t.Fatalf("kith log after shutdown:\n%s", out)
	}
	var line struct{ Line string }
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "log", "-n", "1")), &line); err != nil || !strings.Contains(line.Line, "daemon stopped") {
		t.Fatalf("kith --json log -n 1: %+v %v", line, err)
	}
}
