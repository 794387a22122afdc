package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	if ents, err := os.ReadDir(filepath.Dir(p)); err != nil || len(ents) != 1 {
		t.Fatalf("the folder holds %v (%v), want list.json alone: a temporary file stays", ents, err)
	}
	missing := filepath.Join(t.TempDir(), "no", "list.json")
	if err := Write(missing, []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing folder: %v", err)
	}
}

// TestWriteConcurrent: writers at once (a group's state saved by its loop
// and by a join) each replace the file whole: none fails, the file holds
// one writer's content, and no temporary file stays.
func TestWriteConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state")
	bodies := make(map[string]bool)
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for w := range 8 {
		body := strings.Repeat(fmt.Sprintf("writer %d ", w), 1000+w)
		bodies[body] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := Write(p, []byte(body), 0o600); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || !bodies[string(b)] {
		t.Fatalf("the file holds %d bytes that no writer wrote whole (%v)", len(b), err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
		t.Fatalf("the folder holds %v (%v), want state alone", ents, err)
	}
}
