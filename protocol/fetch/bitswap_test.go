package fetch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore"
)

// These tests run Bitswap peers through fakeBitswap (no libp2p streams);
// kith peers, where there are any, serve /kith/fetch over mocknet. Bitswap
// peers are mocknet hosts that register no /kith/fetch handler, so the
// Fetcher learns from identify that they do not speak it.

func TestBitswapOnlySeeder(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(20, 12<<20+777)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	seed := fb.add(hs[1].ID(), &fakeSeeder{bs: src})
	reg := prometheus.NewRegistry()

	dst := newCountingStore()
	var mu sync.Mutex
	var totals []int64
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb), WithFetcherMetrics(NewMetrics(reg))).
		Fetch(testCtx(t, time.Minute), root, infos(hs[1]), func(p Progress) {
			mu.Lock()
			totals = append(totals, p.Total)
			mu.Unlock()
		})
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	all, size := dagBlocks(t, src, root)
	bsw := res.PerProtocol[ProtocolBitswap]
	if bsw.Blocks != len(all) || bsw.Bytes != size || bsw.Peers != 1 || res.PerProtocol[ProtocolKith].Blocks != 0 {
		t.Errorf("per protocol %+v; want all %d blocks over Bitswap from 1 peer", res.PerProtocol, len(all))
	}
	if got := counterValue(t, reg, "kith_fetch_protocol_blocks_total", "bitswap"); int(got) != len(all) {
		t.Errorf("kith_fetch_protocol_blocks_total{protocol=bitswap} = %v, want %d", got, len(all))
	}
	if n := dst.maxPuts(); n != 1 {
		t.Errorf("a block was stored %d times", n)
	}
	if last := totals[len(totals)-1]; last != size {
		t.Errorf("progress total %d, want %d (known from the root)", last, size)
	}
	if _, _, _, _, lists, closed := seed.stats(); lists != 1 || closed != 1 {
		t.Errorf("%d wantlists opened, %d closed; want 1 and 1", lists, closed)
	}
}

// TestBitswapMixedSwarm: two kith seeders and one slower Bitswap seeder.
// Both protocols carry blocks, kith the bulk, and no block is stored twice.
func TestBitswapMixedSwarm(t *testing.T) {
	_, hs := newMocknet(t, 4)
	src := blockstore.NewMemStore()
	data := detBytes(21, 40<<20)
	root := addFile(t, src, data)
	serve(t, hs[1], src)
	serve(t, hs[2], src)
	fb := newFakeBitswap()
	fb.add(hs[3].ID(), &fakeSeeder{bs: src, rate: 40 << 20})

	dst := newCountingStore()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb)).Fetch(testCtx(t, time.Minute), root, infos(hs[1:]...), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	all, _ := dagBlocks(t, src, root)
	kith, bsw := res.PerProtocol[ProtocolKith], res.PerProtocol[ProtocolBitswap]
	t.Logf("kith %+v, bitswap %+v, duplicates %d", kith, bsw, res.Duplicates)
	if kith.Blocks == 0 || bsw.Blocks == 0 || kith.Blocks+bsw.Blocks != len(all) || kith.Blocks < bsw.Blocks {
		t.Errorf("kith carried %d blocks, Bitswap %d, of %d; want both some, kith the bulk", kith.Blocks, bsw.Blocks, len(all))
	}
	if n := dst.maxPuts(); n != 1 {
		t.Errorf("a block was stored %d times", n)
	}
}

