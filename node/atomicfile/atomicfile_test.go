package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: the file holds the new content with the mode asked, no
// temporary file stays, and a folder that does not exist is an error that
// names the file.
func TestWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list.json")
	for _, body := range []string{"first", "second, longer"} {
		if err := Write(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != body {
			t.Fatalf("after writing %q the file holds %q, %v", body, b, err)
		}
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	if _, err := os.Stat(p + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("the temporary file stays: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "no", "list.json")
	if err := Write(missing, []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing folder: %v", err)
	}
}
