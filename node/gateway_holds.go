package node

import (
	"context"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// requestHolds are the GC holds of one gateway request: the root of the
// content it serves, and every block it fetched. A GC running meanwhile
// keeps them (blockstore.GCLocker.Hold), so a response never loses a block
// it is about to send; when the request ends they are released, and the
// fetched blocks, pinned by nothing, go at the next GC.
type requestHolds struct {
	mu       sync.Mutex
	held     map[cid.Cid]bool
	releases []func()
	ended    bool
}

type holdsKey struct{}

// withRequestHolds gives the reads under ctx a set of holds, released
// when ctx ends.
func withRequestHolds(ctx context.Context) context.Context {
	h := &requestHolds{held: map[cid.Cid]bool{}}
	context.AfterFunc(ctx, h.release)
	return context.WithValue(ctx, holdsKey{}, h)
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

func (h *requestHolds) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = true
	for _, r := range h.releases {
		r()
	}
	h.releases = nil
}
