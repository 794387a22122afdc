package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDaemonStopsWhenItsStoreCannotWrite: a daemon whose block store can
// no longer write (its folder removed; a full disk does the same) still
// stops when asked: at once on a second signal, as Ctrl-C twice does, and
// on a first one within the store's close bound, saying why in its log.
func TestDaemonStopsWhenItsStoreCannotWrite(t *testing.T) {
	for _, twice := range []bool{true, false} {
		repo := t.TempDir()
		d := startDaemon(t, repo)
		f := filepath.Join(t.TempDir(), "a.txt")
		if err := os.WriteFile(f, []byte("written before the store's folder went\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		mustKith(t, repo, "add", f) // what the store writes at its close
		if err := os.RemoveAll(filepath.Join(repo, "blocks")); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		daemonLog := func() []byte {
			b, _ := os.ReadFile(filepath.Join(repo, "logs", "daemon.log"))
			return b
		}
		if twice {
			waitFor(t, 10*time.Second, "the daemon to start stopping", func() bool {
				return bytes.Contains(daemonLog(), []byte("signal received, shutting down (a second Ctrl-C stops it at once)"))
			})
			if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-d.done:
			case <-time.After(20 * time.Second):
				t.Fatal("a second signal did not stop the daemon")
			}
			continue
		}
		select {
		case <-d.done:
		case <-time.After(2 * time.Minute):
			t.Fatal("the daemon did not stop within two minutes of a signal")
		}
		if d.err == nil {
			t.Error("the daemon exited 0 though its store could not write")
		}
		if !bytes.Contains(daemonLog(), []byte("the block store did not finish writing within 30s (is the disk full, or its folder gone?)")) {
			t.Errorf("the daemon's log does not say why it stopped so:\n%s", daemonLog())
		}
	}
}
