package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/fetch"
)

// bitswapQuiet is how long a Bitswap peer asked for blocks may stay silent
// before the source stops waiting for it: a peer that speaks an old
// Bitswap sends no DONT_HAVE, and one that stalls sends nothing.
const bitswapQuiet = 5 * time.Second

// bitswapSource asks IPFS nodes over Bitswap: connected peers that speak
// Bitswap but not /kith/fetch (kithSource asks the others), and HTTP
// providers of the DAG over HTTPS (bs is node's exchanges). The peers that
// lately delivered blocks of the same DAG come first, one at a time; then
// the others, askInParallel at a time, with a block that one delivers
// withdrawn from the rest. Every block is hashed against its CID before it
// is passed on; a peer that sends one that does not match is asked no
// more.
type bitswapSource struct {
	n      *Node
	bs     fetch.Bitswap
	recent recentHolders
	// peers lists the peers to ask for blocks of root (tests replace it).
	peers func(root cid.Cid) []peer.ID
}

func newBitswapSource(n *Node, bs fetch.Bitswap) *bitswapSource {
	s := &bitswapSource{n: n, bs: bs}
	s.peers = s.ipfsPeers
	return s
}

// ipfsPeers lists the connected peers that speak Bitswap and not
// /kith/fetch, and the HTTP providers of root that answered their probe.
func (s *bitswapSource) ipfsPeers(root cid.Cid) []peer.ID {
	out := s.n.httpProviders.holders(root)
	for _, p := range s.n.host.Network().Peers() {
		if kith, _ := s.n.speaksKith(p); !kith && s.bs.Speaks(p) {
			out = append(out, p)
		}
	}
	return out
}

// FetchBlocks implements BlockSource.
func (s *bitswapSource) FetchBlocks(ctx context.Context, root cid.Cid, cids []cid.Cid, got func(blocks.Block)) {
	a := &bitswapAsking{s: s, root: root, got: got, want: map[cid.Cid]bool{}, changed: make(chan struct{}, 1)}
	for _, c := range cids {
		a.want[c] = true
	}
	tried := map[peer.ID]bool{}
	for _, p := range s.recent.remembered(root) {
		if a.done(ctx) {
			return
		}
		tried[p] = true
		a.ask(ctx, []peer.ID{p})
	}
	var wave []peer.ID
	for _, p := range s.peers(root) {
		if tried[p] {
			continue
		}
		if wave = append(wave, p); len(wave) == askInParallel {
			if a.done(ctx) {
				return
			}
			a.ask(ctx, wave)
			wave = nil
		}
	}
	if len(wave) > 0 && !a.done(ctx) {
		a.ask(ctx, wave)
	}
}

// bitswapAsking is one FetchBlocks call.
type bitswapAsking struct {
	s       *bitswapSource
	root    cid.Cid
	got     func(blocks.Block)
	changed chan struct{} // a reply came

	mu   sync.Mutex
	want map[cid.Cid]bool // not delivered yet
	asks []*bitswapAsk    // the peers being asked
}

func (a *bitswapAsking) done(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.want) == 0 || ctx.Err() != nil
}

// ask asks peers at once for what is still wanted, and returns when each
// has answered every want (a block or DONT_HAVE), is gone, or has been
// quiet for bitswapQuiet; or when nothing is wanted any more, or ctx ends.
func (a *bitswapAsking) ask(ctx context.Context, peers []peer.ID) {
	a.mu.Lock()
	want := make([]cid.Cid, 0, len(a.want))
	for c := range a.want {
		want = append(want, c)
	}
	a.asks = a.asks[:0]
	for _, p := range peers {
		a.asks = append(a.asks, &bitswapAsk{a: a, p: p, open: map[cid.Cid]bool{}, heard: time.Now()})
	}
	asks := append([]*bitswapAsk(nil), a.asks...)
	a.mu.Unlock()

	for _, pa := range asks {
		a.mu.Lock()
		// What a peer asked before delivered meanwhile is not asked of
		// the next.
		want = slices.DeleteFunc(want, func(c cid.Cid) bool { return !a.want[c] })
		for _, c := range want {
			pa.open[c] = true // before Want: a reply may come at once
		}
		a.mu.Unlock()
		if len(want) == 0 {
			break
		}
		wl, err := a.s.bs.Open(ctx, pa.p, pa)
		if err == nil {
			err = wl.Want(want)
			pa.setWantlist(wl)
		}
		if err != nil {
			pa.Gone(err)
		}
	}
	defer func() {
		for _, pa := range asks {
			pa.close()
		}
	}()
	tick := time.NewTicker(bitswapQuiet / 5)
	defer tick.Stop()
	for !a.settled() {
		select {
		case <-ctx.Done():
			return
		case <-a.changed:
		case <-tick.C:
		}
	}
}

