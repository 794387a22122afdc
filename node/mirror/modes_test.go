package mirror

import (
	"os"
	"path/filepath"
	"testing"
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
