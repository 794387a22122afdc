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
// followed folder fetched of the version it wrote, and what reads fetched:
// `kith cat`, `kith ls`, the gateway, see demandReads): a cache, from which
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

// getCache keeps the list (mu) and runs one trim at a time (trim): a
// trim may wait long for gc's lock, and the list is read meanwhile.
type getCache struct {
	trim   sync.Mutex
	mu     sync.Mutex
	loaded bool
	list   []cachedGet
}

// loadLocked reads the list from the repo dir the first time.
func (gc *getCache) loadLocked(dir string) {
	if gc.loaded {
		return
	}
	if b, err := os.ReadFile(filepath.Join(dir, getCacheFile)); err == nil {
		_ = json.Unmarshal(b, &gc.list) // a damaged list starts over
	}
	gc.loaded = true
}

// saveLocked writes the list to the repo dir.
func (gc *getCache) saveLocked(dir string) error {
	b, err := json.Marshal(gc.list)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, getCacheFile), append(b, '\n'), 0o600)
}

// size adds up what the listed downloads fetched, and counts them.
func (gc *getCache) size(dir string) (bytes int64, downloads int) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	gc.loadLocked(dir)
	for _, e := range gc.list {
		bytes += e.Fetched
	}
	return bytes, len(gc.list)
}

// emptied forgets every listed download: a whole gc took their blocks.
func (gc *getCache) emptied(dir string) error {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	gc.loaded, gc.list = true, nil
	return gc.saveLocked(dir)
}

// cacheGot records that a finished get (or read) of root fetched bytes,
// then trims the cache (trimCache).
func (n *Node) cacheGot(ctx context.Context, root cid.Cid, fetched int64) {
	if fetched <= 0 {
		return // all was here already: nothing of it is the get's own
	}
	n.trimCache(ctx, &cachedGet{Cid: root.String(), Fetched: fetched, At: time.Now().UTC()})
}

// readEnded is called when the last on-demand read of root ends (a
// `kith cat`, a gateway response), with what the reads fetched: that is
// the downloads' cache, as a finished get's is. A read that fetched
// nothing may have kept a listed download from a trim (trimCache skips
// what is held), so the cache is trimmed anyway.
func (n *Node) readEnded(root cid.Cid, fetched int64) {
	n.background(func(ctx context.Context) {
		if fetched > 0 {
			n.cacheGot(ctx, root, fetched)
		} else {
			n.trimCache(ctx, nil)
		}
	})
}

// trimCache lists got (when not nil) as the newest download (adding to
// what was listed of the same root: reads of one film, a get after a
// cat), then collects the oldest downloads while they add up to more than
// the limit (the newest too, when it alone passes it). A download that
// something holds now (a read, a transfer, a get writing it out) is
// neither counted nor collected, and a download stays listed until its
// blocks are collected. The daemon also trims when it starts: a limit
// lowered since applies at once.
func (n *Node) trimCache(ctx context.Context, got *cachedGet) {
	gc, dir := &n.getCache, n.repo.dir
	gc.trim.Lock()
	defer gc.trim.Unlock()
	gc.mu.Lock()
	gc.loadLocked(dir)
	if got != nil {
		if i := slices.IndexFunc(gc.list, func(e cachedGet) bool { return e.Cid == got.Cid }); i >= 0 {
			got.Fetched += gc.list[i].Fetched
			gc.list = slices.Delete(gc.list, i, i+1)
		}
		gc.list = append(gc.list, *got)
	}
	var total int64
	held := map[string]bool{}
	for _, e := range gc.list {
		if c, err := cid.Decode(e.Cid); err == nil && n.gcl.Held(c) {
			held[e.Cid] = true
			continue
		}
		total += e.Fetched
	}
	limit := n.cacheMax.Load()
	var drop []cid.Cid
	dropped := map[string]bool{}
	for _, e := range gc.list {
		if total <= limit && len(gc.list)-len(dropped) <= maxCachedGets {
			break
		}
		if held[e.Cid] {
			continue
		}
		if c, err := cid.Decode(e.Cid); err == nil {
			drop = append(drop, c)
		}
		dropped[e.Cid] = true
		total -= e.Fetched
	}
	var err error
	if got != nil {
		err = gc.saveLocked(dir)
	}
	gc.mu.Unlock()
	if err != nil {
		n.log.Warn("could not save the list of finished downloads", "err", err)
	}
	if len(dropped) == 0 {
		return
	}
	res, err := blockstore.CollectUnder(ctx, n.store, n.store, n.gcl, drop, nil)
	if err != nil {
		n.log.Warn("could not give back the space of finished downloads (kith gc does it)", "err", err)
		return // still listed: the next trim tries again
	}
	gc.mu.Lock()
	gc.list = slices.DeleteFunc(gc.list, func(e cachedGet) bool { return dropped[e.Cid] })
	err = gc.saveLocked(dir)
	gc.mu.Unlock()
	if err != nil {
		n.log.Warn("could not save the list of finished downloads", "err", err)
	}
	n.log.Info("gave back the space of finished downloads (fetch.cache_max)",
		"downloads", len(dropped), "freed", humanize.IBytes(uint64(res.RemovedBytes)), "cache", humanize.IBytes(uint64(max(total, 0))), "limit", humanize.IBytes(uint64(limit)))
}
