package bitswap

import (
	"context"
	"errors"
	"sync"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsiface "github.com/ipfs/boxo/bitswap/network"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/bitswap/server"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
)

// Protocols are the Bitswap protocol IDs kith speaks, newest first (the
// IDs boxo's network registers).
var Protocols = []protocol.ID{
	bsnet.ProtocolBitswap, bsnet.ProtocolBitswapOneOne, bsnet.ProtocolBitswapOneZero, bsnet.ProtocolBitswapNoVers,
}

// Explicit limits of the server, sized for a laptop daemon (boxo's
// defaults, in brackets, are a public server's).
const (
	// sendWorkers is how many messages are being sent at once, to all
	// peers together [8].
	sendWorkers = 8
	// engineWorkers prepare messages from peers' wantlists [8].
	engineWorkers = 8
	// storeWorkers is how many store reads run at once [128].
	storeWorkers = 16
	// maxOutstandingPerPeer is how many bytes of blocks may be on their
	// way to one peer (read, being sent) [1 MiB]: a few 1 MiB blocks, so
	// sending the next overlaps reading it.
	maxOutstandingPerPeer = 4 << 20
	// maxWantsPerPeer is how many wants of one peer are kept; more are
	// dropped [1024].
	maxWantsPerPeer = 1024
	// targetMessageSize is what the server packs small blocks into one
	// message up to [16 KiB]: folders of small files need fewer messages.
	targetMessageSize = 256 << 10
)

var errClosed = errors.New("bitswap: exchange closed")

// Exchange is kith's Bitswap on one host: it serves blocks from the store
// to IPFS nodes and implements fetch.Bitswap, so a Fetcher can ask
// Bitswap peers for blocks. New starts it; Close stops it.
type Exchange struct {
	h       host.Host
	net     bsiface.BitSwapNetwork
	server  *server.Server
	limiter *rate.Limiter
	metrics *Metrics
	served  fetch.ServeObserver

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu      sync.Mutex
	idle    *sync.Cond // on mu: a wantlist's replies finished
	remotes map[peer.ID]*remote
	closed  bool
	senders sync.WaitGroup
}

var _ fetch.Bitswap = (*Exchange)(nil)

// Option configures an Exchange.
type Option func(*Exchange)

// WithUploadLimiter paces the blocks the server sends with l (nil: no
// limit); node passes the limiter /kith/fetch's server uses, so that one
// upload cap covers both (see fetch.NewUploadLimiter).
func WithUploadLimiter(l *rate.Limiter) Option {
	return func(e *Exchange) { e.limiter = l }
}

// WithMetrics records blocks and bytes served in m (nil: no metrics).
func WithMetrics(m *Metrics) Option {
	return func(e *Exchange) { e.metrics = m }
}

// WithServeObserver calls fn for every block the server sent (nil: no one
// is told), as fetch.WithServeObserver does for /kith/fetch.
func WithServeObserver(fn fetch.ServeObserver) Option {
	return func(e *Exchange) { e.served = fn }
}

// New starts Bitswap on h: the server answers wants from bs, and the
// Exchange is ready to Open wantlists. h should be the host kith's other
// protocols use, so Bitswap's streams are counted with theirs.
func New(h host.Host, bs blockstore.Blockstore, opts ...Option) *Exchange {
	e := &Exchange{h: h, remotes: make(map[peer.ID]*remote)}
	e.idle = sync.NewCond(&e.mu)
	for _, o := range opts {
		o(e)
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.net = bsnet.NewFromIpfsHost(h)
	e.server = server.New(e.ctx, limitedNetwork{BitSwapNetwork: e.net, e: e}, storeView{bs},
		server.TaskWorkerCount(sendWorkers),
		server.EngineTaskWorkerCount(engineWorkers),
		server.EngineBlockstoreWorkerCount(storeWorkers),
		server.MaxOutstandingBytesPerPeer(maxOutstandingPerPeer),
		server.MaxQueuedWantlistEntriesPerPeer(maxWantsPerPeer),
		server.WithTargetMessageSize(targetMessageSize),
	)
	e.net.Start(e.server, (*receiver)(e))
	return e
}

// Close stops serving and fetching: open wantlists are told their peers
// are gone, the stream handlers are removed, and Close waits for the
// server and the senders to stop. It is safe to call more than once.
func (e *Exchange) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	rms := make([]*remote, 0, len(e.remotes))
	for _, rm := range e.remotes {
		rms = append(rms, rm)
	}
	e.mu.Unlock()
	for _, rm := range rms {
		e.fail(rm, errClosed)
	}
	for _, p := range Protocols {
		e.h.RemoveStreamHandler(p)
	}
	e.net.Stop()
	e.server.Close()
	e.cancel()
	e.senders.Wait()
	return nil
}

