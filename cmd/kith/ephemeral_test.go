package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGetStartsItsOwnDaemon: a friend's kith get TICKET (or cat) with no
// daemon running starts one for the get and stops it after, cleanly (its
// log says so, the API file is gone): when the get ends, when it is
// interrupted (and the next get resumes), and when the get is killed.
func TestGetStartsItsOwnDaemon(t *testing.T) {
	seed, repo := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	// The getter's repo, made with the local profile, then no daemon.
	getter := startDaemon(t, repo)
	if err := getter.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runKith(t, repo, "shutdown") }) // if a test step left one
	src := filepath.Join(t.TempDir(), "holiday.bin")
	writeRandomFile(t, src, 8<<20)
	var res struct{ Cid, Ticket string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", src))), &res); err != nil {
		t.Fatal(err)
	}
	count := 0 // the daemon's clean stops with its command, so far
	stoppedCleanly := func(t *testing.T, what string) {
		t.Helper()
		waitFor(t, 30*time.Second, "the daemon started for the get to stop, "+what, func() bool {
			_, err := os.Stat(filepath.Join(repo, "api"))
			return os.IsNotExist(err)
		})
		if _, stderr, err := runKith(t, repo, "id"); err == nil || !strings.Contains(stderr, "no kith daemon is running") {
			t.Fatalf("a daemon still answers %s: %v %s", what, err, stderr)
		}
		logged, _ := os.ReadFile(filepath.Join(repo, "logs", "daemon.log"))
		if n := strings.Count(string(logged), "the command this daemon was started for ended: shutting down"); n != count+1 {
			t.Fatalf("%s: the daemon's log says %d times that it stopped with its command, want %d:\n%s", what, n, count+1, logged)
		}
		count++
	}

	t.Run("a get", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "holiday.bin")
		stdout, stderr, err := runKith(t, repo, "get", res.Ticket, "-o", out)
		if err != nil || !strings.Contains(stderr, "starting one for this get") || !strings.Contains(stdout, "saved "+res.Cid) {
			t.Fatalf("get with no daemon: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
		}
		sameFile(t, out, src)
		stoppedCleanly(t, "after the get")
	})

	t.Run("a cat", func(t *testing.T) {
		stdout, stderr, err := runKith(t, repo, "cat", res.Ticket)
		if err != nil || !strings.Contains(stderr, "starting one for this cat") {
			t.Fatalf("cat with no daemon: %v\nstderr: %s", err, stderr)
		}
		if want, _ := os.ReadFile(src); stdout != string(want) {
			t.Fatalf("cat wrote %d bytes that differ from the %d shared", len(stdout), len(want))
		}
		stoppedCleanly(t, "after the cat")
	})

	// Slowed down, so that it is still running when it is stopped.
	mustKith(t, repo, "config", "set", "fetch.download_limit", "256KiB")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "holiday.bin")
			get := exec.Command(kithBin, "--repo", repo, "--json", "get", res.Ticket, "-o", out)
			pipe, err := get.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			get.Stderr = &stderr
			if err := get.Start(); err != nil {
				t.Fatal(err)
			}
			events := bufio.NewScanner(pipe)
			if !awaitProgress(events, "fetch", 1) {
				t.Fatalf("the get ended before its first bytes: %s", stderr.String())
			}
			get.Process.Signal(sig)
			for events.Scan() { // the rest, before Wait
			}
			if err := get.Wait(); err == nil {
				t.Fatalf("the get exited 0 after %s", sig)
			}
			if sig == syscall.SIGINT && !strings.Contains(stderr.String(), "run the same command to resume") {
				t.Fatalf("the interrupted get said %q", stderr.String())
			}
			stoppedCleanly(t, "after "+sig.String())
		})
	}

	t.Run("the next get resumes", func(t *testing.T) {
		mustKith(t, repo, "config", "set", "fetch.download_limit", "0")
		out := filepath.Join(t.TempDir(), "holiday.bin")
		if got := mustKith(t, repo, "get", res.Ticket, "-o", out); !strings.Contains(got, "saved "+res.Cid) {
			t.Fatalf("get: %s", got)
		}
		sameFile(t, out, src)
		stoppedCleanly(t, "after the last get")
	})

	t.Run("one that cannot start says why", func(t *testing.T) {
		cfg := filepath.Join(repo, "config.json")
		good, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(cfg, good, 0o600)
		os.WriteFile(cfg, []byte("{ not json"), 0o600)
		_, stderr, err := runKith(t, repo, "get", res.Ticket, "-o", filepath.Join(t.TempDir(), "x"))
		if err == nil || !strings.Contains(stderr, "the kith daemon started for this get stopped: config "+cfg+" is not valid JSON") {
			t.Fatalf("get with a broken config: %v: %s", err, stderr)
		}
	})
}

func sameFile(t *testing.T, got, want string) {
	t.Helper()
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s: %d bytes that differ from the %d shared", got, len(a), len(b))
	}
}

