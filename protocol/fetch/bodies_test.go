package fetch

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/kith-p2p/kith/blockstore"
)

// TestBodyClasses: blocks of the pooled sizes get a buffer of their class,
// starting on a 4 KiB boundary (so the store's direct write takes it as
// it is); others get a buffer of their own length.
func TestBodyClasses(t *testing.T) {
	for _, tc := range []struct {
		n       int
		pooled  bool
		wantCap int
	}{
		{100, false, 100},
		{minPooledBody, false, minPooledBody},
		{minPooledBody + 1, true, 256 << 10},
		{256 << 10, true, 256 << 10},
		{256<<10 + 1, true, 1 << 20},
		{1 << 20, true, 1 << 20},
		{1<<20 + 1, false, 1<<20 + 1},
		{2 << 20, false, 2 << 20},
	} {
		if got := bodyClass(tc.n) >= 0; got != tc.pooled {
			t.Errorf("bodyClass(%d) pooled = %v, want %v", tc.n, got, tc.pooled)
		}
		for range 2 { // a new buffer, then (likely) the one given back
			b := getBody(tc.n)
			if len(b) != tc.n || cap(b) != tc.wantCap {
				t.Errorf("getBody(%d): len %d cap %d, want len %d cap %d", tc.n, len(b), cap(b), tc.n, tc.wantCap)
			}
			if tc.pooled && !aligned(b) {
				t.Errorf("getBody(%d) does not start on a 4 KiB boundary", tc.n)
			}
			putBody(b) // pooled or not, never panics
		}
	}
}

func aligned(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4096 == 0 }

// copyingStore is an in-memory store that copies what it keeps, as the
// Badger store does, and says so (blockstore.PutCopier). It counts the
// blocks whose bytes came in a pooled buffer (aligned, with the capacity
// of a class).
type copyingStore struct {
	blockstore.Blockstore
	pooled atomic.Int64
}

func (s *copyingStore) PutCopies() bool { return true }

func (s *copyingStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	cp := make([]blocks.Block, len(bs))
	for i, b := range bs {
		if d := b.RawData(); aligned(d) && slices.Contains(bodyClasses[:], cap(d)) {
			s.pooled.Add(1)
		}
		nb, err := blocks.NewBlockWithCid(append([]byte(nil), b.RawData()...), b.Cid())
		if err != nil {
			return err
		}
		cp[i] = nb
	}
	return s.Blockstore.PutMany(ctx, cp)
}

// TestFetchReusesBlockBuffers: into a store that copies what it keeps, a
// fetch reads large blocks into pooled buffers and reuses them, and every
// block stored is the one its CID names: a buffer given back before the
// store had copied it shows as a wrong block (checked: it fails so). Two
// seeders, one slow, so endgame duplicates are given back too. (The dag-pb
// nodes here are too small to be pooled; deliver keeps a pooled one's
// buffer away from the pool anyway, as the walker reads it later.)
func TestFetchReusesBlockBuffers(t *testing.T) {
	mn, hs := newMocknet(t, 3)
	slow, fast := hs[1], hs[2]
	setLink(t, mn, hs[0], slow, mocknet.LinkOptions{Bandwidth: 4 << 20})
	src := blockstore.NewMemStore()
	root := addFolders(t, src, 4, 6, func(i int) int { return (i%4)*(1<<20) + 1000*i + 1 })
	serve(t, slow, src)
	serve(t, fast, src)
	dst := &copyingStore{Blockstore: blockstore.NewMemStore()}
	if _, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, infos(slow, fast), nil); err != nil {
		t.Fatal(err)
	}
	want, _ := dagBlocks(t, src, root)
	for c := range want {
		b, err := dst.Get(context.Background(), c)
		if err != nil {
			t.Fatalf("block %s missing after the fetch: %v", c, err)
		}
		if err := verify(c, b.RawData()); err != nil {
			t.Fatalf("stored block: %v", err)
		}
	}
	if dst.pooled.Load() == 0 {
		t.Fatal("no block came in a pooled buffer")
	}
}
