package dag

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// countingStore counts Gets and records what is prefetched.
type countingStore struct {
	blockstore.Blockstore
	mu         sync.Mutex
	gets       map[cid.Cid]int
	prefetched []cid.Cid
}

func (c *countingStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	c.mu.Lock()
	c.gets[k]++
	c.mu.Unlock()
	return c.Blockstore.Get(ctx, k)
}

func (c *countingStore) Prefetch(_ context.Context, cids []cid.Cid) {
	c.mu.Lock()
	c.prefetched = append(c.prefetched, cids...)
	c.mu.Unlock()
}

func TestStreamReadsWhatItIsAskedFor(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	// 100-byte chunks and 1024 links per node: 3,001 leaves under three
	// inner nodes, so seeks cross levels.
	data := detBytes(40, 300_077)
	res := importNode(t, bs, files.NewBytesFile(data), WithChunkSize(100))
	cs := &countingStore{Blockstore: bs, gets: map[cid.Cid]int{}}
	s, size, err := OpenStream(ctx, cs, res.Root, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if size != int64(len(data)) {
		t.Fatalf("size %d, want %d", size, len(data))
	}

	// A ranged read in the middle: root, one inner node, two leaves.
	const from, to = 150_050, 150_149 // crosses a leaf boundary
	s.SetLimit(to + 1)
	if _, err := s.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, to-from+1)
	if _, err := io.ReadFull(s, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data[from:to+1]) {
		t.Fatal("ranged read gave the wrong bytes")
	}
	if len(cs.gets) != 4 {
		t.Fatalf("ranged read got %d distinct blocks, want 4 (root, inner node, two leaves)", len(cs.gets))
	}
	for _, c := range cs.prefetched {
		if cs.gets[c] == 0 {
			t.Fatalf("prefetched %s, which the range does not need", c)
		}
	}

	// Random seeks and reads across the whole file.
	s.SetLimit(size)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rng.Int64N(size)
		n := min(rng.Int64N(700), size-off)
		if _, err := s.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(s, got); err != nil {
			t.Fatalf("read %d at %d: %v", n, off, err)
		}
		if !bytes.Equal(got, data[off:off+n]) {
			t.Fatalf("read %d at %d: wrong bytes", n, off)
		}
	}
	if _, err := s.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if k, err := s.Read(make([]byte, 1)); k != 0 || err != io.EOF {
		t.Fatalf("read at end = %d, %v; want EOF", k, err)
	}
	// The whole file, start to end.
	if _, err := s.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("reading it all: %d bytes, %v", len(all), err)
	}
}

func TestStreamSingleBlockAndFolder(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	small := importNode(t, bs, files.NewBytesFile([]byte("one raw block")))
	s, size, err := OpenStream(ctx, bs, small.Root, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "one raw block" || size != 13 {
		t.Fatalf("single block: %q (%d), %v", got, size, err)
	}
	dir := importNode(t, bs, files.NewMapDirectory(map[string]files.Node{"a": files.NewBytesFile([]byte("a"))}))
	if _, _, err := OpenStream(ctx, bs, dir.Root, 4); err == nil {
		t.Fatal("OpenStream of a folder succeeded")
	}
}
