package dag

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/kith-p2p/kith/blockstore"
)

// TestExclusion: a pattern without a slash is a name matched at any
// depth; one with a slash a path from the top (** standing for any
// folders); a trailing slash, folders only.
func TestExclusion(t *testing.T) {
	tests := []struct {
		patterns []string
		out      []string // paths left out (a trailing / marks a folder)
		in       []string // paths kept
		bad      bool
	}{
		{patterns: nil, in: []string{".hidden", ".git/", "a.txt", "node_modules/"}},
		{patterns: []string{".git", "node_modules", "*.tmp"},
			out: []string{".git/", ".git", "node_modules/", "x.tmp", ".tmp", "a/b/.git/", "src/x.tmp"},
			in:  []string{".gitignore", "a.txt", "tmp", ".hidden", "a.tmp.txt", "x.tmp/y"}},
		{patterns: []string{"build/"}, out: []string{"build/", "a/build/"}, in: []string{"build", "builds/", "a/build"}},
		{patterns: []string{"photo?.jpg", "[Tt]humbs.db"}, out: []string{"photo1.jpg", "Thumbs.db", "thumbs.db"}, in: []string{"photo12.jpg", "THUMBS.db"}},
		{patterns: []string{"file (1).txt", "a+b"}, out: []string{"file (1).txt", "a+b"}, in: []string{"file 1.txt", "aab"}},
		// Paths, from the top.
		{patterns: []string{"/build"}, out: []string{"build", "build/"}, in: []string{"a/build/", "builds/", "a/build"}},
		{patterns: []string{"/Raw/"}, out: []string{"Raw/"}, in: []string{"Raw", "2024/Raw/"}},
		{patterns: []string{"docs/drafts"}, out: []string{"docs/drafts/", "docs/drafts"}, in: []string{"drafts/", "a/docs/drafts/", "docs/drafts2/", "docs/"}},
		{patterns: []string{"Photos/*/Raw/"}, out: []string{"Photos/2024/Raw/", "Photos/x/Raw/"}, in: []string{"Photos/Raw/", "Photos/2024/a/Raw/", "Photos/2024/Raw"}},
		{patterns: []string{"**/cache/"}, out: []string{"cache/", "a/cache/", "a/b/c/cache/"}, in: []string{"cache", "a/cache", "a/caches/"}},
		{patterns: []string{"a/**/b"}, out: []string{"a/b", "a/x/b", "a/x/y/b/"}, in: []string{"b", "x/a/b", "a/b/c"}},
		{patterns: []string{"logs/**"}, out: []string{"logs/x", "logs/a/b/"}, in: []string{"logs/", "x/logs/y"}},
		{patterns: []string{"sub/x"}, out: []string{"sub/x"}, in: []string{"x", "a/sub/x"}},
		// ! brings back what an earlier pattern left out: the last
		// pattern that matches decides.
		{patterns: []string{"*.log", "!keep.log"}, out: []string{"a.log", "x/b.log"}, in: []string{"keep.log", "x/keep.log"}},
		{patterns: []string{"!keep.log", "*.log"}, out: []string{"a.log", "keep.log"}},
		{patterns: []string{"*.log", "!/keep.log"}, out: []string{"x/keep.log"}, in: []string{"keep.log"}},
		{patterns: []string{"/media/*", "!/media/Favourites/"}, out: []string{"media/a.mov", "media/Old/", "media/Favourites"}, in: []string{"media/", "media/Favourites/"}},
		{patterns: []string{"*", "!*/", "!*.txt"}, out: []string{"a.jpg", "x/a.jpg"}, in: []string{"a.txt", "x/", "x/y/b.txt"}},
		{patterns: []string{"!*.txt"}, in: []string{"a.txt", "b.jpg"}},
		{patterns: []string{`\!important`}, out: []string{"!important"}, in: []string{"important"}},
		{patterns: []string{"!"}, bad: true},
		{patterns: []string{"!/"}, bad: true},
		{patterns: []string{"![x"}, bad: true},
		{patterns: []string{"a/../b"}, bad: true},
		{patterns: []string{"a//b"}, bad: true},
		{patterns: []string{"./a"}, bad: true},
		{patterns: []string{"/**/"}, bad: true},
		{patterns: []string{"docs/[x"}, bad: true},
		{patterns: []string{""}, bad: true},
		{patterns: []string{"/"}, bad: true},
		{patterns: []string{"a[b"}, bad: true},
	}
	for _, tt := range tests {
		x, err := NewExclusion(tt.patterns)
		if tt.bad {
			if !errors.Is(err, ErrBadPattern) {
				t.Errorf("patterns %q: err = %v, want ErrBadPattern", tt.patterns, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("patterns %q: %v", tt.patterns, err)
		}
		for _, n := range tt.out {
			if !x.Excludes(strings.TrimSuffix(n, "/"), strings.HasSuffix(n, "/")) {
				t.Errorf("patterns %q keep %s", tt.patterns, n)
			}
		}
		for _, n := range tt.in {
			if x.Excludes(strings.TrimSuffix(n, "/"), strings.HasSuffix(n, "/")) {
				t.Errorf("patterns %q leave out %s", tt.patterns, n)
			}
		}
	}
}

// TestLeftOut: what a folder left out holds is left out with it.
func TestLeftOut(t *testing.T) {
	x, err := NewExclusion([]string{"/build/", "*.tmp", "docs/drafts"})
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"build/a/b.txt":     true,
		"build":             false, // a file called build
		"src/build/x":       false,
		"a/b/c.tmp":         true,
		"x.tmp/inside":      true,
		"docs/drafts/v1.md": true,
		"docs/final.md":     false,
		"docs":              false,
	} {
		if got := x.LeftOut(rel, false); got != want {
			t.Errorf("LeftOut(%q) = %v, want %v", rel, got, want)
		}
	}
}

// TestOpenPath reads a folder from disk as the import sees it: everything,
// hidden files and links included, less what is excluded, with the size
// the import will read; the result has the CID of the same tree built in
// memory.
func TestOpenPath(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "project")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := tree{
		".hidden":  []byte("secret\n"),
		"main.go":  []byte("package main\n"),
		"link":     link("main.go"),
		"dangling": link("../gone"),
		"docs":     tree{".keep": []byte{}, "a.md": []byte("# A\n"), "up": link("../main.go")},
	}
	kept.writeDisk(t, src)
	excluded := tree{
		".git":         tree{"config": []byte("[core]\n"), "HEAD": []byte("ref\n")},
		"node_modules": tree{"x.js": []byte("x\n")},
		"scratch.tmp":  []byte("scratch\n"),
		"docs2":        tree{"old.tmp": []byte("old\n")},
	}
	excluded.writeDisk(t, src)
	want := tree{}
	for k, v := range kept {
		want[k] = v
	}
	want["docs2"] = tree{}

	x, err := NewExclusion([]string{".git", "node_modules/", "*.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := OpenPath(src, x)
	if err != nil {
		t.Fatal(err)
	}
	size, err := nd.Size()
	if err != nil || uint64(size) != want.size() {
		t.Errorf("Size = %d, %v; want %d", size, err, want.size())
	}
	bs := blockstore.NewMemStore()
	got := importNode(t, bs, nd)
	if exp := importNode(t, blockstore.NewMemStore(), want.node()); got.Root != exp.Root {
		t.Fatalf("CID %s from disk, %s for the same tree in memory", got.Root, exp.Root)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := WriteTo(ctx, bs, got.Root, out, nil); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, "", want, readDisk(t, out))

	// A link named as the path is followed.
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(src, alias); err != nil {
		t.Fatal(err)
	}
	nd, err = OpenPath(alias, x)
	if err != nil {
		t.Fatal(err)
	}
	if size, _ := nd.Size(); uint64(size) != want.size() {
		t.Errorf("Size through a link = %d, want %d", size, want.size())
	}
	if res := importNode(t, blockstore.NewMemStore(), nd); res.Root != got.Root {
		t.Errorf("through a link: CID %s, want %s", res.Root, got.Root)
	}
}

// TestOpenPathSpecialFile: the sockets in a folder (an ssh control
// socket, an editor's server) are left out, named by Reporting, and change
// neither the CID nor the fingerprint; a socket named as the path itself
// is refused with a sentence naming it.
func TestOpenPathSpecialFile(t *testing.T) {
	dir, err := os.MkdirTemp("", "kith-sock") // short: a socket path is limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tree{"a.txt": []byte("a"), "sub": tree{"b.txt": []byte("b")}}.writeDisk(t, dir)
	want := importNode(t, blockstore.NewMemStore(), mustOpen(t, dir, Exclusion{}))
	fp, _, err := Fingerprint(dir, Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	var socks []string
	for _, p := range []string{filepath.Join(dir, "app.sock"), filepath.Join(dir, "sub", "s")} {
		l, err := net.Listen("unix", p)
		if err != nil {
			t.Skipf("no unix sockets here: %v", err)
		}
		defer l.Close()
		socks = append(socks, p)
	}

	var skipped Skipped
	got := importNode(t, blockstore.NewMemStore(), mustOpen(t, dir, Exclusion{}.Reporting(&skipped)))
	if got.Root != want.Root {
		t.Errorf("with sockets in it: CID %s, want %s (the folder without them)", got.Root, want.Root)
	}
	named, count := skipped.Files()
	wantNamed := []SkippedFile{{socks[0], "socket"}, {socks[1], "socket"}}
	if count != 2 || !slices.Equal(named, wantNamed) {
		t.Errorf("skipped = %v (%d), want %v (2)", named, count, wantNamed)
	}
	if fp2, _, err := Fingerprint(dir, Exclusion{}); err != nil || fp2 != fp {
		t.Errorf("fingerprint with sockets: %s, %v; want %s (unchanged)", fp2, err, fp)
	}

	_, err = OpenPath(socks[0], Exclusion{})
	if err == nil || !strings.Contains(err.Error(), "app.sock is not a file, a folder or a symbolic link (a socket)") {
		t.Fatalf("a socket as the path: err = %v", err)
	}
}

// TestSkippedNamesTheFirst: past 20, skipped files are counted, not named.
func TestSkippedNamesTheFirst(t *testing.T) {
	var s Skipped
	for i := range 25 {
		s.add(fmt.Sprintf("/s%d", i), fs.ModeNamedPipe)
	}
	named, count := s.Files()
	if count != 25 || len(named) != 20 || named[19] != (SkippedFile{"/s19", "named pipe"}) {
		t.Errorf("Files() = %d named (last %v), %d; want 20 named, 25", len(named), named[len(named)-1], count)
	}
	var none *Skipped
	none.add("/x", fs.ModeSocket) // an Exclusion without Reporting
}

func mustOpen(t *testing.T, p string, x Exclusion) files.Node {
	t.Helper()
	nd, err := OpenPath(p, x)
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

// TestOpenPaths: several paths become the entries of one folder, named by
// their last element, with the CID of the same tree built in memory (the
// system files in a folder among them left out, one given itself kept);
// two paths of the same name are refused.
func TestOpenPaths(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	tree{"beach.jpg": []byte("sand"), "notes": tree{"day1.txt": []byte("sun"), "link": link("day1.txt"), ".DS_Store": []byte("finder")}}.writeDisk(t, a)
	tree{"sunset.jpg": []byte("orange"), "beach.jpg": []byte("other sand"), "Thumbs.db": []byte("thumbs")}.writeDisk(t, b)
	paths := []string{filepath.Join(a, "notes"), filepath.Join(a, "beach.jpg"), filepath.Join(b, "sunset.jpg"), filepath.Join(b, "Thumbs.db")}
	want := tree{"beach.jpg": []byte("sand"), "notes": tree{"day1.txt": []byte("sun"), "link": link("day1.txt")}, "sunset.jpg": []byte("orange"), "Thumbs.db": []byte("thumbs")}

	nd, err := OpenPaths(paths, Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	if size, err := nd.Size(); err != nil || uint64(size) != want.size() {
		t.Errorf("Size = %d, %v; want %d", size, err, want.size())
	}
	got := importNode(t, blockstore.NewMemStore(), nd)
	if exp := importNode(t, blockstore.NewMemStore(), want.node()); got.Root != exp.Root {
		t.Fatalf("CID %s, want %s (the same tree in memory)", got.Root, exp.Root)
	}

	_, err = OpenPaths([]string{filepath.Join(a, "beach.jpg"), filepath.Join(b, "beach.jpg")}, Exclusion{})
	if !errors.Is(err, ErrSameName) || !strings.Contains(err.Error(), `would both be "beach.jpg"`) {
		t.Fatalf("two beach.jpg: %v", err)
	}
	if _, err := OpenPaths([]string{filepath.Join(a, "missing")}, Exclusion{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing path: %v", err)
	}
}

// TestWithoutFolder: a folder left out by identity (kith's repo inside a
// home folder) is missing from the import, its size and its fingerprint,
// wherever it is and however it is named, and a link to it stays a link;
// Within finds it above any path inside it, and nowhere else.
func TestWithoutFolder(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := tree{
		"notes.txt": []byte("notes\n"),
		"docs":      tree{"a.md": []byte("# A\n"), "repo2": tree{"b": []byte("b\n")}},
		"to-repo":   link("docs/repo"),
	}
	kept.writeDisk(t, home)
	repo := filepath.Join(home, "docs", "repo")
	tree{"identity.key": []byte("private\n"), "blocks": tree{"p1": []byte("block bytes\n")}}.writeDisk(t, mkdir(t, repo))

	x, err := NewExclusion(nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := Fingerprint(home, x.WithoutFolder(repo))
	if err != nil {
		t.Fatal(err)
	}
	// Named through a link, and with a trailing element cleaned away: the
	// same folder.
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(repo, alias); err != nil {
		t.Fatal(err)
	}
	x = x.WithoutFolder(alias + "/")
	nd, err := OpenPath(home, x)
	if err != nil {
		t.Fatal(err)
	}
	if size, err := nd.Size(); err != nil || uint64(size) != kept.size() {
		t.Errorf("Size = %d, %v; want %d (the repo left out)", size, err, kept.size())
	}
	got := importNode(t, blockstore.NewMemStore(), nd)
	if exp := importNode(t, blockstore.NewMemStore(), kept.node()); got.Root != exp.Root {
		t.Errorf("CID %s, want %s: the tree without the repo", got.Root, exp.Root)
	}

	// What happens in the repo does not change the folder's fingerprint.
	if err := os.WriteFile(filepath.Join(repo, "blocks", "p2"), []byte("more\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _, err := Fingerprint(home, x); err != nil || after != before {
		t.Errorf("fingerprint changed with the repo: %s -> %s (%v)", before, after, err)
	}
	if plain, _, _ := Fingerprint(home, Exclusion{}); plain == before {
		t.Error("the fingerprint without WithoutFolder equals the one with it: the test does not look at the repo")
	}

	for _, tt := range []struct {
		path   string
		within bool
	}{
		{repo, true},
		{filepath.Join(repo, "identity.key"), true},
		{filepath.Join(repo, "blocks", "p1"), true},
		{filepath.Join(repo, "not-there-yet"), true},
		{filepath.Join(home, "to-repo", "identity.key"), true},
		{alias, true},
		{home, false},
		{filepath.Join(home, "docs"), false},
		{filepath.Join(home, "docs", "repo2", "b"), false},
		{"relative/path", false},
	} {
		at, ok := x.Within(tt.path)
		if ok != tt.within {
			t.Errorf("Within(%s) = %v, want %v", tt.path, ok, tt.within)
		}
		if ok && filepath.Base(at) != "repo" {
			t.Errorf("Within(%s) names %s, want the repo", tt.path, at)
		}
	}
	if _, ok := (Exclusion{}).WithoutFolder(filepath.Join(home, "missing")).Within(home); ok {
		t.Error("a missing folder left out: Within found something")
	}
}

func mkdir(t testing.TB, p string) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLeftOutBringBack: a ! pattern brings back an entry whose folders
// are kept, never one inside a folder left out (a walk does not enter it,
// as git does not).
func TestLeftOutBringBack(t *testing.T) {
	x, err := NewExclusion([]string{"/media/*", "!/media/Favourites/", "build/", "!build/keep.txt", "!build/"})
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"media/Old/a.mov":        true,
		"media/b.mov":            true,
		"media/Favourites/a.mov": false,
		"build/keep.txt":         false, // !build/ brought the folder back
	} {
		if got := x.LeftOut(rel, false); got != want {
			t.Errorf("LeftOut(%q) = %v, want %v", rel, got, want)
		}
	}
	x, err = NewExclusion([]string{"build/", "!build/keep.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if !x.LeftOut("build/keep.txt", false) {
		t.Error("a ! pattern brought back a file inside a folder left out")
	}
}
