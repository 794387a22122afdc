package node

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// What `kith get` fetched stays in the repo, unpinned (and so does what a
// followed folder fetched of the version it wrote): a cache, from which
// the same content is written again at once and served to peers. Left to
// grow, it would double the disk a download takes (the repo's copy and the
// one written out) and never give it back. So the finished gets are listed
// (getCacheFile, oldest first, with what each fetched), and once they add
// up to more than fetch.cache_max the oldest are collected: only their
// blocks, and of those none a pin, a group copy, a transfer running or
// paused, or a stream needs. A get cut short is not listed: what it
// fetched stays for its resume (`kith gc` takes it).

// getCacheFile, in the repo, lists the finished gets the cache holds.
const getCacheFile = "getcache.json"

// maxCachedGets bounds the list; the oldest beyond it are collected.
const maxCachedGets = 1024

// cachedGet is one finished get: its root and the bytes it fetched.
type cachedGet struct {
	Cid     string    `json:"cid"`
	Fetched int64     `json:"fetched"`
	At      time.Time `json:"at"`
}

// getCache keeps the list; its mutex also runs one trim at a time.
type getCache struct {
	mu     sync.Mutex
	loaded bool
	list   []cachedGet
}

// cacheGot records a finished get of root that fetched bytes, then
// collects the oldest finished gets while they add up to more than the
// limit (the one just finished too, when it alone passes it).
func (n *Node) cacheGot(ctx context.Context, root cid.Cid, fetched int64) {
	if fetched <= 0 {
		return // all was here already: nothing of it is the get's own
	}
	gc := &n.getCache
	gc.mu.Lock()
	defer gc.mu.Unlock()
	path := filepath.Join(n.repo.dir, getCacheFile)
	if !gc.loaded {
		if b, err := os.ReadFile(path); err == nil {
			_ = json.Unmarshal(b, &gc.list) // a damaged list starts over
		}
		gc.loaded = true
	}
	gc.list = slices.DeleteFunc(gc.list, func(e cachedGet) bool { return e.Cid == root.String() })
	gc.list = append(gc.list, cachedGet{Cid: root.String(), Fetched: fetched, At: time.Now().UTC()})
	var total int64
	for _, e := range gc.list {
		total += e.Fetched
	}
	limit := n.cfg.Fetch.CacheMax
	var drop []cid.Cid
	for len(gc.list) > 0 && (total > limit || len(gc.list) > maxCachedGets) {
		if c, err := cid.Decode(gc.list[0].Cid); err == nil {
			drop = append(drop, c)
		}
		total -= gc.list[0].Fetched
		gc.list = gc.list[1:]
	}
	if len(drop) > 0 {
		res, err := blockstore.CollectUnder(ctx, n.store, n.store, n.gcl, drop, nil)
		if err != nil {
			n.log.Warn("could not give back the space of finished downloads (kith gc does it)", "err", err)
			return // listed still: the next trim tries again
		}
		n.log.Info("gave back the space of finished downloads (fetch.cache_max)",
			"downloads", len(drop), "freed", humanize.IBytes(uint64(res.RemovedBytes)), "cache", humanize.IBytes(uint64(max(total, 0))), "limit", humanize.IBytes(uint64(limit)))
	}
	b, err := json.Marshal(gc.list)
	if err == nil {
		err = writeFileAtomic(path, append(b, '\n'), 0o600)
	}
	if err != nil {
		n.log.Warn("could not save the list of finished downloads", "err", err)
	}
}
