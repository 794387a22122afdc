package dag

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

// asNobody runs f on a thread that opens files as user nobody (65534)
// when the test runs as root, whom no file permission stops; else as the
// user it is.
func asNobody(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		f()
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := syscall.Setfsuid(65534); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setfsuid(0)
	f()
}

// TestImportUnreadable: a file of a folder the import cannot open fails
// it, unless WithUnreadable, with the earlier version known (Reuse): then
// a file the earlier version has is linked as it was there, a new one is
// left out, and each is reported; without the earlier version it fails
// still (left out, it would read as deleted).
func TestImportUnreadable(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "docs")
	for _, d := range []string{filepath.Dir(root), root, dir, filepath.Join(dir, "new")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // nobody must get through
			t.Fatal(err)
		}
	}
	write := func(rel, data string, mode fs.FileMode) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "a", 0o644)
	write("locked.db", "the shared bytes", 0o644)
	bs := blockstore.NewMemStore()
	v1 := addReusing(t, bs, dir, nil)
	since := ticked(t, dir)
	write("locked.db", "changed, and no longer to be read", 0o600)
	write("new/secret", "never shared", 0o600)
	write("a.txt", "a, changed", 0o644)

	add := func(opts ...ImportOption) (Result, error) {
		t.Helper()
		var res Result
		var err error
		asNobody(t, func() {
			node, oerr := OpenPath(dir, Exclusion{})
			if oerr != nil {
				err = oerr
				return
			}
			defer node.Close()
			im := NewImporter(bs, opts...)
			im.margin = 0
			res, err = im.Add(ctx, node, nil)
		})
		return res, err
	}
	if _, err := add(WithReuse(Reuse{Prev: v1.Root, Since: since})); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("without WithUnreadable: %v, want the permission error", err)
	}
	type report struct {
		where    string
		asBefore bool
	}
	var got []report
	res, err := add(WithReuse(Reuse{Prev: v1.Root, Since: since}), WithUnreadable(func(where string, err error, asBefore bool) {
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s reported with %v", where, err)
		}
		got = append(got, report{where, asBefore})
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (report{"locked.db", true}) || got[1] != (report{"new/secret", false}) {
		t.Errorf("reported %+v, want locked.db as before and new/secret left out", got)
	}
	for rel, want := range map[string]string{"a.txt": "a, changed", "locked.db": "the shared bytes"} {
		c, err := Resolve(ctx, bs, res.Root, []string{rel})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := Open(ctx, bs, c)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 64)
		n, _ := r.Read(b)
		r.Close()
		if string(b[:n]) != want {
			t.Errorf("%s in the new version holds %q, want %q", rel, b[:n], want)
		}
	}
	if _, err := Resolve(ctx, bs, res.Root, []string{"new", "secret"}); err == nil {
		t.Error("the new file it could not read is in the version")
	}
	if _, err := add(WithUnreadable(func(string, error, bool) {})); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("WithUnreadable with no earlier version: %v, want the permission error", err)
	}

	// A first share (WithUnreadableLeftOut) leaves out every file it
	// cannot read, with or without an earlier version: what it holds of
	// each file is what the file holds now.
	for _, opts := range [][]ImportOption{nil, {WithReuse(Reuse{Prev: v1.Root, Since: since})}} {
		got = nil
		res, err := add(append(opts, WithUnreadableLeftOut(func(where string, err error, asBefore bool) {
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("%s reported with %v", where, err)
			}
			got = append(got, report{where, asBefore})
		}))...)
		if err != nil {
			t.Fatalf("left out, reusing %d: %v", len(opts), err)
		}
		if len(got) != 2 || got[0] != (report{"locked.db", false}) || got[1] != (report{"new/secret", false}) {
			t.Errorf("left out, reusing %d: reported %+v, want locked.db and new/secret left out", len(opts), got)
		}
		for _, rel := range []string{"locked.db", "new/secret"} {
			if _, err := Resolve(ctx, bs, res.Root, strings.Split(rel, "/")); err == nil {
				t.Errorf("left out, reusing %d: %s is in the version", len(opts), rel)
			}
		}
		if _, err := Resolve(ctx, bs, res.Root, []string{"a.txt"}); err != nil {
			t.Errorf("left out, reusing %d: a.txt: %v", len(opts), err)
		}
	}
}