func TestBitswapDropsLiar(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(22, 8<<20)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	liar := fb.add(hs[1].ID(), &fakeSeeder{bs: src, lie: true})
	serve(t, hs[2], src)

	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb)).
		Fetch(testCtx(t, time.Minute), root, sequenced(addrInfo(hs[1]), liar.asked, addrInfo(hs[2])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if reason := res.Dropped[hs[1].ID()]; !strings.Contains(reason, "do not match") {
		t.Errorf("liar dropped for %q, want a hash mismatch", reason)
	}
	if st := res.PerPeer[hs[1].ID()]; st.Blocks > 1 {
		t.Errorf("liar delivered %d blocks (at most the root, which it does not corrupt)", st.Blocks)
	}
}

// TestBitswapSeederGoneHalfway: a Bitswap seeder whose connection closes
// mid-fetch is dropped at once and its wants go to the other peers.
func TestBitswapSeederGoneHalfway(t *testing.T) {
	_, hs := newMocknet(t, 4)
	src := blockstore.NewMemStore()
	data := detBytes(23, 24<<20)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	fb.add(hs[1].ID(), &fakeSeeder{bs: src, goneAfter: 6})
	fb.add(hs[2].ID(), &fakeSeeder{bs: src, rate: 30 << 20})
	serve(t, hs[3], src)

	dst := blockstore.NewMemStore()
	start := time.Now()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb), WithStallTimeout(time.Minute)).
		Fetch(testCtx(t, time.Minute), root, infos(hs[1:]...), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if reason := res.Dropped[hs[1].ID()]; !strings.Contains(reason, "connection closed") {
		t.Errorf("departed seeder dropped for %q (result %+v)", reason, res)
	}
	// The stall watchdog is set to a minute: the drop must come from Gone.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("fetch took %v", d)
	}
}

func TestBitswapDropsStalledPeer(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(24, 6<<20)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	staller := fb.add(hs[1].ID(), &fakeSeeder{bs: src, stallAfter: 2})
	// The kith seeder comes once the staller holds wants it will never
	// answer, and is slow enough (6 MiB at 4 MiB/s) that the fetch depends
	// on the watchdog handing those wants on.
	serve(t, hs[2], src, WithUploadLimit(4<<20))
	identified(t, hs[0], hs[2])

	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb), WithStallTimeout(300*time.Millisecond)).
		Fetch(testCtx(t, time.Minute), root, sequenced(addrInfo(hs[1]), staller.stalled, addrInfo(hs[2])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if reason := res.Dropped[hs[1].ID()]; !strings.HasPrefix(reason, "stalled") {
		t.Errorf("staller dropped for %q, want stalled", reason)
	}
}

// TestBitswapRewantsLostBlocks: a Bitswap seeder that lost the messages of
// two blocks, the root's and a leaf's (it forgot the wants, as boxo's
// server does once a block is queued), is asked for them again before the
// watchdog gives up on it, so a fetch whose only provider it is completes.
func TestBitswapRewantsLostBlocks(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(26, 4<<20)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	seeder := fb.add(hs[1].ID(), &fakeSeeder{bs: src, lose: map[int]bool{0: true, 3: true}})
	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb), WithStallTimeout(300*time.Millisecond)).
		Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil)
	if err != nil {
		t.Fatalf("fetch from a seeder that lost 2 blocks: %v (dropped: %v)", err, res.Dropped)
	}
	checkFile(t, dst, root, data)
	seeder.mu.Lock()
	rewants := seeder.rewants
	seeder.mu.Unlock()
	if rewants < 2 {
		t.Errorf("%d Rewants for the 2 lost blocks", rewants)
	}
}

func TestBitswapNotFound(t *testing.T) {
	_, hs := newMocknet(t, 2)
	root := addFile(t, blockstore.NewMemStore(), detBytes(25, 3<<20))
	fb := newFakeBitswap()
	fb.add(hs[1].ID(), &fakeSeeder{bs: blockstore.NewMemStore()})

	res, err := NewFetcher(hs[0], blockstore.NewMemStore(), WithBitswap(fb)).
		Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil)
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if len(res.Dropped) != 0 {
		t.Errorf("a peer without the content was listed as dropped: %v", res.Dropped)
	}
}

