package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// complete runs `kith __complete args...` (what the shell's completion
// script runs at each TAB) and returns the words offered, their
// descriptions, and the directive's number.
func complete(t *testing.T, repo string, args ...string) (words []string, about map[string]string, directive string) {
	t.Helper()
	out := mustKith(t, repo, append([]string{"__complete"}, args...)...)
	lines := strings.Split(out, "\n")
	directive = lines[len(lines)-1]
	about = map[string]string{}
	for _, l := range lines[:len(lines)-1] {
		w, a, _ := strings.Cut(l, "\t")
		words = append(words, w)
		about[w] = a
	}
	slices.Sort(words)
	return words, about, directive
}

// TestCompletion: TAB completes what only the daemon knows (pins and the
// paths inside them, groups, shares, watched and mirrored folders), by
// asking the running daemon; with no daemon it offers nothing and starts
// none.
func TestCompletion(t *testing.T) {
	repo := t.TempDir()
	if words, _, dir := complete(t, repo, "get", ""); len(words) != 0 || dir != ":4" {
		t.Fatalf("with no daemon, get offers %q (directive %s), want nothing and no file names", words, dir)
	}
	if _, err := os.Stat(filepath.Join(repo, "config.json")); !os.IsNotExist(err) {
		t.Fatalf("completing with no daemon made a repo (or started a daemon): %v", err)
	}
	startDaemon(t, repo)
	dir := t.TempDir()
	holiday := filepath.Join(dir, "holiday")
	for path, data := range map[string]string{"day 3.txt": "x", "day-1/notes.txt": "hi\n", "day-1/photo.jpg": "jpeg", "day-2/a": "a"} {
		p := filepath.Join(holiday, path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "a.txt"), []byte("a"), 0o644)
	file := filepath.Join(dir, "f.bin")
	os.WriteFile(file, randomBytes(3000), 0o644)
	mustKith(t, repo, "add", "-r", holiday, "--name", "holiday-2026")
	mustKith(t, repo, "add", file)
	mustKith(t, repo, "group", "create", "family")
	mustKith(t, repo, "share", docs, "--copies", "1", "--watch")
	mirrored := filepath.Join(dir, "mirrored")
	mustKith(t, repo, "mirror", "add", "docs", mirrored)

	for _, tc := range []struct {
		args      []string
		want      []string
		directive string // :4 no file names; :6 and no space (a folder: go on inside it); :16 folders
	}{
		{[]string{"get", ""}, []string{"docs", "f.bin", "holiday-2026"}, ":4"},
		{[]string{"get", "ho"}, []string{"holiday-2026"}, ":4"},
		{[]string{"cat", "holiday-2026/day-1/"}, []string{"holiday-2026/day-1/notes.txt", "holiday-2026/day-1/photo.jpg"}, ":4"},
		{[]string{"ls", "holiday-2026/d"}, []string{"holiday-2026/day 3.txt", "holiday-2026/day-1/", "holiday-2026/day-2/"}, ":6"},
		{[]string{"get", "Holiday-2026/day-2/"}, []string{"Holiday-2026/day-2/a"}, ":4"}, // a pin's name but for case, as get takes it
		{[]string{"get", "nothing/"}, nil, ":4"},
		{[]string{"get", "holiday-2026", ""}, nil, ":4"}, // get takes one argument
		{[]string{"ls", "--group", "family", ""}, []string{"docs"}, ":4"},
		{[]string{"get", "--group", "family", "docs/"}, []string{"docs/a.txt"}, ":4"},
		{[]string{"pin", "rm", "f"}, []string{"f.bin"}, ":4"},
		{[]string{"share", file, "--group", ""}, []string{"family"}, ":4"},
		{[]string{"group", "leave", ""}, []string{"family"}, ":4"},
		{[]string{"watch", "rm", ""}, []string{docs}, ":4"},
		{[]string{"mirror", "rm", ""}, []string{mirrored}, ":4"},
		{[]string{"watch", "changes", ""}, []string{docs, mirrored}, ":4"}, // pause, resume, changes: either
		{[]string{"mirror", "pause", ""}, []string{docs, mirrored}, ":4"},
		{[]string{"mirror", "add", ""}, []string{"docs"}, ":4"},
		{[]string{"mirror", "add", "docs", ""}, nil, ":16"}, // a folder of this machine: the shell's
	} {
		words, about, directive := complete(t, repo, tc.args...)
		if !slices.Equal(words, tc.want) || directive != tc.directive {
			t.Errorf("kith %s<TAB> offers %q (directive %s), want %q (%s)", strings.Join(tc.args, " "), words, directive, tc.want, tc.directive)
		}
		for w, a := range about {
			if a == "" {
				t.Errorf("kith %s<TAB>: %s has no description", strings.Join(tc.args, " "), w)
			}
		}
	}
	if _, about, _ := complete(t, repo, "get", "f"); about["f.bin"] != "2.9 KiB" {
		t.Errorf("f.bin is described as %q, want its size", about["f.bin"])
	}
	if _, about, _ := complete(t, repo, "group", "leave", ""); about["family"] != "1 member" {
		t.Errorf("family is described as %q, want its members", about["family"])
	}

	// group remove GROUP MEMBER: the other members, by name where the name
	// is the member's alone (both devices have this machine's name at
	// first, and remove refuses a name two members have), else by ID.
	other := t.TempDir()
	startDaemon(t, other)
	var id struct {
		PeerID string `json:"peer_id"`
	}
	json.Unmarshal([]byte(mustKith(t, other, "--json", "id")), &id)
	join := exec.Command(kithBin, "--repo", other, "group", "join", "-")
	join.Stdin = strings.NewReader(lastLine(mustKith(t, repo, "group", "invite", "family")) + "\n")
	if out, err := join.CombinedOutput(); err != nil {
		t.Fatalf("group join: %v: %s", err, out)
	}
	offers := func(want string) func() bool {
		return func() bool {
			words, _, _ := complete(t, repo, "group", "remove", "family", "")
			return slices.Equal(words, []string{want})
		}
	}
	waitFor(t, time.Minute, "group remove to offer the other device by ID", offers(id.PeerID))
	mustKith(t, other, "group", "rename-me", "phone")
	waitFor(t, time.Minute, "group remove to offer the other device by its new name", offers("phone"))
}
