package dag

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

func TestWriteToRoundTrip(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		tr   tree
	}{
		{"nested folders, empty file and folder, binary", sampleTree()},
		{"HAMT folder", hamtTree(5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			res := importNode(t, bs, tt.tr.node())
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			var last int64
			if err := WriteTo(ctx, bs, res.Root, out, func(n int64) { last = n }); err != nil {
				t.Fatal(err)
			}
			diffTrees(t, "", tt.tr, readDisk(t, out))
			if uint64(last) != res.Size {
				t.Errorf("progress ended at %d, want %d", last, res.Size)
			}
			noLeftovers(t, parent, "out")
		})
	}
}

func TestWriteToFile(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	data := detBytes(5, 2<<20+3)
	res := importNode(t, bs, files.NewBytesFile(data))
	parent := t.TempDir()
	out := filepath.Join(parent, "f.bin")
	if err := WriteTo(ctx, bs, res.Root, out, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != string(data) {
		t.Fatalf("content differs (err %v)", err)
	}

	// An existing output is refused, and left alone.
	other := importNode(t, bs, files.NewBytesFile([]byte("other")))
	if err := WriteTo(ctx, bs, other.Root, out, nil); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("err = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(out); string(got) != string(data) {
		t.Error("refused write changed the file")
	}
	// Unless overwriting is allowed, for a file or a folder in its place.
	if err := WriteTo(ctx, bs, other.Root, out, nil, WithOverwrite(true)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "other" {
		t.Errorf("overwrite gave %q", got)
	}
	dir := importNode(t, bs, sampleTree().node())
	if err := WriteTo(ctx, bs, dir.Root, out, nil, WithOverwrite(true)); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, "", sampleTree(), readDisk(t, out))
	noLeftovers(t, parent, "f.bin")
}

// TestWriteToRenameOver: a file or a link renamed over a file or a link
// replaces it (the same inode never holds half of each); over a folder it
// fails and leaves the folder as it was.
func TestWriteToRenameOver(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	parent := t.TempDir()
	out := filepath.Join(parent, "f.txt")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(out)
	file := importNode(t, bs, files.NewBytesFile([]byte("new")))
	if err := WriteTo(ctx, bs, file.Root, out, nil, WithRenameOver()); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(out)
	if got, _ := os.ReadFile(out); string(got) != "new" || os.SameFile(before, after) {
		t.Errorf("renamed over: %q (same inode %v), want new, in a new inode", got, os.SameFile(before, after))
	}
	ln := importNode(t, bs, files.NewLinkFile("f.txt", nil))
	if err := WriteTo(ctx, bs, ln.Root, out, nil, WithRenameOver()); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(out); err != nil || target != "f.txt" {
		t.Errorf("a link renamed over the file: %q, %v", target, err)
	}
	dir := filepath.Join(parent, "folder")
	if err := os.MkdirAll(filepath.Join(dir, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteTo(ctx, bs, file.Root, dir, nil, WithRenameOver()); err == nil {
		t.Error("a file renamed over a folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "inside")); err != nil {
		t.Errorf("the folder was touched: %v", err)
	}
	noLeftovers(t, parent, "f.txt", "folder")
}

// TestSweepTemps: the leftovers of interrupted writes of a folder's
// entries go, the entries and other hidden files stay.
func TestSweepTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".a.txt.kith-tmp-1", ".b.kith-tmp-22", "a.txt", ".hidden", "kith-tmp-x"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	SweepTemps(dir)
	noLeftovers(t, dir, "a.txt", ".hidden", "kith-tmp-x")
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("%d entries left, want 3", len(ents))
	}
}

// A cut-short write leaves nothing under the final name.
func TestWriteToCancelledLeavesNothing(t *testing.T) {
	bs := blockstore.NewMemStore()
	res := importNode(t, bs, files.NewBytesFile(detBytes(6, 8<<20)))
	parent := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	err := WriteTo(ctx, bs, res.Root, filepath.Join(parent, "big"), func(n int64) {
		if n > 2<<20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	noLeftovers(t, parent)
}

// evilDir stores a dag-pb folder holding one file under name, built by hand
// since the importer refuses such names.
func evilDir(t *testing.T, bs blockstore.Blockstore, name string) cid.Cid {
	t.Helper()
	ctx := context.Background()
	file, err := merkledag.NewRawNodeWPrefix([]byte("pwned\n"), merkledag.V1CidPrefix())
	if err != nil {
		t.Fatal(err)
	}
	dir := ft.EmptyDirNode()
	if err := dir.SetCidBuilder(merkledag.V1CidPrefix()); err != nil {
		t.Fatal(err)
	}
	if err := dir.AddRawLink(name, &ipld.Link{Cid: file.Cid(), Size: 6}); err != nil {
		t.Fatal(err)
	}
	if err := bs.PutMany(ctx, []blocksBlock{file, dir}); err != nil {
		t.Fatal(err)
	}
	return dir.Cid()
}

func TestWriteToRefusesUnsafeNames(t *testing.T) {
	names := []string{"", ".", "..", "../escape", "a/b", "/etc/passwd", `..\evil`, "a\x00b"}
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, "\x00", "NUL"), func(t *testing.T) {
			ctx := context.Background()
			bs := blockstore.NewMemStore()
			bad := evilDir(t, bs, name)
			// Nest it one level down to check the reported path.
			outer := importNode(t, bs, files.NewMapDirectory(map[string]files.Node{
				"ok.txt": files.NewBytesFile([]byte("fine")),
			}))
			top := ft.EmptyDirNode()
			_ = top.SetCidBuilder(merkledag.V1CidPrefix())
			_ = top.AddRawLink("inner", &ipld.Link{Cid: bad})
			_ = top.AddRawLink("good", &ipld.Link{Cid: outer.Root})
			if err := bs.Put(ctx, top); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			err := WriteTo(ctx, bs, top.Cid(), filepath.Join(parent, "out"), nil)
			if !errors.Is(err, ErrUnsafeName) {
				t.Fatalf("err = %v, want ErrUnsafeName", err)
			}
			var une *UnsafeNameError
			if !errors.As(err, &une) || une.Name != name || !strings.Contains(err.Error(), "inner") {
				t.Errorf("error %q does not name the entry", err)
			}
			noLeftovers(t, parent)
			if _, err := os.Stat(filepath.Join(filepath.Dir(parent), "escape")); !isNotExist(err) {
				t.Error("escaped the output folder")
			}
		})
	}
}

// TestWriteToExclusion: the entries an Exclusion names are left out with
// what they hold, at any depth, and never read: a store that lacks them
// (a fetch that left them out) writes the rest.
func TestWriteToExclusion(t *testing.T) {
	ctx := context.Background()
	src := tree{
		"keep.txt": []byte("kept\n"),
		"big.iso":  detBytes(3, 2<<20+7),
		"build":    tree{"out.o": []byte("obj")},
		"sub": tree{
			"notes.tmp": []byte("scratch"),
			"build":     []byte("a file called build"),
			"deep":      tree{"photo.iso": detBytes(4, 1<<20+1), "ok.txt": []byte("ok")},
		},
	}
	tests := []struct {
		name     string
		patterns []string
		want     tree
		drop     []string // paths whose blocks the store loses before the write
	}{
		{"nothing left out", nil, src, nil},
		{"by name pattern, at any depth, unread", []string{"*.iso", "*.tmp"}, tree{
			"keep.txt": src["keep.txt"],
			"build":    src["build"],
			"sub":      tree{"build": []byte("a file called build"), "deep": tree{"ok.txt": []byte("ok")}},
		}, []string{"big.iso", "sub/deep/photo.iso", "sub/notes.tmp"}},
		{"folders only", []string{"build/"}, tree{
			"keep.txt": src["keep.txt"],
			"big.iso":  src["big.iso"],
			"sub":      src["sub"],
		}, []string{"build/out.o"}},
		{"a whole folder by name", []string{"deep"}, tree{
			"keep.txt": src["keep.txt"],
			"big.iso":  src["big.iso"],
			"build":    src["build"],
			"sub":      tree{"notes.tmp": []byte("scratch"), "build": []byte("a file called build")},
		}, []string{"sub/deep/photo.iso", "sub/deep/ok.txt"}},
		{"a path from the top", []string{"/build", "sub/deep/ok.txt"}, tree{
			"keep.txt": src["keep.txt"],
			"big.iso":  src["big.iso"],
			"sub": tree{"notes.tmp": []byte("scratch"), "build": []byte("a file called build"),
				"deep": tree{"photo.iso": src["sub"].(tree)["deep"].(tree)["photo.iso"]}},
		}, []string{"build/out.o", "sub/deep/ok.txt"}},
		{"a path with **", []string{"sub/**/*.iso"}, tree{
			"keep.txt": src["keep.txt"],
			"big.iso":  src["big.iso"],
			"build":    src["build"],
			"sub":      tree{"notes.tmp": []byte("scratch"), "build": []byte("a file called build"), "deep": tree{"ok.txt": []byte("ok")}},
		}, []string{"sub/deep/photo.iso"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			res := importNode(t, bs, src.node())
			for _, p := range tt.drop {
				c, err := Resolve(ctx, bs, res.Root, strings.Split(p, "/"))
				if err != nil {
					t.Fatal(err)
				}
				dropDAG(t, bs, c)
			}
			x, err := NewExclusion(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			if err := WriteTo(ctx, bs, res.Root, out, nil, WithExclusion(x)); err != nil {
				t.Fatal(err)
			}
			diffTrees(t, "", tt.want, readDisk(t, out))
			noLeftovers(t, parent, "out")
		})
	}
}

// dropDAG deletes from bs every block of the DAG at c.
func dropDAG(t *testing.T, bs blockstore.Blockstore, c cid.Cid) {
	t.Helper()
	ctx := context.Background()
	if c.Type() == cid.DagProtobuf {
		blk, err := bs.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		nd, err := merkledag.DecodeProtobuf(blk.RawData())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range nd.Links() {
			dropDAG(t, bs, l.Cid)
		}
	}
	if err := bs.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
}
