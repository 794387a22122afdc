package dag

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	mkdir := func(rel string, mode fs.FileMode) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("vault", 0o755)
	write("vault/v.txt", "in the vault", 0o644)
	bs := blockstore.NewMemStore()
	v1 := addReusing(t, bs, dir, nil)
	since := ticked(t, dir)
	write("locked.db", "changed, and no longer to be read", 0o600)
	write("new/secret", "never shared", 0o600)
	write("a.txt", "a, changed", 0o644)
	// Folders it may not list: one the earlier version had, one new.
	mkdir("vault", 0o700)
	mkdir("hidden", 0o755)
	write("hidden/h.txt", "h", 0o644)
	mkdir("hidden", 0o700)
	t.Cleanup(func() { mkdir("vault", 0o755); mkdir("hidden", 0o755) })

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
	if want := []report{{"hidden", false}, {"locked.db", true}, {"new/secret", false}, {"vault", true}}; !slices.Equal(got, want) {
		t.Errorf("reported %+v, want %+v: locked.db and vault as before, new/secret and hidden left out", got, want)
	}
	for rel, want := range map[string]string{"a.txt": "a, changed", "locked.db": "the shared bytes", "vault/v.txt": "in the vault"} {
		c, err := Resolve(ctx, bs, res.Root, strings.Split(rel, "/"))
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
	if _, err := Resolve(ctx, bs, res.Root, []string{"hidden"}); err == nil {
		t.Error("the new folder it could not list is in the version")
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
		if want := []report{{"hidden", false}, {"locked.db", false}, {"new/secret", false}, {"vault", false}}; !slices.Equal(got, want) {
			t.Errorf("left out, reusing %d: reported %+v, want %+v", len(opts), got, want)
		}
		for _, rel := range []string{"locked.db", "new/secret", "hidden", "vault"} {
			if _, err := Resolve(ctx, bs, res.Root, strings.Split(rel, "/")); err == nil {
				t.Errorf("left out, reusing %d: %s is in the version", len(opts), rel)
			}
		}
		if _, err := Resolve(ctx, bs, res.Root, []string{"a.txt"}); err != nil {
			t.Errorf("left out, reusing %d: a.txt: %v", len(opts), err)
		}
	}

	// An add that streams what it reads (the CLI's, when the daemon may
	// not read the folder) leaves them out as it opens the folder
	// (Exclusion.LeavingUnreadable): the importer never meets them.
	var u Unread
	asNobody(t, func() {
		node, oerr := OpenPath(dir, Exclusion{}.LeavingUnreadable(&u))
		if oerr != nil {
			err = oerr
			return
		}
		defer node.Close()
		res, err = NewImporter(bs).Add(ctx, node, nil)
	})
	if err != nil {
		t.Fatalf("leaving out as it opens: %v", err)
	}
	entries, count := u.Entries()
	var where []string
	for _, e := range entries {
		if !errors.Is(e.Err, fs.ErrPermission) {
			t.Errorf("%s left out with %v", e.Path, e.Err)
		}
		where = append(where, e.Path)
	}
	if want := []string{"hidden", "locked.db", "new/secret", "vault"}; !slices.Equal(where, want) || count != len(want) {
		t.Errorf("leaving out as it opens: %d left out, %v; want %v", count, where, want)
	}
	for _, rel := range where {
		if _, err := Resolve(ctx, bs, res.Root, strings.Split(rel, "/")); err == nil {
			t.Errorf("leaving out as it opens: %s is in the version", rel)
		}
	}
	if _, err := Resolve(ctx, bs, res.Root, []string{"a.txt"}); err != nil {
		t.Errorf("leaving out as it opens: a.txt: %v", err)
	}
}

// TestFingerprintUnlistable: a folder inside that may not be listed counts
// as its mode and time (its listing is not an error, as the add goes on
// past it); the top folder not to be listed is an error still.
func TestFingerprintUnlistable(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "docs")
	vault := filepath.Join(dir, "vault")
	for _, d := range []string{filepath.Dir(root), root, dir, vault} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(vault, "v.txt"), []byte("v"), 0o644); err != nil {
		t.Fatal(err)
	}
	print := func(p string) (string, error) {
		t.Helper()
		var sum string
		var err error
		asNobody(t, func() { sum, _, err = Fingerprint(p, Exclusion{}) })
		return sum, err
	}
	open, err := print(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(vault, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(vault, 0); err != nil {
			t.Fatal(err)
		}
	}
	defer os.Chmod(vault, 0o755)
	closed, err := print(dir)
	if err != nil {
		t.Fatalf("a folder with one inside not to be listed: %v", err)
	}
	if closed == open {
		t.Error("the folder inside closed: the same fingerprint")
	}
	if again, err := print(dir); err != nil || again != closed {
		t.Errorf("again: %s, %v; want %s", again, err, closed)
	}
	if _, err := print(vault); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("the folder itself not to be listed: %v, want the permission error", err)
	}
}
