package mirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// readTree reads the folder dir back as a tree (files and folders).
func readTree(t *testing.T, dir string) tree {
	t.Helper()
	out := tree{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			out[e.Name()] = readTree(t, p)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// conflictCopies takes out of tr (at its top) the conflict copies of
// name, and returns their contents.
func conflictCopies(tr tree, name string) []string {
	var out []string
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	for k, v := range tr {
		if strings.HasPrefix(k, stem+".sync-conflict-") && strings.HasSuffix(k, filepath.Ext(name)) {
			out = append(out, v.(string))
			delete(tr, k)
		}
	}
	return out
}

func sameTree(t *testing.T, what string, got, want tree) {
	t.Helper()
	g, w := version(t, blockstore.NewMemStore(), got), version(t, blockstore.NewMemStore(), want)
	if g != w {
		t.Errorf("%s: the folder holds %v, want %v", what, got, want)
	}
}

// TestApplySyncFastForward: a folder that syncs both ways gets a version
// made from the one it holds: what only the version changed is written
// or removed, what only this device changed or deleted stays so, a file
// both changed keeps this device's bytes and gets the version's beside
// it, and a change wins over a deletion.
func TestApplySyncFastForward(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{"a": "a", "b": "b", "c": "c", "d": "d", "f": "f", "dir": tree{"x": "x"}})
	v2 := version(t, bs, tree{"a": "a", "b": "b theirs", "c": "c", "d": "d theirs", "e": "e new", "dir": tree{"x": "x"}})
	dir := t.TempDir()
	man := Manifest{}
	sync := func(v Version) Result {
		t.Helper()
		v.Store, v.Sync = bs, true
		res, err := Apply(ctx, v, dir, man, nil)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return res
	}
	sync(Version{Root: v1})
	holds(t, dir, v1)

	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "a mine")
	write("b", "b mine")
	write("mine.txt", "made here")
	for _, gone := range []string{"c", "d", "dir"} {
		if err := os.RemoveAll(filepath.Join(dir, gone)); err != nil {
			t.Fatal(err)
		}
	}
	res := sync(Version{Root: v2})
	got := readTree(t, dir)
	if copies := conflictCopies(got, "b"); !slices.Equal(copies, []string{"b theirs"}) || len(res.Conflicts) != 1 {
		t.Errorf("conflict copies of b: %q (result %v), want the version's b", copies, res.Conflicts)
	} else if bv, err := dag.Resolve(ctx, bs, v2, []string{"b"}); err != nil || res.files[res.Conflicts[0]] != bv {
		// Options.Written hears of it: the store may keep its blocks as
		// where they are in that file, as for every file a mirror writes.
		t.Errorf("files written: %v, want the conflict copy %s with the version's b %s (%v)", res.files, res.Conflicts[0], bv, err)
	}
	sameTree(t, "after the version", got, tree{"a": "a mine", "b": "b mine", "d": "d theirs", "e": "e new", "mine.txt": "made here"})
	if res.KeptCount != 0 {
		t.Errorf("named as kept: %v (a folder that syncs shares its changes: nothing is kept from the group)", res.Kept)
	}
}

