package node

import (
	"context"
	"slices"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// requestHolds are the GC holds of one on-demand read (a gateway request,
// a `kith cat`): the root of the content it reads, and every block it
// fetched. A GC running meanwhile keeps them (blockstore.GCLocker.Hold),
// so a response never loses a block it is about to send; when the read
// ends they are released, and what it fetched, pinned by nothing, is the
// downloads' cache (demandReads).
type requestHolds struct {
	reads    *demandReads
	mu       sync.Mutex
	held     map[cid.Cid]bool
	roots    []cid.Cid
	releases []func()
	ended    bool
}

type holdsKey struct{}

// withRequestHolds gives the reads under ctx a set of holds, which end
// releases (it is idempotent); reads counts the roots they read.
func withRequestHolds(ctx context.Context, reads *demandReads) (_ context.Context, end func()) {
	h := &requestHolds{held: map[cid.Cid]bool{}, reads: reads}
	return context.WithValue(ctx, holdsKey{}, h), h.release
}

// holdsFrom returns ctx's holds; nil (on which every method is a no-op)
// outside a gateway request.
func holdsFrom(ctx context.Context) *requestHolds {
	h, _ := ctx.Value(holdsKey{}).(*requestHolds)
	return h
}

// hold keeps c and what is stored below it until the request ends.
func (h *requestHolds) hold(gcl *blockstore.GCLocker, c cid.Cid) {
	if h == nil || !c.Defined() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[c] || h.ended {
		return
	}
	h.held[c] = true
	h.releases = append(h.releases, gcl.Hold(c))
}

// holdRoot is hold for the root of what the request reads, which is
// also counted as read (demandReads) until the request ends.
func (h *requestHolds) holdRoot(gcl *blockstore.GCLocker, root cid.Cid) {
	if h == nil || !root.Defined() {
		return
	}
	h.mu.Lock()
	first := !h.ended && !slices.Contains(h.roots, root)
	if first {
		h.roots = append(h.roots, root)
		h.reads.begin(root)
	}
	h.mu.Unlock()
	h.hold(gcl, root)
}

func (h *requestHolds) release() {
	h.mu.Lock()
	if h.ended {
		h.mu.Unlock()
		return
	}
	h.ended = true
	for _, r := range h.releases {
		r()
	}
	roots := h.roots
	h.releases, h.roots = nil, nil
	h.mu.Unlock()
	for _, root := range roots {
		h.reads.end(root)
	}
}
