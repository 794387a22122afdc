package node

import (
	"context"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/protocol/group"
)

// BlockSource fetches a few named blocks the repo lacks, for reads that
// need only part of a DAG: the gateway streaming a file, seeking in it,
// listing a folder. kith's fetch protocol is one source (kithSource),
// Bitswap another (bitswapSource); the demand store asks them side by side,
// each after a head start (see demandStore.fetch).
//
// FetchBlocks asks the network for cids, which belong to the DAG under
// root (a hint for finding who has them; cid.Undef when unknown), and
// calls got with each block found, verified against its CID, as soon as it
// arrives; never twice for one CID, never concurrently. It stores nothing.
// It returns when every block was delivered, when the source has nobody
// left to ask, or when ctx ends; blocks it did not deliver are simply
// missing from this source.
type BlockSource interface {
	FetchBlocks(ctx context.Context, root cid.Cid, cids []cid.Cid, got func(blocks.Block))
}

const (
	// askInParallel bounds the connected peers asked at once when no peer
	// is known to have a DAG yet.
	askInParallel = 8
	// dialTimeout bounds connecting to a provider the DHT (or a delegated
	// router) names.
	dialTimeout = 10 * time.Second
	// rememberRoots bounds how many DAGs a source remembers holders of.
	rememberRoots = 256
)

// kithSource asks kith peers over /kith/fetch: first the peers that lately
// had blocks of the same DAG (a seek goes straight to the peer that served
// the start of the video), then group members that hold it, then the
// connected kith peers, a few at a time, then the providers the DHT and
// the delegated routers name (it connects to them; those that are IPFS
// nodes, and the HTTP providers it probes, are then bitswapSource's to
// ask).
type kithSource struct {
	n       *Node
	fetcher *fetch.Fetcher
	recent  recentHolders
}

func newKithSource(n *Node) *kithSource {
	return &kithSource{n: n, fetcher: n.fetcher}
}

// FetchBlocks implements BlockSource.
func (k *kithSource) FetchBlocks(ctx context.Context, root cid.Cid, cids []cid.Cid, got func(blocks.Block)) {
	a := &asking{k: k, root: root, want: map[cid.Cid]bool{}, tried: map[peer.ID]bool{k.n.host.ID(): true}, got: got}
	for _, c := range cids {
		a.want[c] = true
	}
	for _, p := range k.recent.remembered(root) {
		if a.done(ctx) {
			return
		}
		a.ask(ctx, p)
	}
	if a.done(ctx) {
		return
	}
	a.askAll(ctx, k.holders(root))
	if a.done(ctx) {
		return
	}
	a.askAll(ctx, k.n.connectedKithPeers())
	if a.done(ctx) || !root.Defined() {
		return
	}
	for ai := range k.n.findProviders(ctx, root, 0) {
		if a.tried[ai.ID] {
			continue
		}
		if base, ok := onlyHTTP(ai); ok {
			// An HTTP provider: probed here, asked by bitswapSource.
			if k.n.httpProviders != nil {
				dctx, cancel := context.WithTimeout(ctx, dialTimeout)
				_ = k.n.httpProviders.connectFor(dctx, root, ai.ID, base)
				cancel()
			}
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err := k.n.host.Connect(dctx, ai)
		cancel()
		if err == nil {
			a.ask(ctx, ai.ID)
		}
		if a.done(ctx) {
			return
		}
	}
}

// asking is one FetchBlocks call: what is still wanted, who was asked.
type asking struct {
	k    *kithSource
	root cid.Cid
	got  func(blocks.Block)

	mu    sync.Mutex
	want  map[cid.Cid]bool
	tried map[peer.ID]bool
}

func (a *asking) done(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.want) == 0 || ctx.Err() != nil
}

