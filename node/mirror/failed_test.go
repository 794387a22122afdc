package mirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// memVersion imports a folder of files (name -> bytes) made in memory: a
// version may hold names no folder here could (one too long).
func memVersion(t *testing.T, bs blockstore.Blockstore, fs map[string]string) cid.Cid {
	t.Helper()
	m := map[string]files.Node{}
	for name, data := range fs {
		m[name] = files.NewBytesFile([]byte(data))
	}
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewMapDirectory(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Root
}

// TestMirrorFilesItCannotWrite: a file of a newer version the folder
// cannot take (a name too long for its file system) does not hold back
// the others, before and after it: they are written, the mirror says
// which could not be and why, and the next version that it can take
// clears the error.
func TestMirrorFilesItCannotWrite(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := memVersion(t, bs, map[string]string{"a.txt": "one", "z.txt": "zed"})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	folder, _ := followGot(t, m, bs, v1)
	long := strings.Repeat("x", 300) + ".txt"
	v2 := memVersion(t, bs, map[string]string{"a.txt": "two", long: "a name too long here", "z.txt": "zed, changed"})
	src.share("g1", "Docs", v2)
	m.CheckAll(context.Background())
	mr := m.List()[0]
	for _, f := range []struct{ name, want string }{{"a.txt", "two"}, {"z.txt", "zed, changed"}} {
		if b, err := os.ReadFile(filepath.Join(folder, f.name)); err != nil || string(b) != f.want {
			t.Errorf("%s = %q, %v; want %q: a file the folder cannot take held it back", f.name, b, err, f.want)
		}
	}
	if want := "wrote family's newer Docs into " + folder + ", but could not update 1 of its files here: " + long + " (file name too long) (the others are up to date; these are tried again later)"; mr.Error != want || mr.Failed != v2.String() {
		t.Errorf("the mirror says %q (failed %s), want %q about %s", mr.Error, mr.Failed, want, v2)
	}
	if len(mr.Recent) != 2 || mr.Recent[0].Path != "a.txt" || mr.Recent[1].Path != "z.txt" {
		t.Errorf("recent changes %+v, want a.txt and z.txt written", mr.Recent)
	}
	v3 := memVersion(t, bs, map[string]string{"a.txt": "two", "short.txt": "a name it takes", "z.txt": "zed, changed"})
	src.share("g1", "Docs", v3)
	m.CheckAll(context.Background())
	if mr := m.List()[0]; mr.Error != "" || mr.Cid != v3.String() {
		t.Errorf("after a version it can take: %+v", mr)
	}
}

// TestApplyStopsForTheDisk: what no other file would fare better with
// (the bytes not to be had, a full disk) stops Apply at once, as one
// error; a file's own failure is a FilesError naming it, which unwraps
// to its error.
func TestApplyStopsForTheDisk(t *testing.T) {
	dir := t.TempDir()
	a := &applier{ctx: context.Background(), dir: dir}
	for _, tc := range []struct {
		err  error
		stop bool
	}{
		{&os.PathError{Op: "open", Path: "x", Err: syscall.ENAMETOOLONG}, false},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, false},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{&os.PathError{Op: "rename", Path: "x", Err: syscall.EROFS}, true},
		{fetchError{errors.New("no peer has it")}, true},
		{blockstore.ErrNotFound, true},
	} {
		if got := a.stops(tc.err); got != tc.stop {
			t.Errorf("stops(%v) = %v, want %v", tc.err, got, tc.stop)
		}
	}
	a.dir = filepath.Join(dir, "gone")
	if !a.stops(syscall.EACCES) {
		t.Error("a failure once the folder itself is gone does not stop the update")
	}
	fe := &FilesError{Count: 5, Failed: []FailedFile{
		{"a", &os.PathError{Op: "open", Path: "/x/a", Err: syscall.EACCES}, false},
		{"b", &os.LinkError{Op: "rename", Old: "/x/.b.tmp", New: "/x/b", Err: syscall.EBUSY}, false},
		{"c", errors.New("odd"), true}, {"d", errors.New("odd"), false}}}
	if want := "could not update 5 of its files here: a (permission denied); b (device or resource busy); c (not removed: odd); and 2 more (the others are up to date; these are tried again later)"; fe.Error() != want {
		t.Errorf("FilesError says %q, want %q", fe.Error(), want)
	}
	if !errors.Is(fe, syscall.EACCES) {
		t.Error("FilesError does not unwrap to its first file's error")
	}
}

// TestApplySyncFilesItCannotWrite: a folder that syncs both ways writes
// the version's changes it can take too, and its manifest does not say it
// holds the file it could not write (its next share from here does not
// hold that file as written here).
func TestApplySyncFilesItCannotWrite(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	dir := t.TempDir()
	man := Manifest{}
	v1 := memVersion(t, bs, map[string]string{"a": "a", "z": "z"})
	if _, err := Apply(ctx, Version{Root: v1, Store: bs, Sync: true}, dir, man, nil); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("y", 300)
	v2 := memVersion(t, bs, map[string]string{"a": "a theirs", long: "too long here", "z": "z theirs"})
	res, err := Apply(ctx, Version{Root: v2, Store: bs, Sync: true}, dir, man, nil)
	var fe *FilesError
	if !errors.As(err, &fe) || fe.Count != 1 || fe.Failed[0].Path != long || res.FailedCount != 1 {
		t.Fatalf("Apply: %v, want a FilesError naming the long name alone", err)
	}
	if !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("Apply's error %v does not unwrap to ENAMETOOLONG", err)
	}
	sameTree(t, "after the version", readTree(t, dir), tree{"a": "a theirs", "z": "z theirs"})
	if _, ok := man[long]; ok {
		t.Error("the manifest says the file it could not write is here")
	}
}

// TestSyncedUnread: a version this device shared from a folder that syncs
// with files it could not read is what the folder holds but for those:
// the manifest does not take them as written, so a newer version's
// change to one is judged as against a change made here.
func TestSyncedUnread(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	v := version(t, bs, tree{"a.txt": "a", "locked.db": "as shared before"})
	m := opened(t, &shares{bs: bs})
	dir := mustMkdir(t, filepath.Join(t.TempDir(), "Docs"))
	apply(t, bs, v, dir, Manifest{})
	if _, err := m.Add(ctx, Mirror{Path: dir, GroupID: "g1", Group: "family", Name: "Docs", Cid: v.String(), Sync: true}, bs); err != nil {
		t.Fatal(err)
	}
	if err := m.Synced(ctx, dir, Shared{Root: v, Unread: []string{"locked.db"}}, bs, time.Now(), true, nil); err != nil {
		t.Fatal(err)
	}
	mr := m.List()[0]
	m.mu.Lock()
	man, err := m.loadManifestLocked(mr)
	m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := man["locked.db"]; ok {
		t.Error("the manifest takes the file it could not read as written")
	}
	if _, ok := man["a.txt"]; !ok {
		t.Errorf("the manifest lacks a.txt: %v", man)
	}
}
