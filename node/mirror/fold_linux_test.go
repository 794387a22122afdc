package mirror

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/blockstore/fstest"
)

// TestApplyFoldsCase: on a file system where Notes.txt and notes.txt are
// one file, a version that renamed a file or a folder only in case is
// written as a rename (before, the folder's files were removed as gone:
// lost here); and of two entries of a version whose paths differ only in
// case, the one written before stays and the other fails, named, never
// written over it.
func TestApplyFoldsCase(t *testing.T) {
	dir := fstest.ExFAT(t)
	if !foldsCase(dir) {
		t.Fatal("exFAT: names that differ in case are not one")
	}
	if foldsCase(t.TempDir()) {
		t.Fatal("the test's own temporary folder: names that differ in case are one")
	}
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{"notes.txt": "my notes", "Photos": tree{"p.jpg": "jpg", "q.jpg": "q"}, "readme.md": "lower"})
	man := Manifest{}
	apply(t, bs, v1, dir, man)
	holds(t, dir, v1)

	v2 := version(t, bs, tree{"Notes.txt": "my notes", "photos": tree{"p.jpg": "jpg", "q.jpg": "q"}, "readme.md": "lower"})
	res := apply(t, bs, v2, dir, man)
	holds(t, dir, v2)
	if res.FailedCount != 0 || res.KeptCount != 0 {
		t.Errorf("renamed in case: %+v", res)
	}
	want := []string{"Notes.txt", "photos", "photos/p.jpg", "photos/q.jpg", "readme.md"}
	if got := slices.Sorted(maps.Keys(man)); !slices.Equal(got, want) {
		t.Errorf("manifest %v, want %v", got, want)
	}

	// Shared from a file system that tells them apart.
	v3 := version(t, bs, tree{"Notes.txt": "my notes", "photos": tree{"p.jpg": "jpg", "q.jpg": "q"}, "readme.md": "lower",
		"README.md": "UPPER", "PHOTOS": tree{"x.jpg": "x"}})
	_, err := Apply(context.Background(), Version{Root: v3, Store: bs}, dir, man, nil)
	var fe *FilesError
	if !errors.As(err, &fe) || fe.Count != 3 || !errors.Is(err, dag.ErrCaseClash) {
		t.Fatalf("a version with names that differ only in case: %v, want 3 files failed for their case", err)
	}
	var failed []string
	for _, f := range fe.Failed {
		failed = append(failed, f.Path+": "+f.Reason())
	}
	wantFailed := []string{
		"PHOTOS: its path differs only in case from photos, which this folder's file system does not tell apart: rename one of them",
		"PHOTOS/x.jpg: its path differs only in case from photos, which this folder's file system does not tell apart: rename one of them",
		"README.md: its path differs only in case from readme.md, which this folder's file system does not tell apart: rename one of them",
	}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("failed:\n%s\nwant:\n%s", strings.Join(failed, "\n"), strings.Join(wantFailed, "\n"))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "readme.md")); string(b) != "lower" {
		t.Errorf("readme.md holds %q: written over by README.md", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "photos", "x.jpg")); err == nil {
		t.Error("PHOTOS/x.jpg was written into photos")
	}
	holds(t, dir, v2) // nothing else changed
}

// TestMetaWithoutModes: a folder on a file system that keeps no modes
// (exFAT: every entry rwxrwxrwx) shares its files' times and not their
// modes; a device that applies such a meta gives its files their times
// and keeps their modes (before, each became rwxrwxrwx).
func TestMetaWithoutModes(t *testing.T) {
	stick := fstest.ExFAT(t)
	bs := blockstore.NewMemStore()
	tr := tree{"docs": tree{"a.txt": "a"}}
	tr.write(t, stick)
	root := importDir(t, bs, stick)
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(stick, "docs", "a.txt"), when, when); err != nil {
		t.Fatal(err)
	}
	m, err := ReadMeta(context.Background(), bs, root, stick)
	if err != nil {
		t.Fatal(err)
	}
	for p, em := range m {
		if em.Mode != 0 {
			t.Errorf("%s shared with mode %o, want none", p, em.Mode)
		}
	}
	if em := m["docs/a.txt"]; em.Mtime != when.UnixNano() {
		t.Errorf("docs/a.txt shared with time %d, want %d", em.Mtime, when.UnixNano())
	}

	// Applied on a file system that keeps modes.
	dir := t.TempDir()
	man := Manifest{}
	apply(t, bs, root, dir, man)
	if _, err := applyMeta(dir, man, m); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]os.FileMode{"docs/a.txt": 0o644, "docs": 0o755} {
		if st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v kept", rel, st.Mode().Perm(), err, want)
		}
	}
	if st, _ := os.Lstat(filepath.Join(dir, "docs", "a.txt")); !st.ModTime().Equal(when) {
		t.Errorf("docs/a.txt: time %v, want the shared %v", st.ModTime(), when)
	}
}
