package node

import (
	"sync"

	"github.com/ipfs/go-cid"
)

// demandReads counts what on-demand reads (the gateway, `kith cat`,
// `kith ls`) fetched, by the root they read, and how many reads of each
// root are running. When the last read of a root ends, what they fetched
// (maybe nothing) is handed to done: the downloads' cache, which
// fetch.cache_max bounds, as a finished get's is. Without it a film
// watched through the gateway would stay in the repo until a `kith gc`.
type demandReads struct {
	done func(root cid.Cid, bytes int64)

	mu      sync.Mutex
	active  map[cid.Cid]int
	fetched map[cid.Cid]int64
}

// begin counts a read of root.
func (r *demandReads) begin(root cid.Cid) {
	if r == nil || !root.Defined() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active == nil {
		r.active = map[cid.Cid]int{}
	}
	r.active[root]++
}

// end counts a read of root out; the last one hands on what was fetched.
func (r *demandReads) end(root cid.Cid) {
	if r == nil || !root.Defined() {
		return
	}
	r.mu.Lock()
	if r.active[root] > 1 {
		r.active[root]--
		r.mu.Unlock()
		return
	}
	delete(r.active, root)
	b := r.fetched[root]
	delete(r.fetched, root)
	r.mu.Unlock()
	if r.done != nil {
		r.done(root, b)
	}
}

// add records bytes fetched for a read of root. A block that arrives
// after every read of its root ended (a fetch finishing late) is handed
// on at once.
func (r *demandReads) add(root cid.Cid, bytes int64) {
	if r == nil || !root.Defined() || bytes <= 0 {
		return
	}
	r.mu.Lock()
	if r.active[root] > 0 {
		if r.fetched == nil {
			r.fetched = map[cid.Cid]int64{}
		}
		r.fetched[root] += bytes
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	if r.done != nil {
		r.done(root, bytes)
	}
}