// TestBitswapPeerSpeaksNeither: a peer that speaks neither /kith/fetch nor
// Bitswap is tried and set aside, not reported as misbehaving; so is a
// Bitswap peer when the Fetcher has no Bitswap.
func TestBitswapPeerSpeaksNeither(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	root := addFile(t, src, detBytes(26, 2<<20))
	fb := newFakeBitswap()
	fb.add(hs[2].ID(), &fakeSeeder{bs: src})
	for _, f := range []*Fetcher{NewFetcher(hs[0], blockstore.NewMemStore(), WithBitswap(fb)), NewFetcher(hs[0], blockstore.NewMemStore())} {
		provs := infos(hs[1])
		if f.bitswap == nil {
			provs = infos(hs[2])
		}
		res, err := f.Fetch(testCtx(t, time.Minute), root, provs, nil)
		if !errors.Is(err, blockstore.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if len(res.Dropped) != 0 {
			t.Errorf("dropped %v, want nobody", res.Dropped)
		}
	}
}

func TestBitswapResume(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(27, 20<<20)
	root := addFile(t, src, data)
	_, size := dagBlocks(t, src, root)
	fb := newFakeBitswap()
	fb.add(hs[1].ID(), &fakeSeeder{bs: src, rate: 40 << 20})
	dst := blockstore.NewMemStore()
	f := NewFetcher(hs[0], dst, WithBitswap(fb))

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
	t.Logf("first %d bytes, second %d, had %d, of %d", first.Bytes, second.Bytes, lastHave, size)
	if second.Bytes+lastHave != size || second.Bytes > size-first.Bytes+(2<<20) {
		t.Errorf("first %d + second %d bytes (had %d) of %d: resume refetched too much", first.Bytes, second.Bytes, lastHave, size)
	}
}

// TestBitswapEndgameWithdraws: a slow Bitswap peer's last wants are
// re-requested from a fast kith peer, and withdrawn from the Bitswap peer
// (a cancel) once they arrive, so the slow peer does not hold the fetch up.
func TestBitswapEndgameWithdraws(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(28, 20<<20)
	root := addFile(t, src, data)
	fb := newFakeBitswap()
	slow := fb.add(hs[1].ID(), &fakeSeeder{bs: src, rate: 2 << 20})
	serve(t, hs[2], src)

	dst := newCountingStore()
	start := time.Now()
	res, err := NewFetcher(hs[0], dst, WithBitswap(fb)).Fetch(testCtx(t, time.Minute), root, infos(hs[1], hs[2]), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	checkFile(t, dst, root, data)
	wanted, cancelled, maxOpen, sent, _, _ := slow.stats()
	t.Logf("took %v, per protocol %v, duplicates %d; slow peer: %d wanted, %d withdrawn, %d sent, at most %d open",
		d, res.PerProtocol, res.Duplicates, wanted, cancelled, sent, maxOpen)
	if d > 5*time.Second {
		t.Errorf("fetch took %v: the slow Bitswap peer held it up", d)
	}
	if cancelled == 0 {
		t.Error("no want was withdrawn from the slow Bitswap peer")
	}
	if maxOpen > bitswapMaxWants {
		t.Errorf("%d wants open at once, cap %d", maxOpen, bitswapMaxWants)
	}
	if n := dst.maxPuts(); n != 1 {
		t.Errorf("a block was stored %d times", n)
	}
}

// TestBitswapWantCap: small blocks are asked at most bitswapMaxWants at a
// time, so a Kubo peer (which keeps 1,024 per peer) drops none.
func TestBitswapWantCap(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	root := addFolders(t, src, 4, 500, func(i int) int { return 100 + i%50 })
	fb := newFakeBitswap()
	seed := fb.add(hs[1].ID(), &fakeSeeder{bs: src})
	if _, err := NewFetcher(hs[0], blockstore.NewMemStore(), WithBitswap(fb)).
		Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, maxOpen, _, _, _ := seed.stats(); maxOpen > bitswapMaxWants || maxOpen == 0 {
		t.Errorf("at most %d wants open at once, want 1..%d", maxOpen, bitswapMaxWants)
	}
}
