package node

import (
	"sort"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
)

// Uploads: who downloads what from this node. The /kith/fetch and Bitswap
// servers tell the tracker of every block they send; it adds them up per
// peer and per root. Neither protocol names the root a block is wanted
// for, so the tracker works it out from what it serves: a block that is a
// pinned root starts an upload of that root, and the links of every
// dag-pb block it sends under a root are remembered as that root's (the
// trail), so the blocks a peer asks for next are attributed as it walks
// down. A block reached by no such path (a peer resuming a fetch, or
// getting a file's middle from us and its top from another peer) counts
// under no root. The connection byte counters (connbytes.go) are not
// enough here: they count every protocol and know no content.

const (
	// uploadIdle is how long an upload stays listed after its last block.
	uploadIdle = time.Minute
	// maxUploads bounds the uploads tracked; the longest idle go first.
	maxUploads = 1024
	// rateBucket and rateBuckets make the sliding window of the rate:
	// 5 s, so the rate follows a transfer and falls to 0 soon after.
	rateBucket  = 500 * time.Millisecond
	rateBuckets = 10
	// trailMax bounds each of the trail's two generations (block -> root
	// entries); the older generation is dropped when the newer fills.
	trailMax = 1 << 16
)

// uploadProto is a bit per protocol that carried an upload's blocks.
type uploadProto uint8

const (
	protoKith uploadProto = 1 << iota
	protoBitswap
)

func (p uploadProto) names() []string {
	out := []string{}
	if p&protoKith != 0 {
		out = append(out, "kith")
	}
	if p&protoBitswap != 0 {
		out = append(out, "bitswap")
	}
	return out
}

// uploadKey names an upload: a peer and a root (cid.Undef: blocks of no
// known root).
type uploadKey struct {
	peer peer.ID
	root cid.Cid
}

type uploadEntry struct {
	protos        uploadProto
	bytes, blocks int64
	since, last   time.Time
	window        rateWindow
	// finished: the peer said its fetch of the root finished (fetch.FetchedID)
	// since it last asked for a block of it.
	finished bool
}

// uploadTracker adds up the blocks served to peers. Its methods are safe
// for concurrent use; served is called on the servers' goroutines.
type uploadTracker struct {
	// isRoot reports whether c is the root of a pin here; it is called
	// without the tracker's lock (it reads the store).
	isRoot func(c cid.Cid) bool
	now    func() time.Time
	sent   func(n int64) // every block served, for the memory trim; may be nil

	mu      sync.Mutex
	entries map[uploadKey]*uploadEntry
	trail   blockTrail
}

func newUploadTracker(isRoot func(cid.Cid) bool) *uploadTracker {
	return &uploadTracker{isRoot: isRoot, now: time.Now, entries: map[uploadKey]*uploadEntry{}}
}

// observer is the fetch.ServeObserver of one protocol's server.
func (t *uploadTracker) observer(proto uploadProto) fetch.ServeObserver {
	return func(p peer.ID, b blocks.Block) { t.served(proto, p, b) }
}

