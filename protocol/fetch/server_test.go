package fetch

import (
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol"
)

// openRequest connects a to b and opens a fetch stream.
func openRequest(t *testing.T, a, b host.Host) network.Stream {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	if err := a.Connect(ctx, addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	s, err := a.NewStream(ctx, b.ID(), ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	return s
}

func TestServerAnswersInOrder(t *testing.T) {
	_, hs := newMocknet(t, 2)
	bs := blockstore.NewMemStore()
	root := addFile(t, bs, detBytes(20, 3<<20))
	all, _ := dagBlocks(t, bs, root)
	missing := rawCID(t, []byte("missing"))
	var leaf cid.Cid
	for c := range all {
		if c.Type() == cid.Raw {
			leaf = c
			break
		}
	}
	serve(t, hs[1], bs)

	s := openRequest(t, hs[0], hs[1])
	w := NewWriter(s, 0)
	want := []cid.Cid{root, missing, leaf}
	if err := w.WriteRequest(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = s.CloseWrite()
	r := NewReader(s, 0)
	for i, typ := range []MsgType{MsgBlock, MsgNotFound, MsgBlock, MsgEnd} {
		m, err := r.Next()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if m.Type != typ || (i < 3 && !m.Cid.Equals(want[i])) {
			t.Fatalf("answer %d = %s %s, want %s %s", i, m.Type, m.Cid, typ, want[i])
		}
		if m.Type == MsgBlock {
			if err := verify(m.Cid, m.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after end: %v, want EOF", err)
	}
}

func TestServerRejectsInvalidRequest(t *testing.T) {
	_, hs := newMocknet(t, 2)
	serve(t, hs[1], blockstore.NewMemStore())
	s := openRequest(t, hs[0], hs[1])
	w := NewWriter(s, 0)
	_ = w.WriteEnd() // not a request
	_ = w.Flush()
	_ = s.CloseWrite()
	m, err := NewReader(s, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != MsgError || m.Code != protocol.CodeInvalid {
		t.Fatalf("got %s code %s, want an invalid-request error", m.Type, m.Code)
	}
}

func TestServerUploadLimit(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	data := detBytes(21, 6<<20)
	root := addFile(t, src, data)
	const limit = 4 << 20 // bytes per second
	serve(t, hs[1], src, WithUploadLimit(limit))
	start := time.Now()
	if _, err := NewFetcher(hs[0], blockstore.NewMemStore()).Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
		t.Fatal(err)
	}
	// The bucket starts full (one maximal block), so the rest is paced.
	if d, min := time.Since(start), time.Duration(float64(len(data)-MaxBlockSize)/limit*float64(time.Second)); d < min*9/10 {
		t.Errorf("6 MiB at %d B/s took %v, want at least %v", limit, d, min)
	}
}

// TestServerCloseWaits checks Close interrupts a handler stuck in the store
// and waits for it.
func TestServerCloseWaits(t *testing.T) {
	_, hs := newMocknet(t, 2)
	stall := newStallStore(blockstore.NewMemStore())
	srv := NewServer(hs[1], stall)
	s := openRequest(t, hs[0], hs[1])
	w := NewWriter(s, 0)
	_ = w.WriteRequest([]cid.Cid{rawCID(t, []byte("a"))})
	_ = w.Flush()
	select {
	case <-stall.asked:
	case <-time.After(10 * time.Second):
		t.Fatal("server never read the request")
	}
	done := make(chan struct{})
	go func() {
		_ = srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := NewReader(s, 0).Next(); err == nil {
		t.Fatal("stream still answered after Close")
	}
	if slices.Contains(hs[1].Mux().Protocols(), ID) {
		t.Error("protocol still registered after Close")
	}
}

// TestServerTellsWhatItServed: the serve observer hears of every block a
// fetch took, once each, with the peer it went to.
func TestServerTellsWhatItServed(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	root := addFile(t, src, detBytes(22, 3<<20+5))
	want, _ := dagBlocks(t, src, root)
	var mu sync.Mutex
	got := map[cid.Cid]int{}
	serve(t, hs[1], src, WithServeObserver(func(to peer.ID, b blocks.Block) {
		mu.Lock()
		defer mu.Unlock()
		if to != hs[0].ID() {
			t.Errorf("served %s to %s, want %s", b.Cid(), to, hs[0].ID())
		}
		got[b.Cid()]++
	}))
	if _, err := NewFetcher(hs[0], blockstore.NewMemStore()).Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
		t.Fatal(err)
	}
	// The server tells of a block once it is written, which may be after
	// the fetcher has read it and finished.
	heard := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	for deadline := time.Now().Add(10 * time.Second); heard() < len(want) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("observer heard of %d blocks, the DAG has %d", len(got), len(want))
	}
	for c, n := range got {
		if !want[c] || n != 1 {
			t.Fatalf("block %s heard of %d times (in the DAG: %v)", c, n, want[c])
		}
	}
}
