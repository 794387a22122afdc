package fetch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore"
)

func TestFetchOneSeeder(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src, dst := blockstore.NewMemStore(), blockstore.NewMemStore()
	data := detBytes(1, 20<<20+12345)
	root := addFile(t, src, data)
	serve(t, hs[1], src)

	var mu sync.Mutex
	var last Progress
	calls := 0
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, infos(hs[1]), func(p Progress) {
		mu.Lock()
		last = p
		calls++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	all, size := dagBlocks(t, src, root)
	if res.Blocks != len(all) || res.Bytes != size || res.Duplicates != 0 {
		t.Errorf("result %+v; want %d blocks, %d bytes, no duplicates", res, len(all), size)
	}
	if len(res.Dropped) != 0 {
		t.Errorf("dropped: %v", res.Dropped)
	}
	if calls == 0 || last.Bytes != size || last.Total != size || last.Blocks != len(all) {
		t.Errorf("last progress %+v after %d calls; want Bytes = Total = %d", last, calls, size)
	}
}

func TestFetchThreeSeeders(t *testing.T) {
	_, hs := newMocknet(t, 4)
	src := blockstore.NewMemStore()
	data := detBytes(2, 40<<20)
	root := addFile(t, src, data)
	for _, h := range hs[1:] {
		serve(t, h, src)
	}
	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, infos(hs[1:]...), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	for _, h := range hs[1:] {
		if st := res.PerPeer[h.ID()]; st.Blocks == 0 {
			t.Errorf("seeder %s delivered nothing: %+v", h.ID(), res.PerPeer)
		}
	}
	t.Logf("per peer %v, duplicates %d", res.PerPeer, res.Duplicates)
}

func TestFetchDropsLiar(t *testing.T) {
	_, hs := newMocknet(t, 4)
	src := blockstore.NewMemStore()
	data := detBytes(3, 20<<20)
	root := addFile(t, src, data)
	liar := hs[1]
	lies := newLyingStore(src)
	serve(t, liar, lies)
	serve(t, hs[2], src)
	serve(t, hs[3], src)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)

	dst := blockstore.NewMemStore()
	// The liar is the only provider until it has served a (corrupted)
	// leaf, so it is certainly caught.
	provs := sequenced(addrInfo(liar), lies.asked, addrInfo(hs[2]), addrInfo(hs[3]))
	res, err := NewFetcher(hs[0], dst, WithFetcherMetrics(m)).Fetch(testCtx(t, time.Minute), root, provs, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if st, ok := res.PerPeer[liar.ID()]; ok && st.Blocks > 1 {
		t.Errorf("liar delivered %d blocks (only the root, which it does not corrupt, is possible)", st.Blocks)
	}
	if reason := res.Dropped[liar.ID()]; !strings.Contains(reason, "do not match") {
		t.Errorf("liar dropped for %q, want a hash mismatch", reason)
	}
	if got := counterValue(t, reg, "kith_fetch_peers_dropped_total", string(dropHashMismatch)); got != 1 {
		t.Errorf("hash_mismatch drops = %v, want 1", got)
	}
	if got := counterValue(t, reg, "kith_fetch_blocks_fetched_total", ""); int(got) != res.Blocks {
		t.Errorf("blocks_fetched_total = %v, want %d", got, res.Blocks)
	}
}

func TestFetchDropsStalledPeer(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(4, 8<<20)
	root := addFile(t, src, data)
	stall := newStallStore(src)
	serve(t, hs[1], stall)
	serve(t, hs[2], src)

	// The staller is the only provider until it has been asked for the
	// root, so the fetch depends on the watchdog dropping it.
	provs := sequenced(addrInfo(hs[1]), stall.asked, addrInfo(hs[2]))
	dst := blockstore.NewMemStore()
	start := time.Now()
	res, err := NewFetcher(hs[0], dst, WithStallTimeout(300*time.Millisecond)).Fetch(testCtx(t, time.Minute), root, provs, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if reason := res.Dropped[hs[1].ID()]; !strings.HasPrefix(reason, "stalled") {
		t.Errorf("staller dropped for %q, want stalled (result %+v)", reason, res)
	}
	t.Logf("completed in %v", time.Since(start))
}

func TestFetchResume(t *testing.T) {
	mn, hs := newMocknet(t, 2)
	// Slow enough that progress is reported several times mid-fetch.
	setLink(t, mn, hs[0], hs[1], mocknet.LinkOptions{Bandwidth: 40 << 20})
	src, dst := blockstore.NewMemStore(), blockstore.NewMemStore()
	data := detBytes(5, 20<<20)
	root := addFile(t, src, data)
	_, size := dagBlocks(t, src, root)
	serve(t, hs[1], src)
	f := NewFetcher(hs[0], dst)

	ctx, cancel := context.WithCancel(testCtx(t, time.Minute))
	first, err := f.Fetch(ctx, root, infos(hs[1]), func(p Progress) {
		if p.Bytes >= size/2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fetch: err = %v", err)
	}
	var lastHave int64
	second, err := f.Fetch(testCtx(t, time.Minute), root, infos(hs[1]), func(p Progress) { lastHave = p.HaveBytes })
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	t.Logf("first run %d bytes, second %d bytes, had %d, of %d", first.Bytes, second.Bytes, lastHave, size)
	if first.Bytes < size/2 || second.Bytes >= size-first.Bytes+(2<<20) || second.Bytes+lastHave != size {
		t.Errorf("first %d + second %d bytes (had %d) for a %d-byte DAG: resume refetched too much", first.Bytes, second.Bytes, lastHave, size)
	}
}

func TestFetchNotFound(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	root := addFile(t, src, detBytes(6, 3<<20))
	serve(t, hs[1], blockstore.NewMemStore()) // has nothing

	start := time.Now()
	_, err := NewFetcher(hs[0], blockstore.NewMemStore()).Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil)
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var nf *blockstore.NotFoundError
	if !errors.As(err, &nf) || !nf.Cid.Equals(root) || !strings.Contains(err.Error(), root.String()) {
		t.Errorf("error %q does not name the root", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("not-found took %v", d)
	}
}

func TestFetchNoProviders(t *testing.T) {
	_, hs := newMocknet(t, 1)
	root := addFile(t, blockstore.NewMemStore(), []byte("nobody has this"))
	_, err := NewFetcher(hs[0], blockstore.NewMemStore()).Fetch(testCtx(t, time.Minute), root, StaticProviders(), nil)
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestFetchAlreadyLocal(t *testing.T) {
	_, hs := newMocknet(t, 1)
	bs := blockstore.NewMemStore()
	root := addFolders(t, bs, 3, 10, func(i int) int { return 100 + i })
	provs := ProvidersFunc(func(context.Context, cid.Cid) <-chan peer.AddrInfo {
		t.Error("providers asked for a DAG that is complete locally")
		return nil
	})
	var last Progress
	res, err := NewFetcher(hs[0], bs).Fetch(testCtx(t, time.Minute), root, provs, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	_, size := dagBlocks(t, bs, root)
	if res.Blocks != 0 || last.HaveBytes != size || last.Total != size {
		t.Errorf("result %+v, progress %+v; want nothing fetched and HaveBytes = Total = %d", res, last, size)
	}
}

func TestFetchFolders(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	root := addFolders(t, src, 20, 50, func(i int) int {
		if i%97 == 0 {
			return 3<<20 + i // a few multi-block files among the small ones
		}
		return 1 + (i*131)%8192
	})
	serve(t, hs[1], src)
	serve(t, hs[2], src)
	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, infos(hs[1], hs[2]), nil)
	if err != nil {
		t.Fatal(err)
	}
	all, size := dagBlocks(t, src, root)
	for c := range all {
		if ok, _ := dst.Has(context.Background(), c); !ok {
			t.Fatalf("block %s missing after fetch", c)
		}
	}
	if res.Blocks != len(all) || res.Bytes != size {
		t.Errorf("fetched %d blocks / %d bytes, want %d / %d", res.Blocks, res.Bytes, len(all), size)
	}
}

func TestFetchEndgame(t *testing.T) {
	mn, hs := newMocknet(t, 3)
	slow, fast := hs[1], hs[2]
	setLink(t, mn, hs[0], slow, mocknet.LinkOptions{Bandwidth: 2 << 20})
	src := blockstore.NewMemStore()
	data := detBytes(7, 20<<20)
	root := addFile(t, src, data)
	serve(t, slow, src)
	serve(t, fast, src)

	dst := blockstore.NewMemStore()
	start := time.Now()
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, infos(slow, fast), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	checkFile(t, dst, root, data)
	t.Logf("took %v, per peer %v, duplicates %d", d, res.PerPeer, res.Duplicates)
	// The slow peer alone would need ~10 s; its first batch alone ~1 s.
	if d > 4*time.Second {
		t.Errorf("fetch took %v: the slow peer held it up", d)
	}
	if res.Duplicates > 4 {
		t.Errorf("%d duplicate blocks, want a few at most", res.Duplicates)
	}
}

// counterValue reads a counter (with the given reason label, if any) from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if reason == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == reason) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// sequenced yields first, waits for gate, then yields the rest.
func sequenced(first peer.AddrInfo, gate <-chan struct{}, rest ...peer.AddrInfo) Providers {
	return ProvidersFunc(func(ctx context.Context, _ cid.Cid) <-chan peer.AddrInfo {
		ch := make(chan peer.AddrInfo)
		go func() {
			defer close(ch)
			select {
			case ch <- first:
			case <-ctx.Done():
				return
			}
			select {
			case <-gate:
			case <-ctx.Done():
				return
			}
			for _, ai := range rest {
				select {
				case ch <- ai:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	})
}

// TestFetchDropsPeerClosingEarly: a peer that answers part of a request and
// closes the stream is dropped and the fetch completes from another.
func TestFetchDropsPeerClosingEarly(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(8, 5<<20)
	root := addFile(t, src, data)
	asked := make(chan struct{})
	var once sync.Once
	hs[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		once.Do(func() { close(asked) })
		req, err := NewReader(s, 0).Next()
		if err != nil || len(req.CIDs) == 0 {
			return
		}
		b, err := src.Get(context.Background(), req.CIDs[0])
		if err != nil {
			return
		}
		w := NewWriter(s, 0)
		_ = w.WriteBlock(req.CIDs[0], b.RawData()) // then close without End
		_ = w.Flush()
	})
	serve(t, hs[2], src)
	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, sequenced(addrInfo(hs[1]), asked, addrInfo(hs[2])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if reason := res.Dropped[hs[1].ID()]; !strings.Contains(reason, "stream closed") {
		t.Errorf("early closer dropped for %q (result %+v)", reason, res)
	}
}
