package bitswap

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
)

// TestFetchFromKithOverBitswap: a node that serves only Bitswap (no
// /kith/fetch) is fetched from over Bitswap, byte for byte.
func TestFetchFromKithOverBitswap(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(1, 9<<20+4321)
	root := addFile(t, src, data)
	exchange(t, hs[1], src)
	e := exchange(t, hs[0], blockstore.NewMemStore())

	identified(t, hs[0], hs[1])
	dst := blockstore.NewMemStore()
	res, err := fetcher(hs[0], dst, e).Fetch(testCtx(t, time.Minute), root, fetch.StaticProviders(addrInfo(hs[1])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if st := res.PerProtocol[fetch.ProtocolBitswap]; st.Blocks != res.Blocks || st.Blocks == 0 {
		t.Errorf("per protocol %+v of %d blocks; want all over Bitswap", res.PerProtocol, res.Blocks)
	}
}

// TestFetchFromBoxoServer: the Exchange fetches from boxo's own Bitswap
// server, the one Kubo runs.
func TestFetchFromBoxoServer(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(2, 6<<20+99)
	root := addFile(t, src, data)
	boxoServer(t, hs[1], boxoStore(t, src))
	e := exchange(t, hs[0], blockstore.NewMemStore())

	identified(t, hs[0], hs[1])
	dst := blockstore.NewMemStore()
	res, err := fetcher(hs[0], dst, e).Fetch(testCtx(t, time.Minute), root, fetch.StaticProviders(addrInfo(hs[1])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	if len(res.Dropped) != 0 {
		t.Errorf("dropped: %v", res.Dropped)
	}
}

// TestBoxoClientFetchesFromKith: boxo's own Bitswap client (Kubo's) walks a
// DAG out of kith's server.
func TestBoxoClientFetchesFromKith(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(3, 5<<20+7)
	root := addFile(t, src, data)
	exchange(t, hs[1], src)
	ctx := testCtx(t, time.Minute)
	bstore := boxoStore(t, nil)
	cl := boxoClient(t, hs[0], bstore)
	// After the client started: it learns of peers as they connect.
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}
	bserv := blockservice.New(bstore, cl)
	if err := merkledag.FetchGraph(ctx, root, merkledag.NewDAGService(bserv)); err != nil {
		t.Fatal(err)
	}
	got := blockstore.NewMemStore()
	keys, err := bstore.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for c := range keys {
		b, err := bstore.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		// boxo's store keeps multihashes only: put the block back under
		// the CID kith's reader will ask for, by multihash.
		if err := got.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	checkFile(t, got, root, data)
}

// replies records what a wantlist is answered.
type replies struct {
	mu        sync.Mutex
	blocks    map[cid.Cid][]byte
	dontHaves []cid.Cid
	gone      error
	changed   chan struct{}
}

func newReplies() *replies {
	return &replies{blocks: make(map[cid.Cid][]byte), changed: make(chan struct{}, 100)}
}

func (r *replies) Block(c cid.Cid, data []byte) {
	r.mu.Lock()
	r.blocks[c] = data
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *replies) DontHave(c cid.Cid) {
	r.mu.Lock()
	r.dontHaves = append(r.dontHaves, c)
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *replies) Gone(err error) {
	r.mu.Lock()
	r.gone = err
	r.mu.Unlock()
	r.changed <- struct{}{}
}

// await waits until cond holds (checked under r.mu).
func (r *replies) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWantlistsShareAPeer: two fetches on one peer. One withdraws a block
// the other still wants: the other still gets it. A block nobody has is
// answered DONT_HAVE.
func TestWantlistsShareAPeer(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	root := addFile(t, src, detBytes(4, 3<<20))
	missing := addFile(t, blockstore.NewMemStore(), []byte("not on the server"))
	// The server answers nothing until a has withdrawn its want: otherwise
	// the block may come back (to a, rightly) before the Cancel.
	gate := &gatedStore{Blockstore: src, open: make(chan struct{})}
	exchange(t, hs[1], gate)
	e := exchange(t, hs[0], blockstore.NewMemStore())
	ctx := testCtx(t, time.Minute)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}

	ra, rb := newReplies(), newReplies()
	a, err := e.Open(ctx, hs[1].ID(), ra)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Open(ctx, hs[1].ID(), rb)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Want([]cid.Cid{root}); err != nil {
		t.Fatal(err)
	}
	a.Cancel([]cid.Cid{root})
	close(gate.open)
	if err := b.Want([]cid.Cid{root, missing}); err != nil {
		t.Fatal(err)
	}
	rb.await(t, "the block and the DONT_HAVE", func() bool { return rb.blocks[root] != nil && len(rb.dontHaves) == 1 })
	if !rb.dontHaves[0].Equals(missing) {
		t.Errorf("DONT_HAVE for %s, want %s", rb.dontHaves[0], missing)
	}
	a.Close()
	b.Close()
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if len(ra.blocks) != 0 {
		t.Errorf("a withdrawn want was answered: %v", ra.blocks)
	}
	if err := a.Want([]cid.Cid{root}); err == nil {
		t.Error("Want on a closed wantlist did not fail")
	}
}

// TestWantlistGoneOnDisconnect: closing the connection tells the wantlist
// at once that the peer is gone.
func TestWantlistGoneOnDisconnect(t *testing.T) {
	hs := hosts(t, 2)
	exchange(t, hs[1], blockstore.NewMemStore())
	e := exchange(t, hs[0], blockstore.NewMemStore())
	ctx := testCtx(t, time.Minute)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}
	r := newReplies()
	wl, err := e.Open(ctx, hs[1].ID(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	// A want the server keeps (send-dont-have aside, the block may come
	// later): nothing answers it before the connection closes.
	if err := wl.Want([]cid.Cid{addFile(t, blockstore.NewMemStore(), []byte("x"))}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "the DONT_HAVE", func() bool { return len(r.dontHaves) == 1 })
	if err := hs[0].Network().ClosePeer(hs[1].ID()); err != nil {
		t.Fatal(err)
	}
	r.await(t, "Gone", func() bool { return r.gone != nil })
	if err := wl.Want([]cid.Cid{addFile(t, blockstore.NewMemStore(), []byte("y"))}); err == nil {
		t.Error("Want after the peer left did not fail")
	}
}

// TestServerUploadLimit: the upload limiter paces Bitswap's blocks.
func TestServerUploadLimit(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(5, 6<<20)
	root := addFile(t, src, data)
	const limit = 3 << 20 // bytes per second
	m := NewMetrics(nil)
	exchange(t, hs[1], src, WithUploadLimiter(fetch.NewUploadLimiter(limit)), WithMetrics(m))
	e := exchange(t, hs[0], blockstore.NewMemStore())

	identified(t, hs[0], hs[1])
	dst := blockstore.NewMemStore()
	start := time.Now()
	if _, err := fetcher(hs[0], dst, e).Fetch(testCtx(t, time.Minute), root, fetch.StaticProviders(addrInfo(hs[1])), nil); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	checkFile(t, dst, root, data)
	// 6 MiB at 3 MiB/s, less the bucket's initial burst (one 2 MiB block
	// and framing): at least ~1.3 s.
	if d < 1200*time.Millisecond {
		t.Errorf("6 MiB served in %v under a 3 MiB/s limit", d)
	}
	if got := testutil.ToFloat64(m.bytesServed); got < float64(len(data)) {
		t.Errorf("bytes served %v, want at least %d", got, len(data))
	}
}

func TestOpenAfterClose(t *testing.T) {
	hs := hosts(t, 2)
	e := New(hs[0], blockstore.NewMemStore())
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(context.Background(), hs[1].ID(), newReplies()); !errors.Is(err, errClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// gatedStore holds every read until open is closed.
type gatedStore struct {
	blockstore.Blockstore
	open chan struct{}
}

func (g *gatedStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	<-g.open
	return g.Blockstore.Get(ctx, c)
}

func (g *gatedStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	<-g.open
	return g.Blockstore.GetSize(ctx, c)
}

func (g *gatedStore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	<-g.open
	return g.Blockstore.Has(ctx, c)
}

// TestRewantSendsOpenWantsAgain: Rewant puts every want still open on the
// wire again, with its first priority, and not the withdrawn ones.
func TestRewantSendsOpenWantsAgain(t *testing.T) {
	hs := hosts(t, 2)
	e := exchange(t, hs[0], blockstore.NewMemStore())
	// hs[1] is a Bitswap peer that only records the wants it is sent.
	type want struct {
		c    cid.Cid
		prio int32
	}
	wants := make(chan want, 64)
	hs[1].SetStreamHandler(bsnet.ProtocolBitswap, func(s network.Stream) {
		defer s.Close()
		for {
			m, _, err := bsmsg.FromNet(s)
			if err != nil {
				return
			}
			for _, en := range m.Wantlist() {
				if !en.Cancel {
					wants <- want{en.Cid, en.Priority}
				}
			}
		}
	})
	ctx := testCtx(t, time.Minute)
	if err := hs[0].Connect(ctx, addrInfo(hs[1])); err != nil {
		t.Fatal(err)
	}
	var cs []cid.Cid
	for i := range 3 {
		cs = append(cs, addFile(t, blockstore.NewMemStore(), detBytes(uint64(40+i), 100)))
	}
	wl, err := e.Open(ctx, hs[1].ID(), newReplies())
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	if err := wl.Want(cs); err != nil {
		t.Fatal(err)
	}
	wl.Cancel(cs[1:2])
	wl.Rewant()

	asked := map[cid.Cid][]int32{}
	for n := 0; n < 5; n++ { // 3 wants, then 2 again
		select {
		case w := <-wants:
			asked[w.c] = append(asked[w.c], w.prio)
		case <-ctx.Done():
			t.Fatalf("the peer saw %d wants, want 5: %v", n, asked)
		}
	}
	for i, c := range cs {
		want := 2
		if i == 1 {
			want = 1
		}
		if got := asked[c]; len(got) != want || got[0] != got[len(got)-1] {
			t.Errorf("want %d asked with priorities %v, want %d times with one priority", i, got, want)
		}
	}
	if asked[cs[0]][0] <= asked[cs[2]][0] {
		t.Errorf("priorities %v, %v: the first asked should come first", asked[cs[0]], asked[cs[2]])
	}
}

// TestServerTellsWhatItServed: the serve observer hears of every block
// the server sent, with the peer it went to.
func TestServerTellsWhatItServed(t *testing.T) {
	hs := hosts(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(9, 3<<20+17)
	root := addFile(t, src, data)
	var mu sync.Mutex
	var bytesTo int
	got := map[cid.Cid]bool{}
	exchange(t, hs[1], src, WithServeObserver(func(to peer.ID, b blocks.Block) {
		mu.Lock()
		defer mu.Unlock()
		if to == hs[0].ID() {
			got[b.Cid()] = true
			bytesTo += len(b.RawData())
		}
	}))
	e := exchange(t, hs[0], blockstore.NewMemStore())
	identified(t, hs[0], hs[1])
	dst := blockstore.NewMemStore()
	res, err := fetcher(hs[0], dst, e).Fetch(testCtx(t, time.Minute), root, fetch.StaticProviders(addrInfo(hs[1])), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, root, data)
	mu.Lock()
	defer mu.Unlock()
	// The fetcher stores each block once; the observer may hear of one
	// more than once (a want sent again), never of fewer.
	if len(got) != res.Blocks || !got[root] || bytesTo < len(data) {
		t.Fatalf("observer heard of %d blocks (%d bytes) to the fetcher; it stored %d of a %d-byte file", len(got), bytesTo, res.Blocks, len(data))
	}
}