// TestApplySyncMerge: the version was made from the base while this
// folder shared a change of its own from it (its manifest is its own
// version): judged against the base, the change made here to a file the
// version did not touch stays (a plain update would write the base's
// bytes back), and the rest as in a fast forward.
func TestApplySyncMerge(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	base := tree{"a": "a", "b": "b", "c": "c", "d": "d", "gone": "theirs removes it"}
	v0 := version(t, bs, base)
	ours := tree{"a": "a by A", "b": "b", "c": "c by A", "h": "added by A", "gone": "theirs removes it"}
	theirs := tree{"a": "a", "b": "b by B", "c": "c by B", "d": "d", "g": "added by B"}
	a1 := version(t, bs, ours)
	b1 := version(t, bs, theirs)

	dir := t.TempDir()
	ours.write(t, dir)
	man, err := Adopt(ctx, bs, a1, dir, dag.Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	baseEntries, err := BaseOf(ctx, bs, v0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(ctx, Version{Root: b1, Store: bs, Sync: true, Base: baseEntries}, dir, man, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dir)
	if copies := conflictCopies(got, "c"); !slices.Equal(copies, []string{"c by B"}) || len(res.Conflicts) != 1 {
		t.Errorf("conflict copies of c: %q (result %v), want B's c", copies, res.Conflicts)
	}
	sameTree(t, "merged", got, tree{"a": "a by A", "b": "b by B", "c": "c by A", "g": "added by B", "h": "added by A"})

	// Without the base, as a receive-only update would: A's change to a
	// is undone. (What the base is for.)
	dir2 := t.TempDir()
	ours.write(t, dir2)
	man2, _ := Adopt(ctx, bs, a1, dir2, dag.Exclusion{})
	if _, err := Apply(ctx, Version{Root: b1, Store: bs, Sync: true}, dir2, man2, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "a")); string(b) != "a" {
		t.Fatalf("without the base a = %q: the test no longer shows what the base does", b)
	}
}

// TestApplySyncConflictSameEverywhere: where both changed a file, the
// later change keeps the name and the other is the conflict copy, named
// by its own time and the end of its hash: two devices that each merge
// the other's change end with the same folder.
func TestApplySyncConflictSameEverywhere(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	base := tree{"plan.txt": "the plan"}
	v0 := version(t, bs, base)
	tA, tB := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 7, 0, 5, 0, time.UTC)
	// Each device changed plan.txt and shared it; each then gets the
	// other's version, made from v0.
	device := func(body string, at time.Time) (string, Manifest) {
		t.Helper()
		dir := t.TempDir()
		base.write(t, dir)
		man, err := Adopt(ctx, bs, v0, dir, dag.Exclusion{})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "plan.txt")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return dir, man
	}
	dirA, manA := device("a's plan", tA)
	dirB, manB := device("b's plan, written later", tB)
	vA := version(t, bs, tree{"plan.txt": "a's plan"})
	vB := version(t, bs, tree{"plan.txt": "b's plan, written later"})
	merge := func(dir string, man Manifest, theirs cid.Cid, theirsAt time.Time) Result {
		t.Helper()
		res, err := Apply(ctx, Version{Root: theirs, Store: bs, Sync: true,
			Times: map[string]int64{"plan.txt": theirsAt.UnixNano()}}, dir, man, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	resA := merge(dirA, manA, vB, tB)
	resB := merge(dirB, manB, vA, tA)
	aPlan, err := dag.Resolve(ctx, bs, vA, []string{"plan.txt"})
	if err != nil {
		t.Fatal(err)
	}
	key := aPlan.String()
	want := tree{"plan.txt": "b's plan, written later", "plan.sync-conflict-20261206-070000-" + key[len(key)-7:] + ".txt": "a's plan"}
	sameTree(t, "a's folder", readTree(t, dirA), want)
	sameTree(t, "b's folder", readTree(t, dirB), want)
	if len(resA.Conflicts) != 1 || len(resB.Conflicts) != 1 {
		t.Errorf("conflicts: a %v, b %v; want one each", resA.Conflicts, resB.Conflicts)
	}
}

// TestModesChangedHere: of a folder that syncs, a file whose mode or time
// changed since the mirror took it as written is a change here (its meta
// to share); one as written, or whose mode a meta set (the disk keeping
// it or not), is not; a folder that no longer holds the version says
// nothing (it is being changed: the next look sees it).
func TestModesChangedHere(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := tree{"run.sh": "#!/bin/sh\n", "notes.txt": "notes", "sub": tree{"a.txt": "a"}}
	v := version(t, bs, tr)
	m := opened(t, &shares{bs: bs})
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   bool
	}{
		{"as written", func(*testing.T, string) {}, false},
		{"chmod +x", func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "run.sh"), 0o755) }, true},
		{"touched", func(t *testing.T, dir string) {
			when := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := os.Chtimes(filepath.Join(dir, "sub", "a.txt"), when, when); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a folder's mode", func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "sub"), 0o700) }, true},
		{"being changed", func(t *testing.T, dir string) {
			chmod(t, filepath.Join(dir, "run.sh"), 0o755)
			writeFile(t, filepath.Join(dir, "notes.txt"), "notes, longer now")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := syncingFolder(t, m, bs, v)
			tc.change(t, dir)
			got, seen, err := m.ModesChangedHere(ctx, dir, v, bs)
			if err != nil || got != tc.want {
				t.Errorf("changed here: %v (%v), want %v", got, err, tc.want)
			}
			if tc.name == "being changed" {
				if seen != nil {
					t.Errorf("a folder being changed: seen %v, want none", seen)
				}
				return
			}
			st, err := os.Stat(filepath.Join(dir, "run.sh"))
			if err != nil {
				t.Fatal(err)
			}
			want := EntryMeta{Mode: uint32(st.Mode().Perm()), Mtime: st.ModTime().UnixNano()}
			if len(seen) != 4 || seen["run.sh"] != want {
				t.Errorf("seen %v, want 4 entries (run.sh %v)", seen, want)
			}
		})
	}
	if _, _, err := m.ModesChangedHere(ctx, t.TempDir(), v, bs); !errors.Is(err, ErrNotFound) {
		t.Errorf("a folder that does not sync: %v, want ErrNotFound", err)
	}
}