// settled reports whether ask can stop waiting.
func (a *bitswapAsking) settled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.want) == 0 {
		return true
	}
	for _, pa := range a.asks {
		if !pa.gone && len(pa.open) > 0 && time.Since(pa.heard) < bitswapQuiet {
			return false
		}
	}
	return true
}

func (a *bitswapAsking) signal() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// bitswapAsk is one peer asked in a FetchBlocks call; it receives the
// peer's replies (fetch.Replies). Fields but p are guarded by a.mu.
type bitswapAsk struct {
	a     *bitswapAsking
	p     peer.ID
	wl    fetch.Wantlist // nil until opened
	open  map[cid.Cid]bool
	heard time.Time
	gone  bool
	// withdrawn holds what another peer delivered before wl was set (a
	// reply can come while Want is still being sent): setWantlist cancels it.
	withdrawn []cid.Cid
}

func (pa *bitswapAsk) setWantlist(wl fetch.Wantlist) {
	pa.a.mu.Lock()
	pa.wl = wl
	withdrawn := pa.withdrawn
	pa.withdrawn = nil
	pa.a.mu.Unlock()
	if len(withdrawn) > 0 {
		wl.Cancel(withdrawn)
	}
}

// close withdraws what is still asked of the peer; nothing more is passed
// on afterwards.
func (pa *bitswapAsk) close() {
	pa.a.mu.Lock()
	wl := pa.wl
	pa.a.mu.Unlock()
	if wl != nil {
		wl.Close() // not under a.mu: it waits for replies being passed on
	}
}

// Block implements fetch.Replies: a block the peer sent, verified here.
func (pa *bitswapAsk) Block(c cid.Cid, data []byte) {
	a := pa.a
	if err := pa.a.s.verify(c, data); err != nil {
		pa.n().log.Warn("gateway: a Bitswap peer sent a block that does not match its CID; asking it no more", "peer", pa.p, "err", err)
		pa.Gone(err)
		return
	}
	blk, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		pa.Gone(err)
		return
	}
	var cancel []fetch.Wantlist
	a.mu.Lock()
	pa.heard = time.Now()
	delete(pa.open, c)
	if a.want[c] && !pa.gone {
		delete(a.want, c)
		a.got(blk) // under the lock: never twice, never concurrently
		a.s.recent.remember(a.root, pa.p)
		for _, o := range a.asks {
			if o != pa && o.open[c] {
				delete(o.open, c)
				if o.wl != nil {
					cancel = append(cancel, o.wl)
				} else {
					o.withdrawn = append(o.withdrawn, c)
				}
			}
		}
	}
	a.mu.Unlock()
	for _, wl := range cancel {
		wl.Cancel([]cid.Cid{c}) // delivered: the others need not send it
	}
	a.signal()
}

// DontHave implements fetch.Replies.
func (pa *bitswapAsk) DontHave(c cid.Cid) {
	pa.a.mu.Lock()
	pa.heard = time.Now()
	delete(pa.open, c)
	pa.a.mu.Unlock()
	pa.a.signal()
}

// Gone implements fetch.Replies: the peer is asked no more.
func (pa *bitswapAsk) Gone(err error) {
	pa.a.mu.Lock()
	pa.gone = true
	pa.a.mu.Unlock()
	pa.a.signal()
}

func (pa *bitswapAsk) n() *Node { return pa.a.s.n }

// verify checks that data hashes to c (the trust boundary for blocks from
// the network), unless the Bitswap did (fetch.HashingBitswap).
func (s *bitswapSource) verify(c cid.Cid, data []byte) error {
	if h, ok := s.bs.(fetch.HashingBitswap); ok && h.HashesBlocks() {
		return nil
	}
	sum, err := c.Prefix().Sum(data)
	if err != nil {
		return fmt.Errorf("hash block %s: %w", c, err)
	}
	if !sum.Equals(c) {
		return fmt.Errorf("block %s: %w", c, fetch.ErrHashMismatch)
	}
	return nil
}