// ask asks p for what is still wanted, unless p was asked already.
func (a *asking) ask(ctx context.Context, p peer.ID) {
	a.mu.Lock()
	if a.tried[p] || len(a.want) == 0 {
		a.mu.Unlock()
		return
	}
	a.tried[p] = true
	want := make([]cid.Cid, 0, len(a.want))
	for c := range a.want {
		want = append(want, c)
	}
	a.mu.Unlock()
	n, err := a.k.fetcher.FetchBlocks(ctx, p, want, func(b blocks.Block) {
		a.mu.Lock()
		first := a.want[b.Cid()]
		delete(a.want, b.Cid())
		if first {
			a.got(b) // under the lock: never twice, never concurrently
		}
		a.mu.Unlock()
	})
	if n > 0 {
		a.k.recent.remember(a.root, p)
	}
	if err != nil && ctx.Err() == nil {
		a.k.n.log.Debug("fetch blocks for the gateway", "peer", p, "err", err)
	}
}

// askAll asks the peers not asked yet, a few at a time.
func (a *asking) askAll(ctx context.Context, peers []peer.ID) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, askInParallel)
	for _, p := range peers {
		if a.done(ctx) {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			a.ask(ctx, p)
		})
	}
	wg.Wait()
}

// connectedKithPeers lists the connected peers that speak /kith/fetch,
// or whose protocols are not known yet. IPFS nodes (every DHT peer is one)
// are left to bitswapSource: asking them here would cost a round trip
// each.
func (n *Node) connectedKithPeers() []peer.ID {
	var out []peer.ID
	for _, p := range n.host.Network().Peers() {
		if speaks, known := n.speaksKith(p); speaks || !known {
			out = append(out, p)
		}
	}
	return out
}

// speaksKith reports whether p listed /kith/fetch in its identify, and
// whether its protocols are known at all.
func (n *Node) speaksKith(p peer.ID) (speaks, known bool) {
	ps := n.host.Peerstore()
	if ok, _ := ps.SupportsProtocols(p, fetch.ID); len(ok) > 0 {
		return true, true
	}
	protos, _ := ps.GetProtocols(p)
	return false, len(protos) > 0
}

// recentHolders remembers, for the last rememberRoots DAGs read, the peers
// that delivered blocks of each, so that the next read of the same DAG (a
// seek in a video) asks them first. Safe for concurrent use.
type recentHolders struct {
	mu   sync.Mutex
	good map[cid.Cid][]peer.ID // root -> peers that delivered, latest first
	seen []cid.Cid             // roots in good, oldest first
}

// remembered returns the peers that lately had blocks under root.
func (r *recentHolders) remembered(root cid.Cid) []peer.ID {
	if !root.Defined() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]peer.ID(nil), r.good[root]...)
}

func (r *recentHolders) remember(root cid.Cid, p peer.ID) {
	if !root.Defined() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.good == nil {
		r.good = map[cid.Cid][]peer.ID{}
	}
	ps, known := r.good[root]
	if !known {
		if len(r.seen) >= rememberRoots {
			delete(r.good, r.seen[0])
			r.seen = r.seen[1:]
		}
		r.seen = append(r.seen, root)
	}
	out := []peer.ID{p}
	for _, q := range ps {
		if q != p && len(out) < askInParallel {
			out = append(out, q)
		}
	}
	r.good[root] = out
}

// holders lists the members of our groups that say they hold root,
// connected ones first.
func (k *kithSource) holders(root cid.Cid) []peer.ID {
	gs := k.n.groupsReady.Load()
	if gs == nil || !root.Defined() {
		return nil
	}
	var connected, other []peer.ID
	for _, g := range gs.list() {
		g.net.Read(func(s *group.State, l *group.Liveness) {
			for _, v := range l.Views(s) {
				if !v.Holds.Has(root) || v.ID == k.n.host.ID() {
					continue
				}
				if k.n.host.Network().Connectedness(v.ID) == network.Connected {
					connected = append(connected, v.ID)
				} else {
					other = append(other, v.ID)
				}
			}
		})
	}
	return append(connected, other...)
}
