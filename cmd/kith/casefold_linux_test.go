package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore/fstest"
)

// TestGetOntoACaseInsensitiveDisk: a folder shared from a file system
// that tells names apart by case, got onto one that does not (exFAT, as
// macOS's and Windows'): the get writes the rest, lists what it could not
// write and why, and fails (a script must not take the folder for whole);
// what it names is got elsewhere with the command it prints. The times a
// ticket carries go to the file written, never the other name's.
func TestGetOntoACaseInsensitiveDisk(t *testing.T) {
	stick := fstest.ExFAT(t)
	repo := t.TempDir()
	startDaemon(t, repo)
	src := filepath.Join(t.TempDir(), "notes")
	upper, lower := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2021, 7, 9, 8, 30, 0, 0, time.UTC)
	fstest.WriteFiles(t, src, map[string]string{"README.md": "UPPER", "readme.md": "lower", "SUB/b.txt": "b", "sub/a.txt": "a", "keep/c.txt": "c", "keep/10:30 call.txt": "notes"})
	os.Chtimes(filepath.Join(src, "README.md"), upper, upper)
	os.Chtimes(filepath.Join(src, "readme.md"), lower, lower)
	if err := os.Symlink("../README.md", filepath.Join(src, "keep", "link")); err != nil {
		t.Fatal(err)
	}
	var added struct{ Cid, Ticket string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, repo, "--json", "add", "-r", src))), &added); err != nil || added.Ticket == "" {
		t.Fatalf("add: %v", err)
	}

	got := filepath.Join(stick, "notes")
	stdout, stderr, err := runKith(t, repo, "get", added.Ticket, "-o", got)
	if err == nil {
		t.Fatalf("a get that left entries out exited 0:\n%s", stdout)
	}
	for _, want := range []string{
		"saved " + added.Cid + " to " + got,
		"not written (4): this file system cannot hold them beside the rest\n" +
			"  keep/10:30 call.txt: this file system does not take the name (FAT, exFAT and Windows take none with \" * : < > ? \\ |)\n" +
			"  keep/link: the symbolic link could not be made: function not implemented\n" +
			"  readme.md: names differ only in case: README.md is there already, and this file system does not tell them apart\n" +
			"  sub: names differ only in case: SUB is there already, and this file system does not tell them apart\n" +
			"get one elsewhere (another name, another disk): kith get '" + added.Cid + "/keep/10:30 call.txt' -o PATH\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("get's output lacks\n%s\nin\n%s", want, stdout)
		}
	}
	if want := "kith: saved " + added.Cid + " to " + got + " without 4 of its entries (listed above)\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	for name, body := range map[string]string{"README.md": "UPPER", "SUB/b.txt": "b", "keep/c.txt": "c"} {
		if b, err := os.ReadFile(filepath.Join(got, filepath.FromSlash(name))); err != nil || string(b) != body {
			t.Errorf("%s holds %q (%v), want %q", name, b, err, body)
		}
	}
	if st, err := os.Stat(filepath.Join(got, "README.md")); err != nil || !st.ModTime().Equal(upper) {
		t.Errorf("README.md's time: %v (%v), want its own %v, not readme.md's", st.ModTime(), err, upper)
	}
	if _, err := os.Lstat(filepath.Join(got, "SUB", "a.txt")); err == nil {
		t.Error("sub/a.txt was written into SUB")
	}

	// What it names, got on its own under another name.
	mustKith(t, repo, "get", added.Cid+"/readme.md", "-o", filepath.Join(stick, "readme-lower.md"))
	if b, _ := os.ReadFile(filepath.Join(stick, "readme-lower.md")); string(b) != "lower" {
		t.Errorf("readme.md got alone holds %q", b)
	}

	// A file given a name the disk does not take: said, with the way out.
	_, stderr, err = runKith(t, repo, "get", added.Cid+"/readme.md", "-o", filepath.Join(stick, "10:30 call.txt"))
	if want := "kith: " + filepath.Join(stick, "10:30 call.txt") +
		`: this file system does not take the name (FAT, exFAT and Windows take none with " * : < > ? \ |): save it under another name` + "\n"; err == nil || stderr != want {
		t.Errorf("get to a name exFAT does not take: %v\n%q, want\n%q", err, stderr, want)
	}

	// --json: the result with what was not written, then the error.
	stdout, _, err = runKith(t, repo, "--json", "get", added.Cid, "-o", filepath.Join(stick, "again"))
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var res struct {
		NotWritten []struct{ Path, Kind, Why string } `json:"not_written"`
	}
	var last struct{ Type, Error, Kind string }
	if err == nil || len(lines) < 2 || json.Unmarshal([]byte(lines[len(lines)-2]), &res) != nil ||
		json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil || last.Type != "error" || last.Kind != "conflict" {
		t.Errorf("--json get: %v\n%s", err, stdout)
	}
	var kinds []string
	for _, l := range res.NotWritten {
		kinds = append(kinds, l.Path+" "+l.Kind)
	}
	if want := "keep/10:30 call.txt name, keep/link link, readme.md case, sub case"; strings.Join(kinds, ", ") != want {
		t.Errorf("--json get: not written %q, want %q", strings.Join(kinds, ", "), want)
	}
}

// TestGetSyncOntoACaseInsensitiveDisk: a folder that syncs must hold
// every entry, or its next version would remove on every device what
// this file system could not hold: get --sync writes the rest, says so,
// and does not sync; the device that shared it keeps both names.
func TestGetSyncOntoACaseInsensitiveDisk(t *testing.T) {
	stick := fstest.ExFAT(t)
	laptop, desk := familyOfTwo(t, groupRepoConfig)
	dir, write := newFolder(t, "notes")
	write("plan.txt", "plan\n")
	write("Plan.txt", "other plan\n")
	mustKith(t, laptop, "share", dir, "--copies", "2", "--sync")
	waitFor(t, 30*time.Second, "the desk to see the share", func() bool {
		_, _, err := runKith(t, desk, "ls", "notes", "--group", "family")
		return err == nil
	})
	out := filepath.Join(stick, "notes")
	stdout, stderr, err := runKith(t, desk, "get", "notes", "--group", "family", "-o", out, "--sync")
	if err == nil || !strings.Contains(stdout, "  plan.txt: names differ only in case: Plan.txt is there already") ||
		!strings.Contains(stderr, "but it does not sync with family: a folder that syncs must hold every entry, and this file system cannot hold 1 of them") {
		t.Fatalf("get --sync onto exFAT: %v\n%s%s", err, stdout, stderr)
	}
	if ls := mustKith(t, desk, "mirror", "ls"); strings.Contains(ls, out) {
		t.Errorf("the folder follows the share:\n%s", ls)
	}
	if b, err := os.ReadFile(filepath.Join(out, "Plan.txt")); err != nil || string(b) != "other plan\n" {
		t.Errorf("Plan.txt holds %q (%v)", b, err)
	}
}
