package main_test

import (
	"crypto/rand"
	"encoding/json"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrashMidAdd kills the daemon with SIGKILL in the middle of a large add
// and checks the repo afterwards: it opens cleanly, no pin points at missing
// blocks, every stored block matches its CID, and gc removes the orphans.
func TestCrashMidAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 512 MiB file")
	}
	repo := t.TempDir()
	d := startDaemon(t, repo)
	kept := filepath.Join(t.TempDir(), "kept.bin")
	os.WriteFile(kept, randomBytes(2<<20), 0o644)
	keptCID := mustKith(t, repo, "add", "-q", kept)

	big := filepath.Join(t.TempDir(), "big.bin")
	writeRandomFile(t, big, 512<<20)
	add, events := startKithJSON(t, repo, "add", big)
	// Kill the daemon once a good part of the file has gone in.
	killed := awaitProgress(events, "", 64<<20)
	if killed {
		d.kill()
	}
	if !killed {
		t.Fatal("the add finished or failed before the daemon could be killed")
	}
	if err := add.Wait(); err == nil {
		t.Fatal("the add reported success although its daemon was killed")
	}

	startDaemon(t, repo)
	var pins []struct{ Cid string }
	json.Unmarshal([]byte(mustKith(t, repo, "--json", "pin", "ls")), &pins)
	if len(pins) != 1 || pins[0].Cid != keptCID {
		t.Fatalf("pins after crash: %+v, want only %s", pins, keptCID)
	}
	if v := mustKith(t, repo, "repo", "verify"); !strings.Contains(v, " 0 corrupt") {
		t.Fatalf("verify after crash: %s", v)
	}
	var gc struct{ Removed, Kept, Missing int }
	json.Unmarshal([]byte(lastLine(mustKith(t, repo, "--json", "gc"))), &gc)
	if gc.Removed == 0 || gc.Missing != 0 || gc.Kept != 4 {
		t.Fatalf("gc after crash: %+v (want orphans removed, the 3 blocks of the pinned file and the one of its mode and time kept)", gc)
	}
	if got := mustKith(t, repo, "cat", keptCID); len(got) == 0 {
		t.Fatal("pinned file unreadable after crash and gc")
	}
	// And the same add goes through on the restarted daemon.
	mustKith(t, repo, "add", "-q", big)
}

func writeRandomFile(t testing.TB, path string, size int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Every byte random, so every block is new: a file made of one random
	// MiB with a counter byte repeats itself every 256 MiB, and the store
	// keeps each block once (the 1 GiB benchmarks moved 256 MiB that way).
	var seed [32]byte
	rand.Read(seed[:])
	src := mrand.NewChaCha8(seed)
	buf := make([]byte, 1<<20)
	for written := 0; written < size; written += len(buf) {
		src.Read(buf)
		if _, err := f.Write(buf[:min(len(buf), size-written)]); err != nil {
			t.Fatal(err)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
