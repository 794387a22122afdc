package dag

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/fstest"
)

// TestIgnoreFile: the .kithignore at the top of a folder leaves out what
// its lines name, for an add (OpenPath) and for a look (Fingerprint),
// beside the patterns given; it is itself added; its change is a change
// of the folder; a line it cannot use is refused, naming the line.
func TestIgnoreFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "project")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ignore := []byte("# what the build makes\n\n/build/\n  *.log  \r\n!keep.log\nsrc/**/gen\n!x.tmp\n")
	kept := tree{
		IgnoreFile: ignore,
		"keep.log": []byte("brought back by a ! line"),
		"main.go":  []byte("package main\n"),
		"src":      tree{"a.go": []byte("package src\n"), "build": tree{"keep.txt": []byte("a folder called build, deeper")}},
	}
	kept.writeDisk(t, src)
	tree{
		"build":   tree{"out.o": []byte("obj")},
		"run.log": []byte("log"),
		"x.tmp":   []byte("given as --exclude, which a ! line in the file does not bring back"),
	}.writeDisk(t, src)
	if err := os.MkdirAll(filepath.Join(src, "src", "a", "gen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "src", "a", "gen", "g.go"), []byte("generated"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := tree{}
	for k, v := range kept {
		want[k] = v
	}
	want["src"].(tree)["a"] = tree{}

	x, err := NewExclusion([]string{"*.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := OpenPath(src, x)
	if err != nil {
		t.Fatal(err)
	}
	if size, err := nd.Size(); err != nil || uint64(size) != want.size() {
		t.Errorf("Size = %d, %v; want %d", size, err, want.size())
	}
	got := importNode(t, blockstore.NewMemStore(), nd)
	if exp := importNode(t, blockstore.NewMemStore(), want.node()); got.Root != exp.Root {
		t.Errorf("CID %s from disk, %s for what the .kithignore keeps", got.Root, exp.Root)
	}

	// A look: what the file leaves out changes nothing; the file does.
	before, _, err := Fingerprint(src, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "build", "more.o"), []byte("more"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _, err := Fingerprint(src, x); err != nil || after != before {
		t.Errorf("a file in build/ changed the fingerprint (%v)", err)
	}
	if err := os.WriteFile(filepath.Join(src, IgnoreFile), []byte("/build/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _, err := Fingerprint(src, x); err != nil || after == before {
		t.Errorf("the .kithignore changed, the fingerprint did not (%v)", err)
	}

	for _, tc := range []struct{ text, says string }{
		{"ok\na//b\n", "line 2: bad exclude pattern \"a//b\""},
		{"# fine\n!\n", "line 2: bad exclude pattern \"!\""},
		{"[x\n", "line 1: bad exclude pattern"},
		{strings.Repeat("x\n", maxIgnoreFile), "is over 64 KiB"},
	} {
		if err := os.WriteFile(filepath.Join(src, IgnoreFile), []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := OpenPath(src, x)
		if !errors.Is(err, ErrBadPattern) || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), IgnoreFile) {
			t.Errorf("OpenPath with %.20q: %v, want ErrBadPattern saying %q", tc.text, err, tc.says)
		}
		if _, _, err := Fingerprint(src, x); !errors.Is(err, ErrBadPattern) {
			t.Errorf("Fingerprint with %.20q: %v, want ErrBadPattern", tc.text, err)
		}
	}
}

// TestDryRun: what DryRun says an add holds is what OpenPath reads (the
// same bytes, the same files), and what it leaves out is named once per
// folder, with the pattern and the line of the .kithignore that did it.
func TestDryRun(t *testing.T) {
	src := filepath.Join(t.TempDir(), "project")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	tree{
		IgnoreFile: []byte("# built\n/build/\n"),
		"main.go":  []byte("package main\n"),
		"cover":    link("main.go"),
		"build":    tree{"out.o": []byte("obj"), "deep": tree{"x.o": []byte("x")}},
		"src":      tree{"a.go": []byte("package src\n"), "a.tmp": []byte("scratch"), "build": tree{"b.go": []byte("b")}},
	}.writeDisk(t, src)
	sock := filepath.Join(src, "s.sock")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	} else {
		t.Logf("no socket here: %v", err)
		sock = ""
	}
	x, err := NewExclusion([]string{"*.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := DryRun(src, x)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := OpenPath(src, x)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := nd.Size()
	if plan.Bytes != size || plan.Files != 4 || plan.Folders != 3 || plan.Links != 1 {
		t.Errorf("plan %+v, want 4 files (%d B) in 3 folders and a link", plan, size)
	}
	want := []LeftOut{{"build/", "/build/ (.kithignore, line 2)"}, {"src/a.tmp", "*.tmp"}}
	if !slices.Equal(plan.Left, want) {
		t.Errorf("left out %+v, want %+v", plan.Left, want)
	}
	if sock != "" && (len(plan.Special) != 1 || plan.Special[0].Path != sock || plan.Special[0].Kind != "socket") {
		t.Errorf("special files %+v, want the socket", plan.Special)
	}
	// As an entry of a wrapped folder: patterns from the wrap's top, and
	// the folder's .kithignore is not read.
	wrapped, err := DryRunWrapped(src, mustExclusion(t, "project/src/"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []LeftOut{{"project/src/", "project/src/"}}; !slices.Equal(wrapped.Left, want) || wrapped.Files != 4 {
		t.Errorf("wrapped: %+v, want project/src/ left out, and build/ in", wrapped)
	}
}

func mustExclusion(t *testing.T, patterns ...string) Exclusion {
	t.Helper()
	x, err := NewExclusion(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestSystemFiles: what operating systems and office applications leave
// in a folder (Finder's .DS_Store and ._ files, Windows' Thumbs.db and
// $RECYCLE.BIN, an Office or LibreOffice lock file) is left out of an add
// and a look, at any depth, named as a system file by a dry run; a file
// given by its own path is added; a ! line in .kithignore brings one back.
func TestSystemFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "docs")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := tree{
		"report.docx": []byte("the report"),
		"sub":         tree{"notes.odt": []byte("notes"), "~notes.txt": []byte("a tilde alone is a name")},
	}
	kept.writeDisk(t, src)
	fstest.WriteFiles(t, src, map[string]string{
		".DS_Store": "finder", "._photo.jpg": "resource fork", "~$report.docx": "word's lock", "$RECYCLE.BIN/x": "bin",
		"sub/Thumbs.db": "thumbs", "sub/desktop.ini": "[.ShellClassInfo]", "sub/.~lock.notes.odt#": "libreoffice's lock", "sub/.DS_Store": "finder",
	})
	x := Exclusion{}
	nd, err := OpenPath(src, x)
	if err != nil {
		t.Fatal(err)
	}
	if got, exp := importNode(t, blockstore.NewMemStore(), nd), importNode(t, blockstore.NewMemStore(), kept.node()); got.Root != exp.Root {
		t.Errorf("CID %s from disk, %s for the folder without system files", got.Root, exp.Root)
	}
	before, _, err := Fingerprint(src, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", ".DS_Store"), []byte("finder, again"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _, err := Fingerprint(src, x); err != nil || after != before {
		t.Errorf("Finder's .DS_Store changed the fingerprint (%v)", err)
	}
	plan, err := DryRun(src, x)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(plan.Left, func(l LeftOut) bool { return l.Path == ".DS_Store" }); i < 0 ||
		plan.Left[i].Pattern != ".DS_Store (a system file: !.DS_Store in .kithignore keeps it)" {
		t.Errorf("dry run left out %+v", plan.Left)
	}
	if nd, err := OpenPath(filepath.Join(src, ".DS_Store"), x); err != nil {
		t.Errorf("a system file given by its path: %v", err)
	} else if size, _ := nd.Size(); size != int64(len("finder")) {
		t.Errorf("a system file given by its path: %d bytes", size)
	}
	if err := os.WriteFile(filepath.Join(src, IgnoreFile), []byte("!.DS_Store\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nd, err = OpenPath(src, x)
	if err != nil {
		t.Fatal(err)
	}
	kept[IgnoreFile] = []byte("!.DS_Store\n")
	kept[".DS_Store"] = []byte("finder")
	kept["sub"].(tree)[".DS_Store"] = []byte("finder, again")
	if got, exp := importNode(t, blockstore.NewMemStore(), nd), importNode(t, blockstore.NewMemStore(), kept.node()); got.Root != exp.Root {
		t.Errorf("with !.DS_Store: CID %s, want %s (the .DS_Store files back)", got.Root, exp.Root)
	}
}
