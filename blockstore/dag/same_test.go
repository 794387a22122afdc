package dag

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

// TestHoldsTree: a folder is told to hold a DAG only when it is what a
// get of it writes, and any difference a get run again would meet (a file
// added, gone, changed with its size kept, of another kind; a link to
// elsewhere) makes it differ.
func TestHoldsTree(t *testing.T) {
	ctx := context.Background()
	withLink := sampleTree()
	withLink["sub"].(tree)["to-hello"] = link("../hello.txt")
	tests := []struct {
		name   string
		tr     tree
		change func(t *testing.T, dir string)
		want   bool
	}{
		{"as written", withLink, nil, true},
		{"HAMT folder as written", hamtTree(3000), nil, true},
		{"a file added", withLink, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sub", "new.txt"), "new") }, false},
		{"a hidden file added", withLink, func(t *testing.T, dir string) { write(t, filepath.Join(dir, ".hidden"), "x") }, false},
		{"Finder's .DS_Store and an Office lock file added", withLink, func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, ".DS_Store"), "x")
			write(t, filepath.Join(dir, "sub", "~$report.docx"), "x")
		}, true},
		{"a file removed", withLink, func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "hello2.txt")) }, false},
		{"an empty folder removed", withLink, func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "emptydir")) }, false},
		{"a byte changed, the size kept", withLink, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "binary.bin")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			write(t, p, string(b))
		}, false},
		{"a file grown", withLink, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "hello.txt"), "hello kith!\n") }, false},
		{"a file made a folder", withLink, func(t *testing.T, dir string) {
			remove(t, filepath.Join(dir, "empty"))
			if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a folder made a file", withLink, func(t *testing.T, dir string) {
			remove(t, filepath.Join(dir, "emptydir"))
			write(t, filepath.Join(dir, "emptydir"), "")
		}, false},
		{"a link to elsewhere", withLink, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "sub", "to-hello")
			remove(t, p)
			if err := os.Symlink("../hello2.txt", p); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a link made a file", withLink, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "sub", "to-hello")
			remove(t, p)
			write(t, p, "../hello.txt")
		}, false},
		{"a file renamed", withLink, func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "hello.txt"), filepath.Join(dir, "Hello.txt")); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			res := importNode(t, bs, tt.tr.node())
			out := filepath.Join(t.TempDir(), "out")
			if err := WriteTo(ctx, bs, res.Root, out, nil); err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(t, out)
			}
			var last, of int64
			same, size, err := HoldsTree(ctx, bs, res.Root, out, func(done, total int64) { last, of = done, total })
			if err != nil {
				t.Fatal(err)
			}
			if same != tt.want {
				t.Fatalf("HoldsTree = %v, want %v", same, tt.want)
			}
			if same && (size != res.Size || last != int64(res.Size) || of != int64(res.Size)) {
				t.Fatalf("size %d, progress %d of %d; the folder holds %d", size, last, of, res.Size)
			}
		})
	}

	t.Run("a file, not a folder", func(t *testing.T) {
		bs := blockstore.NewMemStore()
		res := importNode(t, bs, sampleTree().node())
		p := filepath.Join(t.TempDir(), "f")
		write(t, p, "x")
		if same, _, err := HoldsTree(ctx, bs, res.Root, p, nil); err != nil || same {
			t.Fatalf("HoldsTree of a file = %v, %v", same, err)
		}
	})
	t.Run("blocks not here", func(t *testing.T) {
		bs := blockstore.NewMemStore()
		res := importNode(t, bs, sampleTree().node())
		out := filepath.Join(t.TempDir(), "out")
		if err := WriteTo(ctx, bs, res.Root, out, nil); err != nil {
			t.Fatal(err)
		}
		if same, _, err := HoldsTree(ctx, blockstore.NewMemStore(), res.Root, out, nil); err == nil || same {
			t.Fatalf("HoldsTree with no blocks = %v, %v; want an error", same, err)
		}
	})
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}
