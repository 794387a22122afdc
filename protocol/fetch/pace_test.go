package fetch

import (
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

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
			f := NewFetcher(hs[0], dst, WithDownloadLimiter(NewLimiter(limit)))
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
			f := NewFetcher(hs[0], blockstore.NewMemStore(), WithDownloadLimiter(NewLimiter(limit)), WithStallTimeout(10*time.Second))
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
			f := NewFetcher(hs[0], dst, WithBitswap(fb), WithDownloadLimiter(NewLimiter(limit)))
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
