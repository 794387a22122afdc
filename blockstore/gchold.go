package blockstore

import (
	"sync"

	"github.com/ipfs/go-cid"
)

// holds are the CIDs GC keeps, with whatever the store holds below them,
// although no pin reaches them: the blocks the gateway is serving or has
// just fetched for a response. Unlike PinLock, a hold never waits for GC
// and never makes GC wait, so a long video stream neither stalls behind a
// gc nor blocks one; the cost is that GC re-marks from holds taken while it
// sweeps (see CollectGarbage).
type holds struct {
	mu   sync.Mutex
	held map[string]heldCID // by multihash, as GC marks
	// collecting is set while a GC runs; holds taken meanwhile queue in
	// fresh until the sweep marks from them.
	collecting bool
	fresh      []cid.Cid
}

type heldCID struct {
	c cid.Cid
	n int
}

// Hold keeps c, and every block below it that is in the store, from being
// collected until release is called (release is idempotent). It may be
// called at any time, also while a GC runs: a block GC already deleted
// stays deleted, anything still stored is kept. Hold does not wait.
func (l *GCLocker) Hold(c cid.Cid) (release func()) {
	h := &l.holds
	k := string(c.Hash())
	h.mu.Lock()
	if h.held == nil {
		h.held = map[string]heldCID{}
	}
	e := h.held[k]
	e.c, e.n = c, e.n+1
	h.held[k] = e
	if h.collecting {
		h.fresh = append(h.fresh, c)
	}
	h.mu.Unlock()
	return sync.OnceFunc(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if e := h.held[k]; e.n > 1 {
			e.n--
			h.held[k] = e
		} else {
			delete(h.held, k)
		}
	})
}

// Held reports whether c itself is held now.
func (l *GCLocker) Held(c cid.Cid) bool {
	h := &l.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.held[string(c.Hash())]
	return ok
}

// beginGC snapshots the holds for GC's mark phase and starts queueing new
// ones for the sweep.
func (h *holds) beginGC() []cid.Cid {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.collecting, h.fresh = true, nil
	out := make([]cid.Cid, 0, len(h.held))
	for _, e := range h.held {
		out = append(out, e.c)
	}
	return out
}

func (h *holds) endGC() {
	h.mu.Lock()
	h.collecting, h.fresh = false, nil
	h.mu.Unlock()
}

// lockFresh takes the lock that orders holds with deletions and returns
// the holds taken since the last call. The sweep marks from them and
// deletes one block before calling unlock, so a hold taken concurrently
// either comes before the deletion (and is seen) or after it.
func (h *holds) lockFresh() (fresh []cid.Cid, unlock func()) {
	h.mu.Lock()
	fresh, h.fresh = h.fresh, nil
	return fresh, h.mu.Unlock
}
