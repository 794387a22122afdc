package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEOneMachine runs README's "To try this on one machine" block
// as written, line by line, with the kith under test on PATH and the two
// repos in temporary folders: its shell (the ticket and the address taken
// out of --json with jq) must do what it says.
func TestREADMEOneMachine(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq is not installed (.ci/run installs it)")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "To try this on one machine")
	if ok {
		_, block, ok = strings.Cut(block, "```sh\n")
	}
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("README.md has no shell block after \"To try this on one machine\"")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello kith\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repos := strings.NewReplacer("/tmp/a", filepath.Join(dir, "a"), "/tmp/b", filepath.Join(dir, "b"))
	ran := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		line, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			continue // output shown in the block
		}
		line = repos.Replace(line)
		if strings.HasSuffix(line, "daemon --profile local &") {
			// A daemon the user leaves running: the harness starts it (and
			// ends it), as the line would.
			repo := strings.TrimPrefix(strings.Fields(line)[0], "KITH_PATH=")
			startDaemon(t, repo)
			continue
		}
		cmd := exec.Command("bash", "-eo", "pipefail", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(kithBin)+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README line %q: %v\n%s", line, err, out)
		}
		ran++
	}
	if ran < 2 {
		t.Fatalf("ran %d commands of the block:\n%s", ran, block)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "hello-copy.txt")); err != nil || string(got) != "hello kith\n" {
		t.Fatalf("hello-copy.txt: %q, %v", got, err)
	}
}