// HashesBlocks implements fetch.HashingBitswap: a block is passed on only
// under the CID boxo's decoding computed by hashing its bytes (bsmsg's
// NewWantlistBlock, or blocks.NewBlock for Bitswap 1.0.0), and an empty
// block only for its own CID.
func (e *Exchange) HashesBlocks() bool { return true }

var _ fetch.HashingBitswap = (*Exchange)(nil)

// Speaks reports whether p listed a Bitswap protocol in its identify.
func (e *Exchange) Speaks(p peer.ID) bool {
	ok, _ := e.h.Peerstore().SupportsProtocols(p, Protocols...)
	return len(ok) > 0
}

// receiver is the Exchange as boxo's network sees it: replies from peers
// this node wants blocks from. (The server is the network's other receiver
// and sees the same messages, for the wants they carry.)
type receiver Exchange

func (rc *receiver) ReceiveMessage(_ context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	(*Exchange)(rc).dispatch(p, msg)
}

func (rc *receiver) ReceiveError(error) {}

func (rc *receiver) PeerConnected(peer.ID) {}

// PeerDisconnected fails the wantlists on p: the peer forgets a wantlist
// with its connection.
func (rc *receiver) PeerDisconnected(p peer.ID) {
	e := (*Exchange)(rc)
	e.mu.Lock()
	rm := e.remotes[p]
	e.mu.Unlock()
	if rm != nil {
		e.fail(rm, errors.New("peer disconnected"))
	}
}

// reply is one answer passed on to a wantlist.
type reply struct {
	wl       *wantlist
	c        cid.Cid
	data     []byte
	dontHave bool
}

// dispatch passes the blocks and DONT_HAVEs of a message from p to the
// wantlists that want them; each want is answered once.
func (e *Exchange) dispatch(p peer.ID, msg bsmsg.BitSwapMessage) {
	blks, dontHaves := msg.Blocks(), msg.DontHaves()
	if len(blks) == 0 && len(dontHaves) == 0 {
		return
	}
	var out []reply
	e.mu.Lock()
	rm := e.remotes[p]
	if rm == nil || e.closed {
		e.mu.Unlock()
		return
	}
	for _, b := range blks {
		out = rm.answer(out, b.Cid(), b.RawData(), false)
	}
	cancels := false
	for _, c := range dontHaves {
		n := len(out)
		out = rm.answer(out, c, nil, true)
		// The peer keeps a want it lacks on its wantlist; nobody here
		// wants it any more.
		if len(out) > n && rm.refs[c.KeyString()] == 0 {
			rm.queue = append(rm.queue, entry{c: c, cancel: true})
			cancels = true
		}
	}
	e.mu.Unlock()
	if cancels {
		rm.signal()
	}
	e.pass(out)
}

// pass passes replies (counted in their wantlists' active) on to the
// fetches, without e.mu held.
func (e *Exchange) pass(out []reply) {
	if len(out) == 0 {
		return
	}
	for _, r := range out {
		if r.dontHave {
			r.wl.r.DontHave(r.c)
		} else {
			r.wl.r.Block(r.c, r.data)
		}
	}
	e.mu.Lock()
	for _, r := range out {
		r.wl.active--
	}
	e.idle.Broadcast()
	e.mu.Unlock()
}

// fail ends rm: its sender stops and each of its open wantlists is told,
// once, that the peer is gone.
func (e *Exchange) fail(rm *remote, err error) {
	e.mu.Lock()
	if rm.err != nil {
		e.mu.Unlock()
		return
	}
	rm.err = err
	if e.remotes[rm.id] == rm {
		delete(e.remotes, rm.id)
	}
	var lists []*wantlist
	for wl := range rm.lists {
		wl.active++
		lists = append(lists, wl)
	}
	e.mu.Unlock()
	rm.signal()
	for _, wl := range lists {
		wl.r.Gone(err)
	}
	e.mu.Lock()
	for _, wl := range lists {
		wl.active--
	}
	e.idle.Broadcast()
	e.mu.Unlock()
}

// isEmptyBlock reports whether c names the block of no bytes (an empty
// file's). No IPFS peer sends that block: boxo's server, Kubo's, takes a
// size of 0 for "not found" and answers DONT_HAVE. Its bytes are known
// from its CID, so a wantlist answers it itself.
func isEmptyBlock(c cid.Cid) bool {
	e, err := c.Prefix().Sum(nil)
	return err == nil && e.Equals(c)
}