// TestSyncedRecordsWhatWasRead: a touch or chmod between the share's read
// of the folder and Synced is not taken as shared: the manifest records
// what was read (Shared.Seen), so the next look finds the change here.
// (Without it, a touch just as the watch looked was never shared.)
func TestSyncedRecordsWhatWasRead(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	v := version(t, bs, tree{"run.sh": "#!/bin/sh\n", "notes.txt": "notes", "sub": tree{"a.txt": "a"}})
	m := opened(t, &shares{bs: bs})
	for _, tc := range []struct {
		name string
		seen bool
		want bool
	}{
		{"without what was read", false, false},
		{"with what was read", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := syncingFolder(t, m, bs, v)
			changed, seen, err := m.ModesChangedHere(ctx, dir, v, bs)
			if err != nil || changed {
				t.Fatalf("as written: changed %v (%v)", changed, err)
			}
			// Between the read and Synced: a touch, a file's chmod, a folder's.
			when := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
			if err := os.Chtimes(filepath.Join(dir, "notes.txt"), when, when); err != nil {
				t.Fatal(err)
			}
			chmod(t, filepath.Join(dir, "run.sh"), 0o755)
			chmod(t, filepath.Join(dir, "sub"), 0o700)
			sh := Shared{Root: v}
			if tc.seen {
				sh.Seen = seen
			}
			if err := m.Synced(ctx, dir, sh, bs, time.Now(), true, nil); err != nil {
				t.Fatal(err)
			}
			changed, _, err = m.ModesChangedHere(ctx, dir, v, bs)
			if err != nil || changed != tc.want {
				t.Errorf("after Synced: changed here %v (%v), want %v", changed, err, tc.want)
			}
		})
	}
}

// syncingFolder is a folder holding v, written by m, which syncs it both
// ways until the test ends.
func syncingFolder(t *testing.T, m *Mirrors, bs blockstore.Blockstore, v cid.Cid) string {
	t.Helper()
	dir := mustMkdir(t, filepath.Join(t.TempDir(), "Docs"))
	apply(t, bs, v, dir, Manifest{})
	if _, err := m.Add(context.Background(), Mirror{Path: dir, GroupID: "g1", Group: "family", Name: "Docs", Cid: v.String(), Sync: true}, bs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Remove(dir) })
	return dir
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
