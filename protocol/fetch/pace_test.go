package fetch

import (
	"math"
	"sync"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/blockstore"
)

// TestFetcherDownloadLimit: a Fetcher with a download limiter receives no
// faster than it allows, over each way it receives: a fetch's lanes of
// /kith/fetch, FetchBlocks, and Bitswap replies. The bucket starts full
// (one maximal block), so the rest is paced.
func TestFetcherDownloadLimit(t *testing.T) {
	const limit = 4 << 20 // bytes per second
	data := detBytes(22, 6<<20)
	for _, tt := range []struct {
		name  string
		fetch func(t *testing.T) // fetches data under the limit
	}{
		{"kith lanes", func(t *testing.T) {
			_, hs := newMocknet(t, 2)
			src := blockstore.NewMemStore()
			root := addFile(t, src, data)
			serve(t, hs[1], src)
			dst := blockstore.NewMemStore()
			f := NewFetcher(hs[0], dst, WithDownloadLimiter(NewDownloadLimiter(limit)))
			if _, err := f.Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, root, data)
		}},
		{"FetchBlocks", func(t *testing.T) {
			_, hs := newMocknet(t, 2)
			src := blockstore.NewMemStore()
			root := addFile(t, src, data)
			serve(t, hs[1], src)
			all, _ := dagBlocks(t, src, root)
			want := make([]cid.Cid, 0, len(all))
			for c := range all {
				want = append(want, c)
			}
			f := NewFetcher(hs[0], blockstore.NewMemStore(), WithDownloadLimiter(NewDownloadLimiter(limit)), WithStallTimeout(10*time.Second))
			n, err := f.FetchBlocks(testCtx(t, time.Minute), hs[1].ID(), want, func(blocks.Block) {})
			if err != nil || n != len(want) {
				t.Fatalf("FetchBlocks: %d of %d, %v", n, len(want), err)
			}
		}},
		{"Bitswap", func(t *testing.T) {
			_, hs := newMocknet(t, 2)
			src := blockstore.NewMemStore()
			root := addFile(t, src, data)
			fb := newFakeBitswap()
			fb.add(hs[1].ID(), &fakeSeeder{bs: src})
			dst := blockstore.NewMemStore()
			f := NewFetcher(hs[0], dst, WithBitswap(fb), WithDownloadLimiter(NewDownloadLimiter(limit)))
			if _, err := f.Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, root, data)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tt.fetch(t)
			d, least := time.Since(start), time.Duration(float64(len(data)-MaxBlockSize)/limit*float64(time.Second))
			t.Logf("6 MiB at %d B/s: %v", limit, d)
			if d < least*9/10 {
				t.Errorf("6 MiB at %d B/s took %v, want at least %v", limit, d, least)
			}
		})
	}
}

// TestDownloadLimitSharedNoStall: fetches that share a low download limit
// receive each block far slower than a peer's minimum frame rate; that is
// this node's doing, so no peer is dropped as a trickle, and no block is
// asked of two peers (it would spend the cap twice).
func TestDownloadLimitSharedNoStall(t *testing.T) {
	const limit, fetches, size = 128 << 10, 8, 256 << 10
	_, hs := newMocknet(t, 3)
	srcs := []blockstore.Blockstore{blockstore.NewMemStore(), blockstore.NewMemStore()}
	var roots []cid.Cid
	var datas [][]byte
	for i := range fetches {
		data := detBytes(uint64(30+i), size)
		root := cid.Undef
		for _, src := range srcs {
			root = addFile(t, src, data)
		}
		roots, datas = append(roots, root), append(datas, data)
	}
	for i, src := range srcs {
		serve(t, hs[1+i], src)
	}
	// One block each, whose frame must arrive within frameDeadline: the
	// cap shared by all makes every one of them take longer.
	if d := frameDeadline(size); time.Duration(fetches*size/limit)*time.Second <= d {
		t.Fatalf("the test would not outlast a frame's deadline (%v)", d)
	}
	dst := blockstore.NewMemStore()
	f := NewFetcher(hs[0], dst, WithDownloadLimiter(NewDownloadLimiter(limit)))
	ctx := testCtx(t, 2*time.Minute)
	results := make([]Result, fetches)
	errs := make([]error, fetches)
	var wg sync.WaitGroup
	for i := range fetches {
		wg.Go(func() { results[i], errs[i] = f.Fetch(ctx, roots[i], infos(hs[1:]...), nil) })
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("fetch %d: %v", i, errs[i])
		}
		if len(res.Dropped) > 0 || res.Duplicates > 0 {
			t.Errorf("fetch %d dropped %v, received %d blocks twice", i, res.Dropped, res.Duplicates)
		}
		checkFile(t, dst, roots[i], datas[i])
	}
}

// TestLimitersChangeLive: an upload or download limiter made with no
// limit paces once a limit is set, and stops once it is lifted again.
func TestLimitersChangeLive(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(int64) *rate.Limiter
		set  func(*rate.Limiter, int64)
	}{
		{"upload", NewUploadLimiter, SetUploadLimit},
		{"download", NewDownloadLimiter, SetDownloadLimit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.make(0)
			if LimitOf(l) != 0 || l.ReserveN(time.Now(), l.Burst()).Delay() != 0 || l.ReserveN(time.Now(), l.Burst()).Delay() != 0 {
				t.Fatal("a limiter with no limit makes readers wait")
			}
			for range 1000 { // quick changes: no state the next limit inherits
				tt.set(l, 1<<20)
				tt.set(l, 0)
			}
			tt.set(l, 1<<20)
			if tok := l.Tokens(); math.IsNaN(tok) || math.IsInf(tok, 0) || LimitOf(l) != 1<<20 {
				t.Fatalf("after the limit was set: tokens %v, limit %d", tok, LimitOf(l))
			}
			l.ReserveN(time.Now(), l.Burst())
			if d := l.ReserveN(time.Now(), l.Burst()).Delay(); d <= 0 {
				t.Fatalf("two bursts in a row at 1 MiB/s: the second waits %v", d)
			}
			tt.set(l, 0)
			if d := l.ReserveN(time.Now(), l.Burst()).Delay(); d != 0 || LimitOf(l) != 0 {
				t.Fatalf("after the limit was lifted: a burst waits %v, limit %d", d, LimitOf(l))
			}
		})
	}
}
