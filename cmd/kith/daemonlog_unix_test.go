//go:build unix

package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonLogFile checks --log-file, which the Windows service uses: the
// daemon's log goes to the file, and a log grown too big is set aside.
func TestDaemonLogFile(t *testing.T) {
	repo := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "logs", "daemon.log")
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("an old line\n"), 1<<20) // 12 MiB: past the limit
	if err := os.WriteFile(logFile, big, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kithBin, "daemon", "--repo", repo, "--profile", "local", "--api", "127.0.0.1:0", "--log-file", logFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	read := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	waitFor(t, 60*time.Second, "the daemon to log that it is ready", func() bool {
		return strings.Contains(read(), "kith daemon ready")
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("daemon exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not stop within 60s")
	}
	log := read()
	if !strings.Contains(log, "repo="+repo) || !strings.Contains(log, "daemon stopped") || strings.Contains(log, "an old line") {
		t.Fatalf("log file:\n%s", log)
	}
	if strings.Contains(stderr.String(), "level=INFO") {
		t.Fatalf("the log went to stderr too:\n%s", stderr.String())
	}
	if old, err := os.ReadFile(logFile + ".old"); err != nil || len(old) != len(big) {
		t.Fatalf("old log: %v, %d bytes", err, len(old))
	}

	// A daemon that cannot start says why in the log.
	if out, err := exec.Command(kithBin, "daemon", "--repo", repo, "--profile", "nonsense", "--log-file", logFile).CombinedOutput(); err == nil {
		t.Fatalf("daemon started with an unknown profile: %s", out)
	}
	if !strings.Contains(read(), `msg="daemon did not start: unknown profile \"nonsense\"`) {
		t.Fatalf("log file lacks the failure:\n%s", read())
	}
}
