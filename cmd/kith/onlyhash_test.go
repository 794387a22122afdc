package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddOnlyHash: add --only-hash prints, with no daemon and no repo,
// the CID add gives: a file, a folder less what --exclude leaves out,
// paths wrapped as one folder, standard input.
func TestAddOnlyHash(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	dir := t.TempDir()
	for name, data := range map[string]string{"docs/a.txt": "a\n", "docs/sub/b.txt": "b\n", "docs/.kithignore": "*.tmp\n", "docs/c.tmp": "left out", "big.bin": strings.Repeat("kith", 700_000)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs, big := filepath.Join(dir, "docs"), filepath.Join(dir, "big.bin")
	cases := [][]string{
		{big},
		{"-r", docs, "--exclude", "sub"},
		{"-w", "both", big, filepath.Join(docs, "a.txt")},
	}
	stdin := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kithBin, append([]string{"--repo", repo, "add", "-q"}, args...)...)
		cmd.Stdin = strings.NewReader("from standard input\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("add %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	var hashed []string
	for _, args := range cases {
		hashed = append(hashed, mustKith(t, repo, append([]string{"add", "-q", "--only-hash"}, args...)...))
	}
	hashed = append(hashed, stdin("--only-hash", "-"))
	if out := mustKith(t, repo, "add", "--only-hash", big); !strings.HasSuffix(out, "big.bin (2.7 MiB): not added (--only-hash)") {
		t.Errorf("add --only-hash says %q", out)
	}
	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Fatalf("add --only-hash made a repo (or started a daemon): %v", err)
	}
	startDaemon(t, repo)
	for i, args := range cases {
		if added := lastLine(mustKith(t, repo, append([]string{"add", "-q"}, args...)...)); added != hashed[i] {
			t.Errorf("add %s: %s, --only-hash said %s", strings.Join(args, " "), added, hashed[i])
		}
	}
	if added := stdin("-"); added != hashed[len(cases)] {
		t.Errorf("add - : %s, --only-hash said %s", added, hashed[len(cases)])
	}
}
