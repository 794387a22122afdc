package node

import (
	"context"
	"maps"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// ensureExcluding makes present what a get of c that leaves out what x
// names writes (kith get --exclude): first the folders and each entry's
// first block (what a listing reads), then the whole of each file not
// left out; what is left out is never fetched (its error, when nobody has
// what is missing, is fetchBlocks', unexplained). It returns the bytes of
// the files written (the whole file when c is one: nothing is left out of
// it). The caller holds a pin lock, as for ensureLocal.
func (n *Node) ensureExcluding(ctx context.Context, c cid.Cid, x dag.Exclusion, progress func(api.Progress)) (api.FetchStats, int64, error) {
	listing, err := n.fetchListing(ctx, c)
	if err != nil {
		return listing, 0, err
	}
	st, err := dag.StatRoot(ctx, n.store, c)
	if err != nil {
		return listing, 0, err
	}
	if st.Type != dag.TypeDir {
		rest, err := n.fetchBlocks(ctx, c, progress)
		return addFetchStats(listing, rest), int64(st.Size), err
	}
	files, size, err := dag.FilesWritten(ctx, n.store, c, x)
	if err != nil {
		return listing, 0, err
	}
	// The fetch counts the whole folder's size as its total, and what it
	// had of it: told as a share of what is written.
	rest, err := n.fetchBlocks(ctx, c, func(p api.Progress) {
		p.Total = size
		p.Bytes, p.Have = min(p.Bytes, size), min(p.Have, size)
		report(progress, p)
	}, fetch.OnlyFiles(func(f cid.Cid) bool { return files[f] }))
	return addFetchStats(listing, rest), size, err
}

// addFetchStats is what two fetches of one get fetched together.
func addFetchStats(a, b api.FetchStats) api.FetchStats {
	if a.Blocks == 0 {
		return b
	}
	if b.Blocks == 0 {
		return a
	}
	out := api.FetchStats{
		Blocks: a.Blocks + b.Blocks, Bytes: a.Bytes + b.Bytes, Peers: max(a.Peers, b.Peers),
		Duplicates: a.Duplicates + b.Duplicates, Dropped: a.Dropped + b.Dropped, Seconds: a.Seconds + b.Seconds,
		DownloadLimit: max(a.DownloadLimit, b.DownloadLimit),
		Protocols:     maps.Clone(a.Protocols),
	}
	if out.Protocols == nil {
		out.Protocols = map[string]api.ProtocolStats{}
	}
	for p, s := range b.Protocols {
		o := out.Protocols[p]
		out.Protocols[p] = api.ProtocolStats{Blocks: o.Blocks + s.Blocks, Bytes: o.Bytes + s.Bytes, Peers: max(o.Peers, s.Peers)}
	}
	return out
}
