package mirror

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// tree describes a folder: a name maps to a string (a file's bytes), a
// tree (a folder) or a link (a symbolic link's target).
type tree map[string]any

type link string

func (tr tree) write(t testing.TB, dir string) {
	t.Helper()
	for name, v := range tr {
		p := filepath.Join(dir, name)
		var err error
		switch v := v.(type) {
		case string:
			err = os.WriteFile(p, []byte(v), 0o644)
		case tree:
			if err = os.Mkdir(p, 0o755); err == nil {
				v.write(t, p)
			}
		case link:
			err = os.Symlink(string(v), p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// version imports tr into bs, as a sharing device's add would, and
// returns its CID.
func version(t testing.TB, bs blockstore.Blockstore, tr tree) cid.Cid {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "v")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tr.write(t, dir)
	return importDir(t, bs, dir)
}

func importDir(t testing.TB, bs blockstore.Blockstore, dir string) cid.Cid {
	t.Helper()
	nd, err := dag.OpenPath(dir, dag.Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dag.NewImporter(bs).Add(context.Background(), nd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Root
}

// holds fails t unless dir holds exactly the version want.
func holds(t *testing.T, dir string, want cid.Cid) {
	t.Helper()
	if got := importDir(t, blockstore.NewMemStore(), dir); got != want {
		t.Fatalf("the folder holds %s, want the version %s", got, want)
	}
}

func apply(t *testing.T, bs blockstore.Blockstore, root cid.Cid, dir string, man Manifest) Result {
	t.Helper()
	res, err := Apply(context.Background(), Version{Root: root, Store: bs}, dir, man, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

// TestApplyFollowsVersions: an empty folder gets the version whole; each
// later version changes, adds and removes what it changed, added and
// removed (a folder that became a file and the reverse, a link retargeted;
// a folder gone, with the .DS_Store Finder wrote in it), and nothing else
// is written.
func TestApplyFollowsVersions(t *testing.T) {
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{
		"notes.txt": "first notes",
		"same.txt":  "never changes",
		"old":       tree{"a.txt": "a", "deep": tree{"b.txt": "b"}},
		"becomes":   tree{"x.txt": "x"},
		"was-file":  "a file first",
		"link":      link("notes.txt"),
	})
	v2 := version(t, bs, tree{
		"notes.txt": "second notes, longer",
		"same.txt":  "never changes",
		"new":       tree{"c.txt": "c"},
		"becomes":   "now a file",
		"was-file":  tree{"inside.txt": "in"},
		"link":      link("same.txt"),
	})
	dir := t.TempDir()
	man := Manifest{}
	res := apply(t, bs, v1, dir, man)
	holds(t, dir, v1)
	if res.Written != 7 || res.KeptCount != 0 {
		t.Errorf("first version: %+v, want 7 written, none kept", res)
	}
	same, _ := os.Stat(filepath.Join(dir, "same.txt"))
	// Folders looked at in Finder and Explorer: what they wrote there
	// does not keep a folder gone from the version.
	for _, p := range []string{"old/deep/.DS_Store", "old/Thumbs.db", "old/._a.txt", "becomes/.DS_Store"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte("view settings"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	res = apply(t, bs, v2, dir, man)
	holds(t, dir, v2)
	if _, err := os.Lstat(filepath.Join(dir, "old")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old, gone from the version, holding only .DS_Store and Thumbs.db: %v", err)
	}
	if res.KeptCount != 0 || res.Written != 5 {
		t.Errorf("second version: %+v, want 5 written (notes, c, becomes, inside, link), none kept", res)
	}
	if st, _ := os.Stat(filepath.Join(dir, "same.txt")); !st.ModTime().Equal(same.ModTime()) || !os.SameFile(st, same) {
		t.Errorf("same.txt, unchanged in the version, was written again")
	}
	want := []string{"becomes", "link", "new", "new/c.txt", "notes.txt", "same.txt", "was-file", "was-file/inside.txt"}
	if got := slices.Sorted(maps.Keys(man)); !slices.Equal(got, want) {
		t.Errorf("manifest %v, want %v", got, want)
	}

	// Back to v1: all of it again.
	apply(t, bs, v1, dir, man)
	holds(t, dir, v1)
}

// TestApplyKeepsChangesHere: what was changed on this device is never
// overwritten or removed, and is named; a file deleted here is written
// again; a folder replaced by a link is never written through.
func TestApplyKeepsChangesHere(t *testing.T) {
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{
		"edited.txt":  "the group's first",
		"removed.txt": "the group removes it later",
		"deleted.txt": "deleted here",
		"folder":      tree{"f.txt": "f"},
		"linked":      tree{"l.txt": "l"},
		"gone":        tree{"g.txt": "g"},
		"moved":       tree{"m.txt": "m"},
	})
	v2 := version(t, bs, tree{
		"edited.txt":  "the group's second",
		"deleted.txt": "deleted here",
		"folder":      tree{"f.txt": "f2"},
		"linked":      tree{"l.txt": "l2"},
	})
	dir := t.TempDir()
	man := Manifest{}
	apply(t, bs, v1, dir, man)

	writeFile(t, filepath.Join(dir, "edited.txt"), "mine")
	writeFile(t, filepath.Join(dir, "removed.txt"), "mine too")
	if err := os.Remove(filepath.Join(dir, "deleted.txt")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "gone", "added-here.txt"), "a file of mine in a folder the group removes")
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "l.txt"), "outside")
	if err := os.RemoveAll(filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	// A folder moved elsewhere and linked from here (its files as they
	// were): the group removing it does not reach through the link.
	elsewhere := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(filepath.Join(dir, "moved"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}

	res := apply(t, bs, v2, dir, man)
	slices.Sort(res.Kept)
	if want := []string{"edited.txt", "linked", "removed.txt"}; !slices.Equal(res.Kept, want) || res.KeptCount != 3 {
		t.Errorf("kept %v (%d), want %v", res.Kept, res.KeptCount, want)
	}
	for p, want := range map[string]string{
		"edited.txt":          "mine",
		"removed.txt":         "mine too",
		"deleted.txt":         "deleted here",
		"folder/f.txt":        "f2",
		"gone/added-here.txt": "a file of mine in a folder the group removes",
		"../" + filepath.Base(outside) + "/l.txt": "outside",
	} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "l.txt")); string(b) != "outside" {
		t.Errorf("a file was written through the link: %q", b)
	}
	if b, err := os.ReadFile(filepath.Join(elsewhere, "m.txt")); err != nil || string(b) != "m" {
		t.Errorf("a file was removed through the link: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone", "g.txt")); !os.IsNotExist(err) {
		t.Errorf("gone/g.txt, removed by the group and not changed here, is still there: %v", err)
	}

	// Kept files stay kept; deleting one here lets the group's in.
	res = apply(t, bs, v2, dir, man)
	if res.KeptCount != 2 || res.Written != 0 { // edited.txt, linked: removed.txt is this device's now
		t.Errorf("again: %+v, want edited.txt and linked kept, nothing written", res)
	}
	if err := os.Remove(filepath.Join(dir, "edited.txt")); err != nil {
		t.Fatal(err)
	}
	apply(t, bs, v2, dir, man)
	if b, _ := os.ReadFile(filepath.Join(dir, "edited.txt")); string(b) != "the group's second" {
		t.Errorf("edited.txt deleted here: %q, want the group's", b)
	}
}

// TestApplyAfterACrash: a file written before a crash cut Apply off (the
// manifest not saved) holds the version's bytes: it is taken as written,
// not as a change made here; what the crash left half-written goes.
func TestApplyAfterACrash(t *testing.T) {
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{"a.txt": "one", "b.txt": "two"})
	v2 := version(t, bs, tree{"a.txt": "one, changed", "b.txt": "two, changed"})
	dir := t.TempDir()
	man := Manifest{}
	apply(t, bs, v1, dir, man)
	saved := maps.Clone(man)
	apply(t, bs, v2, dir, man) // the run whose manifest the crash lost
	// What the crash left half-written, under temporary names, goes.
	stale := []string{filepath.Join(dir, ".a.txt.kith-tmp-123"), filepath.Join(dir, ".c.txt.kith-tmp-9")}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := apply(t, bs, v2, dir, saved)
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s, left by a crash, is still there: %v", filepath.Base(p), err)
		}
	}
	if res.KeptCount != 0 || res.Written != 0 {
		t.Errorf("after the crash: %+v, want nothing kept or written", res)
	}
	// The manifest is whole again: a change here is told from the group's.
	writeFile(t, filepath.Join(dir, "a.txt"), "mine")
	v3 := version(t, bs, tree{"a.txt": "three", "b.txt": "three"})
	if res := apply(t, bs, v3, dir, saved); !slices.Equal(res.Kept, []string{"a.txt"}) || res.Written != 1 {
		t.Errorf("v3: %+v, want a.txt kept, b.txt written", res)
	}
}

// TestApplyCancelled: a cancelled Apply stops, and its manifest holds what
// it wrote: the next one finishes the job.
func TestApplyCancelled(t *testing.T) {
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{"a.txt": "a", "b.txt": "b", "c": tree{"d.txt": "d"}})
	dir := t.TempDir()
	man := Manifest{}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Apply(ctx, Version{Root: v1, Store: bs}, dir, man, func(Progress) {
		if n++; n == 1 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled Apply succeeded")
	}
	res := apply(t, bs, v1, dir, man)
	holds(t, dir, v1)
	if res.KeptCount != 0 {
		t.Errorf("after a cancelled Apply: %+v", res)
	}
}

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	// A second apart at least, as an edit would be.
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
}

