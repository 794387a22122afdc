package dag

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// detReader returns a fast deterministic stream of n pseudo-random bytes.
func detReader(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func detBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(detReader(seed, int64(n)), b); err != nil {
		panic(err)
	}
	return b
}

// importNode imports n into a new (or the given) MemStore.
func importNode(t testing.TB, bs blockstore.Blockstore, n files.Node, opts ...ImportOption) Result {
	t.Helper()
	res, err := NewImporter(bs, opts...).Add(context.Background(), n, nil)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return res
}

// tree is a test folder description: a name maps to []byte (file), tree
// (folder) or link (symbolic link).
type tree map[string]any

// link is a symbolic link's target in a tree.
type link string

func (tr tree) node() files.Directory {
	m := make(map[string]files.Node, len(tr))
	for name, v := range tr {
		switch v := v.(type) {
		case []byte:
			m[name] = files.NewBytesFile(v)
		case tree:
			m[name] = v.node()
		case link:
			m[name] = files.NewSymlinkFile(string(v), timeZero)
		default:
			panic("bad tree entry")
		}
	}
	return files.NewMapDirectory(m)
}

// writeDisk materialises tr under dir.
func (tr tree) writeDisk(t testing.TB, dir string) {
	t.Helper()
	for name, v := range tr {
		p := filepath.Join(dir, name)
		switch v := v.(type) {
		case []byte:
			if err := os.WriteFile(p, v, 0o644); err != nil {
				t.Fatal(err)
			}
		case tree:
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			v.writeDisk(t, p)
		case link:
			if err := os.Symlink(string(v), p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readDisk reads the folder at dir back into a tree.
func readDisk(t testing.TB, dir string) tree {
	t.Helper()
	out := tree{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			out[e.Name()] = readDisk(t, p)
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = link(target)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// diffTrees reports the first difference between want and got.
func diffTrees(t testing.TB, prefix string, want, got tree) {
	t.Helper()
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		p := prefix + "/" + n
		w, okw := want[n]
		g, okg := got[n]
		if !okw || !okg {
			t.Errorf("%s: present in want=%v got=%v", p, okw, okg)
			continue
		}
		switch w := w.(type) {
		case []byte:
			gb, ok := g.([]byte)
			if !ok || !bytes.Equal(w, gb) {
				t.Errorf("%s: file content differs", p)
			}
		case tree:
			gt, ok := g.(tree)
			if !ok {
				t.Errorf("%s: want folder", p)
				continue
			}
			diffTrees(t, p, w, gt)
		case link:
			if g != w {
				t.Errorf("%s: got %#v, want a symbolic link to %q", p, g, w)
			}
		}
	}
}

// noLeftovers fails if dir holds anything but the listed names.
func noLeftovers(t testing.TB, dir string, allowed ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, e := range ents {
		if !ok[e.Name()] {
			t.Errorf("unexpected leftover %s in %s", e.Name(), dir)
		}
	}
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// hookStore wraps a Blockstore to count calls and inject failures.
type hookStore struct {
	blockstore.Blockstore
	putManyCalls atomic.Int64
	syncCalls    atomic.Int64
	failPutMany  error
}

func (h *hookStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	h.putManyCalls.Add(1)
	if h.failPutMany != nil {
		return h.failPutMany
	}
	return h.Blockstore.PutMany(ctx, bs)
}

func (h *hookStore) Sync(context.Context) error {
	h.syncCalls.Add(1)
	return nil
}

var _ blockstore.Syncer = (*hookStore)(nil)

func mustCid(t testing.TB, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var timeZero = time.Time{}

type blocksBlock = blocks.Block
