package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/bitswap/network/bsnet"
	bsserver "github.com/ipfs/boxo/bitswap/server"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/protocol/trustless/gatewaytest"
)

// TestGatewayFromBitswapPeer: the gateway serves a Range of a file that
// only an IPFS node holds (a host running boxo's Bitswap server, Kubo's,
// and no /kith/fetch), fetching only the blocks the range needs.
func TestGatewayFromBitswapPeer(t *testing.T) {
	data := randomData(16<<20 + 4321)
	h, root := bitswapPeer(t, data)
	viewer := newLocalNode(t)
	connect(t, viewer, h)
	from := int64(9<<20 + 777)
	resp := streamGet(t, viewer, "/ipfs/"+root.String()+"?filename=clip.bin", fmt.Sprintf("bytes=%d-%d", from, from+1<<20-1))
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range request: %d, %v: %s", resp.StatusCode, err, body)
	}
	if !bytes.Equal(body, data[from:from+1<<20]) {
		t.Fatalf("the range returned %d bytes that differ from the file's", len(body))
	}
	if fetched := testutil.ToFloat64(viewer.demand.fetched); fetched < 2 || fetched > 4 {
		t.Fatalf("the range fetched %v blocks, want 2 to 4", fetched)
	}
}

// bitswapPeer is an IPFS node holding data as a file: a libp2p host on
// loopback running boxo's Bitswap server (Kubo's) and no /kith/fetch. It
// stops at the end of the test.
func bitswapPeer(t testing.TB, data []byte) (host.Host, cid.Cid) {
	t.Helper()
	bstore, root := gatewaytest.Store(t, data)
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	net := bsnet.NewFromIpfsHost(h)
	srv := bsserver.New(context.Background(), net, bstore)
	net.Start(srv)
	t.Cleanup(func() { net.Stop(); srv.Close() })
	return h, root
}

// fakeBitswap is an in-memory fetch.Bitswap: each peer answers from its
// own blocks (DONT_HAVE otherwise), or with wrong bytes, or not at all.
type fakeBitswap struct {
	mu     sync.Mutex
	peers  map[peer.ID]*fakeBitswapPeer
	cancel map[peer.ID][]cid.Cid // cancels each peer was sent
}

type fakeBitswapPeer struct {
	blocks map[cid.Cid][]byte
	lie    bool // sends other bytes under the CIDs it has
	silent bool // answers nothing
	// after, when set, is closed once another peer was asked: this one
	// answers only then.
	after chan struct{}
	asked chan struct{} // closed when this peer is asked (if set)
	// sent, when set, is waited on before Want returns: a reply from
	// another peer comes while this peer's wants are still being sent.
	sent chan struct{}
}

func (f *fakeBitswap) Speaks(peer.ID) bool { return true }

func (f *fakeBitswap) Open(_ context.Context, p peer.ID, r fetch.Replies) (fetch.Wantlist, error) {
	return &fakeWantlist{f: f, p: p, r: r}, nil
}

type fakeWantlist struct {
	f *fakeBitswap
	p peer.ID
	r fetch.Replies
}

func (w *fakeWantlist) Want(cs []cid.Cid) error {
	fp := w.f.peers[w.p]
	if fp.asked != nil {
		close(fp.asked)
	}
	if fp.sent != nil {
		<-fp.sent
	}
	go func() {
		if fp.after != nil {
			<-fp.after
		}
		for _, c := range cs {
			data, ok := fp.blocks[c]
			switch {
			case fp.silent:
			case !ok:
				w.r.DontHave(c)
			case fp.lie:
				w.r.Block(c, append([]byte("not "), data...))
			default:
				w.r.Block(c, data)
			}
		}
	}()
	return nil
}

// Rewant does nothing: these peers answer every want they get (or none).
func (w *fakeWantlist) Rewant() {}

func (w *fakeWantlist) Cancel(cs []cid.Cid) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	w.f.cancel[w.p] = append(w.f.cancel[w.p], cs...)
}

func (w *fakeWantlist) Close() {}

// TestBitswapSource: blocks come verified from the peers that have them;
// a peer that lies is not believed, one that stays silent does not hold
// the read past bitswapQuiet, and a block one peer delivered is withdrawn
// from the others.
func TestBitswapSource(t *testing.T) {
	good := blocks.NewBlock([]byte("a block an IPFS node holds"))
	missing := blocks.NewBlock([]byte("a block nobody holds"))
	have := map[cid.Cid][]byte{good.Cid(): good.RawData()}
	tests := []struct {
		name  string
		peers []*fakeBitswapPeer
		want  int // blocks delivered
	}{
		{"holder", []*fakeBitswapPeer{{blocks: have}}, 1},
		{"liar, then holder", []*fakeBitswapPeer{{blocks: have, lie: true}, {blocks: have}}, 1},
		{"only a liar", []*fakeBitswapPeer{{blocks: have, lie: true}}, 0},
		{"nobody has it", []*fakeBitswapPeer{{}, {}}, 0},
		{"silent and holder", []*fakeBitswapPeer{{silent: true}, {blocks: have}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBitswap{peers: map[peer.ID]*fakeBitswapPeer{}, cancel: map[peer.ID][]cid.Cid{}}
			var ids []peer.ID
			for i, fp := range tt.peers {
				id := peer.ID(fmt.Sprintf("peer-%d", i))
				f.peers[id] = fp
				ids = append(ids, id)
			}
			s := &bitswapSource{n: &Node{log: slog.New(slog.DiscardHandler)}, bs: f, peers: func(cid.Cid) []peer.ID { return ids }}
			var got []blocks.Block
			start := time.Now()
			s.FetchBlocks(context.Background(), cid.Undef, []cid.Cid{good.Cid(), missing.Cid()}, func(b blocks.Block) { got = append(got, b) })
			if len(got) != tt.want {
				t.Fatalf("delivered %d blocks, want %d", len(got), tt.want)
			}
			for _, b := range got {
				if !b.Cid().Equals(good.Cid()) || !bytes.Equal(b.RawData(), good.RawData()) {
					t.Fatalf("delivered %s: %q", b.Cid(), b.RawData())
				}
			}
			if d := time.Since(start); d > bitswapQuiet+2*time.Second {
				t.Fatalf("FetchBlocks took %s", d)
			}
		})
	}

	// A block delivered after the slow peer's wants were sent, and one
	// delivered while they were still being sent: both withdrawn.
	for _, whileSent := range []bool{false, true} {
		t.Run(fmt.Sprintf("withdrawn from the others, delivered while sent: %v", whileSent), func(t *testing.T) {
			slowAsked, delivered := make(chan struct{}), make(chan struct{})
			slow := &fakeBitswapPeer{silent: true, asked: slowAsked}
			if whileSent {
				slow.sent = delivered
			}
			f := &fakeBitswap{peers: map[peer.ID]*fakeBitswapPeer{"holder": {blocks: have, after: slowAsked}, "slow": slow},
				cancel: map[peer.ID][]cid.Cid{}}
			s := &bitswapSource{n: &Node{log: slog.New(slog.DiscardHandler)}, bs: f, peers: func(cid.Cid) []peer.ID { return []peer.ID{"holder", "slow"} }}
			s.FetchBlocks(context.Background(), cid.Undef, []cid.Cid{good.Cid()}, func(blocks.Block) { close(delivered) })
			f.mu.Lock()
			defer f.mu.Unlock()
			if cs := f.cancel["slow"]; len(cs) != 1 || !cs[0].Equals(good.Cid()) {
				t.Fatalf("cancels sent to the slow peer: %v", cs)
			}
		})
	}
}