// served counts block b, sent to p over proto.
func (t *uploadTracker) served(proto uploadProto, p peer.ID, b blocks.Block) {
	c := b.Cid()
	t.mu.Lock()
	root, known := t.trail.get(c)
	t.mu.Unlock()
	if !known && t.isRoot(c) {
		root, known = c, true
	}
	var links []cid.Cid
	if known && c.Type() == cid.DagProtobuf {
		// A node whose links cannot be read counts for itself alone.
		links, _ = blockstore.Links(b)
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if known {
		t.trail.put(c, root)
		for _, l := range links {
			t.trail.put(l, root)
		}
	}
	e := t.entryLocked(uploadKey{peer: p, root: root}, now)
	n := int64(len(b.RawData()))
	if t.sent != nil {
		t.sent(n)
	}
	e.protos |= proto
	e.bytes += n
	e.blocks++
	e.last = now
	e.finished = false
	e.window.add(now, n)
}

// fetched takes p's word that its fetch of root finished (fetch.FetchedID):
// its upload of root is marked finished, and listed for uploadIdle more.
// A root not pinned here is none of this node's uploads, and ignored.
func (t *uploadTracker) fetched(p peer.ID, root cid.Cid) {
	if !t.isRoot(root) {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	// (A new entry: its blocks came under no root, a fetch resumed past
	// the root, or from another of its providers.)
	e := t.entryLocked(uploadKey{peer: p, root: root}, now)
	e.finished = true
	e.last = now
}

// entryLocked is the entry of key, made (the longest idle going past
// maxUploads) if there is none.
func (t *uploadTracker) entryLocked(key uploadKey, now time.Time) *uploadEntry {
	e := t.entries[key]
	if e == nil {
		t.pruneLocked(now, maxUploads-1)
		e = &uploadEntry{since: now}
		t.entries[key] = e
	}
	return e
}

// uploadSnapshot is one upload as list reports it.
type uploadSnapshot struct {
	uploadKey
	protos        uploadProto
	bytes, blocks int64
	rate          float64
	since, last   time.Time
	finished      bool
}

// list returns the uploads active in the last uploadIdle, the fastest
// first, then the most recent.
func (t *uploadTracker) list() []uploadSnapshot {
	now := t.now()
	t.mu.Lock()
	t.pruneLocked(now, maxUploads)
	out := make([]uploadSnapshot, 0, len(t.entries))
	for k, e := range t.entries {
		out = append(out, uploadSnapshot{uploadKey: k, protos: e.protos, bytes: e.bytes, blocks: e.blocks,
			rate: e.window.rate(now, e.since), since: e.since, last: e.last, finished: e.finished})
	}
	t.mu.Unlock()
	sort.Slice(out, func(a, b int) bool {
		if out[a].rate != out[b].rate {
			return out[a].rate > out[b].rate
		}
		if !out[a].last.Equal(out[b].last) {
			return out[a].last.After(out[b].last)
		}
		return out[a].peer < out[b].peer
	})
	return out
}

// pruneLocked forgets uploads idle for uploadIdle, then the longest idle
// ones until at most keep are left.
func (t *uploadTracker) pruneLocked(now time.Time, keep int) {
	for k, e := range t.entries {
		if now.Sub(e.last) > uploadIdle {
			delete(t.entries, k)
		}
	}
	for len(t.entries) > keep {
		var oldest uploadKey
		var at time.Time
		for k, e := range t.entries {
			if at.IsZero() || e.last.Before(at) {
				oldest, at = k, e.last
			}
		}
		delete(t.entries, oldest)
	}
}

// blockTrail maps blocks to the root they were reached from, in two
// bounded generations: lookups see both, additions go to the newer, and
// when it fills the older is dropped. Entries are keyed by the last 8
// bytes of the block's multihash digest (uniformly random for the hashes
// kith accepts), which keeps an entry to a few dozen bytes.
type blockTrail struct {
	cur, old map[uint64]cid.Cid
}

func trailKey(c cid.Cid) uint64 {
	h := c.Hash()
	var k uint64
	for _, b := range h[max(0, len(h)-8):] {
		k = k<<8 | uint64(b)
	}
	return k
}

func (t *blockTrail) get(c cid.Cid) (cid.Cid, bool) {
	k := trailKey(c)
	if r, ok := t.cur[k]; ok {
		return r, true
	}
	r, ok := t.old[k]
	return r, ok
}

func (t *blockTrail) put(c, root cid.Cid) {
	if t.cur == nil {
		t.cur = map[uint64]cid.Cid{}
	}
	if len(t.cur) >= trailMax {
		t.old, t.cur = t.cur, map[uint64]cid.Cid{}
	}
	t.cur[trailKey(c)] = root
}

// rateWindow is a sliding window of bytes in rateBuckets buckets of
// rateBucket each; buckets[pos] is the newest, starting at head.
type rateWindow struct {
	buckets [rateBuckets]int64
	pos     int
	head    time.Time
}

// advance moves the window to now, emptying the buckets it passes.
func (w *rateWindow) advance(now time.Time) {
	if w.head.IsZero() {
		w.head = now
		return
	}
	steps := int(now.Sub(w.head) / rateBucket)
	if steps <= 0 {
		return
	}
	for i := 0; i < min(steps, rateBuckets); i++ {
		w.pos = (w.pos + 1) % rateBuckets
		w.buckets[w.pos] = 0
	}
	w.head = w.head.Add(time.Duration(steps) * rateBucket)
}

func (w *rateWindow) add(now time.Time, n int64) {
	w.advance(now)
	w.buckets[w.pos] += n
}

// rate is the bytes per second over the window, or since the upload began
// when that is more recent (a new upload is not averaged with the time
// before it), counting at least one bucket's time.
func (w *rateWindow) rate(now, since time.Time) float64 {
	w.advance(now)
	var sum int64
	for _, b := range w.buckets {
		sum += b
	}
	if sum == 0 {
		return 0
	}
	span := now.Sub(w.head) + (rateBuckets-1)*rateBucket
	span = max(min(span, now.Sub(since)), rateBucket)
	return float64(sum) / span.Seconds()
}