// TestApplyRevert: asked to revert, Apply writes the group's version over
// what was changed here (an edit of any size, a file replaced by a link, a
// folder replaced by a file) and leaves alone what only this device has
// and a folder made where the version has a file (kept); what it wrote
// stays as the version has it, links outside never followed.
func TestApplyRevert(t *testing.T) {
	bs := blockstore.NewMemStore()
	v := version(t, bs, tree{
		"longer.txt": "the group's",
		"same.txt":   "same size",
		"linked.txt": "a file here",
		"folder":     tree{"f.txt": "f"},
		"blocked":    "a file of the group's",
	})
	dir := t.TempDir()
	man := Manifest{}
	apply(t, bs, v, dir, man)
	outside := filepath.Join(t.TempDir(), "target")
	writeFile(t, outside, "outside, never written")
	writeFile(t, filepath.Join(dir, "longer.txt"), "mine, and longer than the group's")
	writeFile(t, filepath.Join(dir, "same.txt"), "emas ezis")
	writeFile(t, filepath.Join(dir, "extra.txt"), "only here")
	for _, p := range []string{"linked.txt", "folder", "blocked"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linked.txt")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "folder"), "a file where the group has a folder")
	writeFile(t, filepath.Join(mustMkdir(t, filepath.Join(dir, "blocked")), "mine.txt"), "a folder where the group has a file")

	if res := apply(t, bs, v, dir, man); res.KeptCount != 5 || res.Written != 0 {
		t.Fatalf("without revert: %+v, want 5 kept", res)
	}
	res, err := Apply(context.Background(), Version{Root: v, Store: bs, Revert: true}, dir, man, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Kept, []string{"blocked"}) || res.Written != 4 {
		t.Errorf("revert: %+v, want 4 written (longer, same, linked, folder/f.txt), blocked kept", res)
	}
	for p, want := range map[string]string{
		"longer.txt":       "the group's",
		"same.txt":         "same size",
		"linked.txt":       "a file here",
		"folder/f.txt":     "f",
		"extra.txt":        "only here",
		"blocked/mine.txt": "a folder where the group has a file",
	} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	if st, err := os.Lstat(filepath.Join(dir, "linked.txt")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("linked.txt is not a file again: %v", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "outside, never written" {
		t.Errorf("the link's target was written: %q", b)
	}
	// Reverted, the files are the mirror's again: a newer version changes them.
	if res := apply(t, bs, v, dir, man); res.KeptCount != 1 || res.Written != 0 {
		t.Errorf("after the revert: %+v, want only blocked kept", res)
	}
}

// TestApplyExclude: what a mirror leaves out (by name, at any depth, or by
// path, with what a folder holds) is neither fetched nor written; what it wrote
// there before goes once left out, unless changed here; what is made here
// under such a name is never touched.
func TestApplyExclude(t *testing.T) {
	bs := blockstore.NewMemStore()
	v := version(t, bs, tree{
		"keep.txt": "kept",
		"big.iso":  "an image",
		"Raw":      tree{"a.cr2": "raw photo"},
		"sub":      tree{"x.iso": "another image", "y.txt": "y"},
	})
	ctx := context.Background()
	var excluded []cid.Cid
	for _, p := range [][]string{{"big.iso"}, {"Raw", "a.cr2"}, {"sub", "x.iso"}} {
		c, err := dag.Resolve(ctx, bs, v, p)
		if err != nil {
			t.Fatal(err)
		}
		excluded = append(excluded, c)
	}
	exclusion := func(patterns ...string) dag.Exclusion {
		x, err := dag.NewExclusion(patterns)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	// asked fails t when a fetch asks for a file left out.
	var leftOut dag.Exclusion
	fetch := func(_ context.Context, _ cid.Cid, files func(cid.Cid) bool, _ func(int64)) (int64, error) {
		for i, c := range excluded {
			if files != nil && files(c) && leftOut.LeftOut([]string{"big.iso", "Raw/a.cr2", "sub/x.iso"}[i], false) {
				t.Errorf("fetched %s, which the mirror leaves out", c)
			}
		}
		return 0, nil
	}
	run := func(x dag.Exclusion, dir string, man Manifest) Result {
		t.Helper()
		leftOut = x
		res, err := Apply(ctx, Version{Root: v, Store: bs, Fetch: fetch, Exclude: x}, dir, man, nil)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return res
	}
	dir := t.TempDir()
	man := Manifest{}
	// Made here before the first version, under a name left out.
	if err := os.WriteFile(filepath.Join(dir, "big.iso"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := run(exclusion("*.iso", "Raw/"), dir, man)
	holds(t, dir, version(t, blockstore.NewMemStore(), tree{"keep.txt": "kept", "big.iso": "mine", "sub": tree{"y.txt": "y"}}))
	if res.Written != 2 || res.KeptCount != 0 {
		t.Errorf("first write: %+v, want keep.txt and sub/y.txt written, nothing kept", res)
	}

	// Nothing left out: the rest is written; the file made here stays.
	res = run(dag.Exclusion{}, dir, man)
	holds(t, dir, version(t, blockstore.NewMemStore(), tree{"keep.txt": "kept", "big.iso": "mine",
		"Raw": tree{"a.cr2": "raw photo"}, "sub": tree{"x.iso": "another image", "y.txt": "y"}}))
	if res.Written != 2 || res.KeptCount != 1 || res.Kept[0] != "big.iso" {
		t.Errorf("all of it: %+v, want Raw/a.cr2 and sub/x.iso written, big.iso kept", res)
	}

	// Left out again: what the mirror wrote goes, what was changed stays.
	if err := os.WriteFile(filepath.Join(dir, "sub", "y.txt"), []byte("changed here"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = run(exclusion("sub", "Raw/"), dir, man)
	holds(t, dir, version(t, blockstore.NewMemStore(), tree{"keep.txt": "kept", "big.iso": "mine", "sub": tree{"y.txt": "changed here"}}))
	if res.Removed != 3 || !slices.Equal(res.Kept, []string{"big.iso"}) {
		t.Errorf("left out again: %+v, want Raw/a.cr2, Raw and sub/x.iso removed, big.iso (in the version, made here) kept, and sub/y.txt (changed, left out) left as it is, not named", res)
	}
	if want := []string{"keep.txt"}; !slices.Equal(slices.Sorted(maps.Keys(man)), want) {
		t.Errorf("manifest %v, want %v", slices.Sorted(maps.Keys(man)), want)
	}

	// A path from the top: only that one is left out.
	res = run(exclusion("/sub/*.iso"), dir, man)
	holds(t, dir, version(t, blockstore.NewMemStore(), tree{"keep.txt": "kept", "big.iso": "mine",
		"Raw": tree{"a.cr2": "raw photo"}, "sub": tree{"y.txt": "changed here"}}))
	if res.Written != 1 || !slices.Equal(res.Kept, []string{"big.iso", "sub/y.txt"}) {
		t.Errorf("by path: %+v, want Raw/a.cr2 written, big.iso and sub/y.txt kept", res)
	}

	// A ! pattern brings back what an earlier one left out.
	res = run(exclusion("*.iso", "!/sub/x.iso"), dir, man)
	holds(t, dir, version(t, blockstore.NewMemStore(), tree{"keep.txt": "kept", "big.iso": "mine",
		"Raw": tree{"a.cr2": "raw photo"}, "sub": tree{"x.iso": "another image", "y.txt": "changed here"}}))
	if res.Written != 1 || !slices.Equal(res.Kept, []string{"sub/y.txt"}) {
		t.Errorf("brought back: %+v, want sub/x.iso written, sub/y.txt kept", res)
	}
}