// TestRepoCommandsStartTheirOwnDaemon: as Kubo's do, add, pin ls, cat of
// a pin's name, export, import, repo stat and gc work with no daemon
// running: each starts one and stops it after. Those that only read or
// change the repo run it off the network (127.0.0.1 only); add does not
// (its ticket names the addresses peers reach), and says that peers can
// fetch what it added only while a daemon runs. With no repo, nothing is
// made to say that there is nothing.
func TestRepoCommandsStartTheirOwnDaemon(t *testing.T) {
	repo := t.TempDir()
	if err := startDaemon(t, repo).stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runKith(t, repo, "shutdown") })
	// One setting off the local profile, harmless on 127.0.0.1 with no
	// bootstrap peers: a daemon run off the network says so in its log.
	mustKith(t, repo, "config", "set", "network.hole_punching", "true")
	dir := t.TempDir()
	src := filepath.Join(dir, "notes.txt")
	os.WriteFile(src, []byte("written with no daemon\n"), 0o644)
	car := filepath.Join(dir, "notes.car")
	offline := 0
	for _, tc := range []struct {
		what    string // as the command names itself
		args    []string
		offline bool
		stdout  string
	}{
		{"pin ls", []string{"pin", "ls"}, true, "nothing is pinned: 'kith add PATH' adds a file or folder and pins it"},
		{"add", []string{"add", src}, false, "added "},
		{"pin ls", []string{"pin", "ls"}, true, "notes.txt"},
		{"cat", []string{"cat", "notes.txt"}, true, "written with no daemon\n"},
		{"export", []string{"export", "notes.txt", "-o", car}, true, ""},
		{"import", []string{"import", car, "--name", "again"}, false, "imported and pinned"},
		{"repo stat", []string{"repo", "stat"}, true, "blocks:"},
		{"gc", []string{"gc"}, true, ""},
	} {
		what := tc.what
		stdout, stderr, err := runKith(t, repo, tc.args...)
		if err != nil || !strings.Contains(stderr, "no kith daemon is running: starting one for this "+what+" ") || !strings.Contains(stdout, tc.stdout) {
			t.Fatalf("%s with no daemon: %v\nstdout: %s\nstderr: %s", what, err, stdout, stderr)
		}
		if note := "peers can fetch it only while a kith daemon runs"; (what == "add") != strings.Contains(stderr, note) {
			t.Errorf("%s says %q, want the note %q on add only", what, stderr, note)
		}
		waitFor(t, 30*time.Second, "the daemon started for "+what+" to stop", func() bool {
			_, err := os.Stat(filepath.Join(repo, "api"))
			return os.IsNotExist(err)
		})
		if tc.offline {
			offline++
		}
		logged, _ := os.ReadFile(filepath.Join(repo, "logs", "daemon.log"))
		if n := strings.Count(string(logged), "profile local applies to this run"); n != offline {
			t.Fatalf("after %s, %d of the daemons started ran off the network, want %d", what, n, offline)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	if _, stderr, err := runKith(t, none, "pin", "ls"); err == nil || !strings.Contains(stderr, "no kith daemon is running (start it with `kith daemon`)") {
		t.Fatalf("pin ls of no repo: %v, %s", err, stderr)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Fatalf("pin ls of no repo made one: %v", err)
	}
}

// TestDaemonStartedForAGetServesAnotherToItsEnd: a second get, run while a
// daemon started for the first one is up, uses that daemon; when the
// first get ends, the daemon waits for the second to finish before it
// stops, rather than cut it off.
func TestDaemonStartedForAGetServesAnotherToItsEnd(t *testing.T) {
	seed, repo := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	if err := startDaemon(t, repo).stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runKith(t, repo, "shutdown") })
	mustKith(t, repo, "config", "set", "fetch.download_limit", "2MiB") // both gets last seconds
	dir := t.TempDir()
	ticket := func(name string, size int) (string, string) {
		p := filepath.Join(dir, name)
		writeRandomFile(t, p, size)
		var res struct{ Ticket string }
		if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", p))), &res); err != nil {
			t.Fatal(err)
		}
		return p, res.Ticket
	}
	_, first := ticket("first.bin", 4<<20)
	second, secondTicket := ticket("second.bin", 12<<20)

	firstGet := exec.Command(kithBin, "--repo", repo, "get", first, "-o", filepath.Join(t.TempDir(), "first.bin"))
	var firstErr bytes.Buffer
	firstGet.Stderr = &firstErr
	if err := firstGet.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the daemon started for the first get to answer", func() bool {
		_, _, err := runKith(t, repo, "id")
		return err == nil
	})
	out := filepath.Join(t.TempDir(), "second.bin")
	stdout, stderr, err := runKith(t, repo, "get", secondTicket, "-o", out)
	if err != nil || strings.Contains(stderr, "starting one") {
		t.Fatalf("the second get: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	sameFile(t, out, second)
	if err := firstGet.Wait(); err != nil || !strings.Contains(firstErr.String(), "starting one for this get") {
		t.Fatalf("the first get: %v: %s", err, firstErr.String())
	}
	waitFor(t, time.Minute, "the daemon to stop", func() bool {
		_, err := os.Stat(filepath.Join(repo, "api"))
		return os.IsNotExist(err)
	})
	if logged, _ := os.ReadFile(filepath.Join(repo, "logs", "daemon.log")); !strings.Contains(string(logged), "another still uses it: stopping once it is done") {
		t.Fatalf("the daemon's log does not say it waited for the second get:\n%s", logged)
	}
}
