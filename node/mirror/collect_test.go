package mirror

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// TestCollectMeta: what an import reads through CollectMeta leaves in m
// each file's and folder's mode and time, by path (a file alone at "."),
// and no link, no entry without a mode, no folder's own.
func TestCollectMeta(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Docs")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	then := time.Date(2020, 2, 3, 4, 5, 6, 7, time.UTC)
	for name, mode := range map[string]os.FileMode{"a.sh": 0o755, "sub/b.txt": 0o600} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.sh", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.sh", "sub/b.txt", "sub", "."} {
		if err := os.Chtimes(filepath.Join(dir, p), then, then); err != nil {
			t.Fatal(err)
		}
	}
	read := func(nd files.Node) Meta {
		t.Helper()
		m := Meta{}
		if err := files.Walk(CollectMeta(nd, m), func(string, files.Node) error { return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	open := func(p string) files.Node {
		t.Helper()
		nd, err := dag.OpenPath(p, dag.Exclusion{})
		if err != nil {
			t.Fatal(err)
		}
		return nd
	}
	at := then.UnixNano()
	if got, want := read(open(dir)), (Meta{"a.sh": {0o755, at}, "sub": {0o750, at}, "sub/b.txt": {0o600, at}}); !reflect.DeepEqual(got, want) {
		t.Errorf("a folder: %v, want %v", got, want)
	}
	if got, want := read(open(filepath.Join(dir, "a.sh"))), (Meta{".": {0o755, at}}); !reflect.DeepEqual(got, want) {
		t.Errorf("a file: %v, want %v", got, want)
	}
	if got := read(files.NewReaderFile(strings.NewReader("piped"))); len(got) != 0 {
		t.Errorf("a stream with no mode: %v", got)
	}
}
