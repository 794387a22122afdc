package main_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddNoCopy: kith add --nocopy keeps where a large file's bytes are
// instead of a copy (repo stat says so), reads them back from the file;
// once the file is written again with one block's bytes changed, that
// block is not served (the others, the same bytes at the same places, are
// still read from it), and repo verify names it, drops it and calls the
// pin incomplete.
// Standard input has no file to point at: refused.
func TestAddNoCopy(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	film := filepath.Join(t.TempDir(), "film.mp4")
	body := make([]byte, 3<<20)
	rand.Read(body)
	if err := os.WriteFile(film, body, 0o644); err != nil {
		t.Fatal(err)
	}
	c := mustKith(t, repo, "add", "-q", "--nocopy", film)
	if st := mustKith(t, repo, "repo", "stat"); !strings.Contains(st, "in files: 3.0 MiB in 1 file, read from there, not copied") {
		t.Errorf("repo stat after add --nocopy:\n%s", st)
	}
	out := filepath.Join(t.TempDir(), "back.mp4")
	mustKith(t, repo, "get", c, "-o", out)
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("get after add --nocopy wrote other bytes (%v)", err)
	}

	copy(body[1<<20+5:], "changed")
	if err := os.WriteFile(film, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, _, err := runKith(t, repo, "cat", c); err == nil || strings.Contains(stdout, "changed") {
		t.Errorf("cat after the file changed: err %v; want it refused, never the new bytes", err)
	}
	stdout, _, err := runKith(t, repo, "repo", "verify")
	if err == nil || !strings.Contains(stdout, "changed: ") || !strings.Contains(stdout, "1 changed in their files") || !strings.Contains(stdout, "incomplete pin: "+c) {
		t.Errorf("repo verify after the file changed (%v):\n%s", err, stdout)
	}

	_, stderr, err := runKith(t, repo, "add", "--nocopy", "-")
	if err == nil || !strings.Contains(stderr, "standard input has none") {
		t.Errorf("add --nocopy -: %v, %q", err, stderr)
	}
}
