package node

import (
	"context"
	"errors"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// providerSource finds peers that may have a DAG: first every connected
// peer (a fast "not found" costs one round trip), then whoever the DHT
// and the delegated routers name (findProviders); kith peers, IPFS nodes
// and HTTP providers alike (the fetcher asks each in the protocol its
// identify lists, or over HTTPS). It implements fetch.Providers.
type providerSource struct{ n *Node }

func (ps providerSource) FindProviders(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	go func() {
		defer close(out)
		seen := map[peer.ID]bool{ps.n.host.ID(): true}
		send := func(ai peer.AddrInfo) bool {
			if seen[ai.ID] {
				return true
			}
			seen[ai.ID] = true
			select {
			case out <- ai:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, p := range ps.n.host.Network().Peers() {
			if !send(ps.n.host.Peerstore().PeerInfo(p)) {
				return
			}
		}
		for ai := range ps.n.findProviders(ctx, c, 0) {
			if !send(ai) {
				return
			}
		}
	}()
	return out
}

// connectProvider dials a provider for a fetch and, when only a stranger's
// relay reaches it (a limited connection, which carries no transfer),
// waits for the hole punch, redialling through the relay if it does not
// come (see awaitDirect): the fetch is bounded by its connect timeout.
// Tickets' peers get the same wait (connectTicketPeers); a CID found in
// the DHT did not, and a `kith get` run seconds after the daemon started
// failed where a second try succeeded. An HTTP provider (only HTTP
// addresses, as delegated routers name them) is probed instead, and then
// asked through exchanges.
func (n *Node) connectProvider(ctx context.Context, ai peer.AddrInfo) error {
	if base, ok := onlyHTTP(ai); ok && n.httpProviders != nil {
		return n.httpProviders.connect(ctx, ai.ID, base)
	}
	if err := n.host.Connect(ctx, ai); err != nil {
		return err
	}
	n.awaitDirect(ctx, ai)
	return nil
}

// ensureLocal makes the whole DAG under root present in the store, fetching
// what is missing from peers. The caller holds a pin lock so gc cannot take
// blocks in between. When nobody has what is missing, its error says why
// (a *missError).
// opts narrow what is fetched (fetch.OnlyFiles).
func (n *Node) ensureLocal(ctx context.Context, root cid.Cid, progress func(api.Progress), opts ...fetch.FetchOption) (api.FetchStats, error) {
	st, err := n.fetchBlocks(ctx, root, progress, opts...)
	if err != nil && errors.Is(err, blockstore.ErrNotFound) && ctx.Err() == nil {
		return st, &missError{reason: n.explainMiss(ctx, root)}
	}
	return st, err
}

// fetchBlocks is ensureLocal with no explanation: its error, when nobody
// has what is missing, is the fetch's (wrapping blockstore.ErrNotFound).
// The stats say what it fetched, also when it fails.
func (n *Node) fetchBlocks(ctx context.Context, root cid.Cid, progress func(api.Progress), opts ...fetch.FetchOption) (api.FetchStats, error) {
	return n.fetchDAG(ctx, root, progress, true, opts...)
}

// fetchListing fetches what a listing of root reads (its folders, and
// each entry's first block): fetchBlocks, but the peers are not told the
// fetch finished (a get's listing is its first step of two).
func (n *Node) fetchListing(ctx context.Context, root cid.Cid) (api.FetchStats, error) {
	return n.fetchDAG(ctx, root, nil, false, fetch.OnlyFiles(func(cid.Cid) bool { return false }))
}

// fetchDAG is fetchBlocks; tell says whether the peers that served a
// fetch that finished are told so.
func (n *Node) fetchDAG(ctx context.Context, root cid.Cid, progress func(api.Progress), tell bool, opts ...fetch.FetchOption) (api.FetchStats, error) {
	// Fetch walks what is local first and asks no peer when nothing is
	// missing, so there is no separate local check here.
	start := time.Now()
	res, err := n.fetcher.Fetch(ctx, root, providerSource{n}, func(p fetch.Progress) {
		report(progress, api.Progress{Phase: "fetch", Bytes: p.Bytes + p.HaveBytes, Total: p.Total, Count: int64(p.Blocks), Peers: p.Peers, Rate: p.Rate, Have: p.HaveBytes})
	}, opts...)
	n.trim.moved(res.Bytes)
	if res.Blocks == 0 {
		return api.FetchStats{}, err // all was local, or nothing came
	}
	if err == nil && tell {
		n.tellFetched(root, res.PerPeer)
	}
	st := api.FetchStats{
		Blocks: res.Blocks, Bytes: res.Bytes, Peers: len(res.PerPeer),
		Duplicates: res.Duplicates, Dropped: len(res.Dropped), Seconds: time.Since(start).Seconds(),
		DownloadLimit: fetch.LimitOf(n.download),
		Protocols:     make(map[string]api.ProtocolStats, len(res.PerProtocol)),
	}
	for p, ps := range res.PerProtocol {
		st.Protocols[string(p)] = api.ProtocolStats{Blocks: ps.Blocks, Bytes: ps.Bytes, Peers: ps.Peers}
	}
	return st, err
}

// tellFetched tells the peers that served a fetch of root that it
// finished (fetch.FetchedID), so that their uploads say so (a kith send
// knows the friend has it all). It does not hold up the fetch's caller;
// a daemon that stops meanwhile (one a kith get started for itself) first
// waits for the notices, each bounded by a few seconds.
func (n *Node) tellFetched(root cid.Cid, served map[peer.ID]fetch.PeerStats) {
	for p := range served {
		if ok, _ := n.host.Peerstore().SupportsProtocols(p, fetch.FetchedID); len(ok) == 0 {
			continue // an IPFS node, or an older kith
		}
		n.background(func(ctx context.Context) {
			if err := fetch.TellFetched(context.WithoutCancel(ctx), n.host, p, root); err != nil {
				n.log.Debug("fetch: could not tell a peer the fetch finished", "peer", p, "cid", root, "err", err)
			}
		})
	}
}
