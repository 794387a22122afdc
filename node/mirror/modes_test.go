package mirror

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

// TestOpenToAll: a folder is taken as on a file system that keeps no
// modes only when it and every entry read rwxrwxrwx.
func TestOpenToAll(t *testing.T) {
	open, closed := filepath.Join(t.TempDir(), "open"), filepath.Join(t.TempDir(), "closed")
	for d, mode := range map[string]os.FileMode{open: 0o777, closed: 0o755} {
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	all := Meta{"a.txt": {Mode: 0o777}, "sub": {Mode: 0o777}}
	for _, c := range []struct {
		name string
		dir  string
		m    Meta
		want bool
	}{
		{"all rwxrwxrwx", open, all, true},
		{"the folder itself rwxr-xr-x", closed, all, false},
		{"one file rw-r--r--", open, Meta{"a.txt": {Mode: 0o777}, "b.txt": {Mode: 0o644}}, false},
		{"nothing in it", open, Meta{}, false},
		{"a folder not there", filepath.Join(open, "gone"), all, false},
	} {
		if got := openToAll(c.dir, c.m); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestApplyKeepsTheModeOfAFileItWritesOver: a file the version changed is
// written with the mode the file had here (a script stays executable when
// the version's meta gives no mode: a file system that keeps none, or a
// sharer on an older kith).
func TestApplyKeepsTheModeOfAFileItWritesOver(t *testing.T) {
	bs := blockstore.NewMemStore()
	v1 := version(t, bs, tree{"run.sh": "#!/bin/sh\necho 1\n"})
	v2 := version(t, bs, tree{"run.sh": "#!/bin/sh\necho 2, longer\n"})
	dir := t.TempDir()
	man := Manifest{}
	apply(t, bs, v1, dir, man)
	if _, err := applyMeta(dir, man, Meta{"run.sh": {Mode: 0o750}}); err != nil {
		t.Fatal(err)
	}
	apply(t, bs, v2, dir, man)
	holds(t, dir, v2)
	if st, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("run.sh written over: %v (%v), want rwxr-x--- kept", st.Mode().Perm(), err)
	}
}
