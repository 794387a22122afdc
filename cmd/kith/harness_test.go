package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kithBin is the kith binary built once for these tests.
var kithBin string

func TestMain(m *testing.M) {
	if dir := os.Getenv(fakeBrowserEnv); dir != "" {
		os.Exit(fakeBrowser(dir))
	}
	dir, err := os.MkdirTemp("", "kith-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kithBin = filepath.Join(dir, "kith")
	// Tests run the daemon with the race detector; benchmarks measure the
	// binary users run.
	args := []string{"build", "-race", "-o", kithBin, "."}
	if benchmarking() {
		args = []string{"build", "-o", kithBin, "."}
	}
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build kith:", err)
		os.Exit(1)
	}
	// A binary built with -race sleeps 1 s before it exits (so that other
	// goroutines can report races), which every CLI command of these tests
	// paid; 50 ms is enough for a report in flight.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=50")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// benchmarking reports whether this run measures benchmarks (-bench given,
// in any of the flag package's spellings).
func benchmarking() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

// daemon is a real `kith daemon` process on its own repo.
type daemon struct {
	t    testing.TB
	repo string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
	err  error
}

// startDaemon runs `kith daemon` on repo (created if empty, with the local
// profile) with the API on a free loopback port and waits until it answers.
func startDaemon(t testing.TB, repo string) *daemon {
	t.Helper()
	return startDaemonWith(t, repo, nil)
}

// startDaemonWith is startDaemon with prep, if not nil, readying the
// command before it starts (to run it as another user, say).
func startDaemonWith(t testing.TB, repo string, prep func(*exec.Cmd)) *daemon {
	t.Helper()
	d := &daemon{t: t, repo: repo, log: &bytes.Buffer{}, done: make(chan struct{})}
	// The local profile keeps the daemon on 127.0.0.1: no mDNS multicast,
	// no router port mapping, random ports.
	d.cmd = exec.Command(kithBin, "daemon", "--repo", repo, "--profile", "local", "--api", "127.0.0.1:0")
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if prep != nil {
		prep(d.cmd)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			t.Logf("daemon log (%s):\n%s", repo, d.log.String())
		}
	})
	waitFor(t, 60*time.Second, "daemon to answer", func() bool {
		select {
		case <-d.done:
			t.Fatalf("daemon exited early: %v\n%s", d.err, d.log.String())
		default:
		}
		_, _, err := runKith(t, repo, "id")
		return err == nil
	})
	return d
}

// kill ends the daemon with SIGKILL (a crash) and waits for it.
func (d *daemon) kill() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (d *daemon) stop() error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.err
	case <-time.After(60 * time.Second):
		d.t.Fatal("daemon did not stop within 60s of SIGTERM")
		return nil
	}
}

// runKith runs one CLI command against repo and returns stdout and stderr.
func runKith(t testing.TB, repo string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kithBin, append([]string{"--repo", repo}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// mustKith runs a command that must succeed and returns its trimmed stdout.
func mustKith(t testing.TB, repo string, args ...string) string {
	t.Helper()
	out, errOut, err := runKith(t, repo, args...)
	if err != nil {
		t.Fatalf("kith %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return strings.TrimSpace(out)
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startKithJSON starts a `kith --json` command against repo whose progress
// events the test watches; it is killed at cleanup if still running.
func startKithJSON(t testing.TB, repo string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(kithBin, append([]string{"--repo", repo, "--json"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(stdout)
}

// awaitProgress reads events until a progress event of phase (any phase if
// empty) reports at least bytes; false if the stream ended first.
func awaitProgress(sc *bufio.Scanner, phase string, bytes int64) bool {
	for sc.Scan() {
		var ev struct {
			Type, Phase string
			Bytes       int64
		}
		json.Unmarshal(sc.Bytes(), &ev)
		if ev.Type == "progress" && (phase == "" || ev.Phase == phase) && ev.Bytes >= bytes {
			return true
		}
	}
	return false
}

// skipOrFail skips outside CI and fails in CI, where every test must run.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
