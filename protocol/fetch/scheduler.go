package fetch

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// maxCopies is how many peers one CID may be asked from at once: the
	// first owner plus one endgame copy.
	maxCopies = 2
	// leafSizeGuess is the assumed size of a block whose parent link gives
	// no Tsize: the IPIP-499 chunk.
	leafSizeGuess = 1 << 20
	// innerSizeGuess bounds the estimate for a dag-pb node (its link Tsize
	// is the whole subtree, not the node): 1024 links are ~45 KiB.
	innerSizeGuess = 64 << 10
)

// want is one missing block. All fields are guarded by scheduler.mu.
type want struct {
	c      cid.Cid
	size   int64 // estimated bytes, for windows and batch sizes
	inner  bool  // dag-pb: its links are walked once it arrives
	done   bool  // a verified copy arrived
	queued bool  // waiting in one of the scheduler's queues
	// owners are the peers it is currently requested from; lacking the
	// peers that answered NotFound for it.
	owners  []*peerState
	lacking []*peerState
}

// batch is one request to one peer: on one stream of a kith peer, or a
// group of wants sent to a Bitswap peer. Answers may come in any order
// (Bitswap's do). Guarded by scheduler.mu.
type batch struct {
	p        *peerState
	wants    []*want
	got      []bool // got[i]: wants[i] is answered (or withdrawn)
	answered int    // how many of got are set
	notFound int
	ended    bool
	sent     time.Time // when it was handed to its peer
}

// scheduler decides which peer asks for which block. It owns the want list,
// the per-peer windows, endgame, failure detection and the Result counters.
// Everything is guarded by mu; peer loops wait on changed (closed and
// replaced on every change that may free work or window).
type scheduler struct {
	r *run

	mu    sync.Mutex
	wants map[string]*want // wants not done yet, by CID key
	// Unassigned wants: retries first (requeued from dropped or lacking
	// peers), then dag-pb nodes (so the leaf list is known after a round
	// trip or two), then leaves in DAG order.
	retryQ, innerQ, leafQ []*want
	// open counts unresolved nodes: wants not yet stored (or, for dag-pb,
	// not yet walked) plus blocks waiting in the walker. Zero means done.
	open             int
	outstanding      int // wants not done
	innerOutstanding int
	// room, when not nil, is closed once fewer than roomAt leaves are
	// wanted: the walker waits on it (walkRoom).
	room   chan struct{}
	roomAt int

	peers      map[peer.ID]*peerState
	usable     int // peers neither dropped nor retired
	connecting int
	sourceDone bool

	changed  chan struct{}
	done     chan struct{} // closed when open reaches zero
	finished bool
	wantSeen chan struct{} // closed when the first missing block is found
	seenOnce bool

	res       Result
	total     int64
	haveBytes int64
	rate      float64
	lastBytes int64
	lastTick  time.Time
}

func newScheduler(r *run) *scheduler {
	return &scheduler{
		r:        r,
		wants:    make(map[string]*want),
		open:     1, // the walker's start: resolving the root itself
		peers:    make(map[peer.ID]*peerState),
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
		wantSeen: make(chan struct{}),
		res: Result{PerPeer: make(map[peer.ID]PeerStats), PerProtocol: make(map[Protocol]PeerStats),
			Dropped: make(map[peer.ID]string)},
		lastTick: time.Now(),
	}
}

// broadcast wakes every waiting peer loop. Called with mu held.
func (s *scheduler) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// add records blocks the walker found missing (each holding one open count)
// plus nLocal dag-pb blocks it found locally and will walk, and haveBytes of
// blocks already stored.
func (s *scheduler) add(ws []*want, nLocal int, haveBytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open += nLocal
	s.haveBytes += haveBytes
	for _, w := range ws {
		k := w.c.KeyString()
		if _, ok := s.wants[k]; ok {
			continue // a repeated leaf (zero chunks, identical files) still wanted
		}
		s.wants[k] = w
		s.open++
		s.outstanding++
		w.queued = true
		if w.inner {
			s.innerOutstanding++
			s.innerQ = append(s.innerQ, w)
		} else {
			s.leafQ = append(s.leafQ, w)
		}
	}
	if len(ws) > 0 {
		if !s.seenOnce {
			s.seenOnce = true
			close(s.wantSeen)
		}
		if s.usable == 0 {
			s.checkStuck()
		}
		s.broadcast()
	}
}

// wantedLeaves returns how many leaves are wanted and not yet received.
func (s *scheduler) wantedLeaves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outstanding - s.innerOutstanding
}

// walkRoom returns nil while fewer than limit leaves are wanted and not yet
// received; otherwise a channel that is closed once fewer than half that
// are (so the walker, waiting on it, wakes once, not at every block).
func (s *scheduler) walkRoom(limit int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outstanding-s.innerOutstanding < limit {
		return nil
	}
	if s.room == nil {
		s.room = make(chan struct{})
		s.roomAt = limit / 2
	}
	return s.room
}

// release resolves n open nodes; the fetch is complete at zero.
func (s *scheduler) release(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open -= n
	if s.open == 0 && !s.finished {
		s.finished = true
		close(s.done)
	}
	s.broadcast() // endgame may have become possible
}

func (s *scheduler) setTotal(n int64) {
	s.mu.Lock()
	s.total = n
	s.mu.Unlock()
}

// next hands p its next batch, or returns the channel to wait on before
// asking again; both nil means p is no longer usable.
func (s *scheduler) next(p *peerState) (*batch, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.gone() || s.finished {
		return nil, nil
	}
	if p.inflight >= p.window() {
		return nil, s.changed
	}
	limit, maxN := p.batchBytes(), p.batchBlocks()
	if maxN <= 0 {
		return nil, s.changed
	}
	var ws []*want
	var bytes int64
	for _, q := range []*[]*want{&s.retryQ, &s.innerQ, &s.leafQ} {
		n := maxN
		if q == &s.innerQ {
			n = s.innerRoom(len(ws), maxN)
		}
		ws, bytes = s.takeFrom(q, p, ws, bytes, limit, n)
	}
	if len(ws) == 0 && !s.r.f.limited() {
		// Copies of other peers' requests: any of them in endgame; before
		// it, only overdue ones (a peer holding the root, or inner blocks,
		// far longer than its rate explains would stall everyone). Not
		// under a download limit: peers then look slow because this node
		// reads slowly, and a copy would spend the cap twice (a peer that
		// stalls is still dropped, and its wants go to the others).
		ws = s.steal(p, limit, maxN, !s.endgame(), time.Now())
	}
	if len(ws) == 0 {
		return nil, s.changed
	}
	if p.inflight == 0 {
		p.touch(time.Now()) // idle time before this batch is not a stall
	}
	b := &batch{p: p, wants: ws, got: make([]bool, len(ws)), sent: time.Now()}
	for _, w := range ws {
		w.owners = append(w.owners, p)
		p.inflight += w.size
	}
	p.wants += len(ws)
	p.batches = append(p.batches, b)
	return b, nil
}

// innerRoom returns how large a batch holding n wants may grow with dag-pb
// blocks: by none while the walker waits for leaves (walkRoom) or holds
// maxWalkBacklog blocks, by a quarter of that otherwise. With mu held.
func (s *scheduler) innerRoom(n, maxN int) int {
	f := s.r.f
	if s.r.walk == nil { // a scheduler tested on its own
		return maxN
	}
	if s.outstanding-s.innerOutstanding >= f.wantedLeavesLimit() || s.r.walk.backlog() >= f.walkBacklogLimit() {
		return n
	}
	return min(maxN, n+max(1, f.walkBacklogLimit()/4))
}

// takeFrom moves wants from the front of q into ws until the batch holds
// limit bytes or maxN CIDs, skipping (and keeping) wants p lacks.
func (s *scheduler) takeFrom(q *[]*want, p *peerState, ws []*want, bytes, limit int64, maxN int) ([]*want, int64) {
	var skipped []*want
	i := 0
	for ; i < len(*q) && bytes < limit && len(ws) < maxN; i++ {
		w := (*q)[i]
		if w.done || !w.queued {
			continue
		}
		if slices.Contains(w.lacking, p) {
			skipped = append(skipped, w)
			continue
		}
		w.queued = false
		ws = append(ws, w)
		bytes += w.size
	}
	if len(skipped) == 0 {
		*q = (*q)[i:]
	} else {
		*q = append(skipped, (*q)[i:]...)
	}
	return ws, bytes
}

// answer marks b.wants[i] answered by b's peer and frees its window.
// Called with mu held; false if b was already ended (its peer dropped) or
// wants[i] was answered before.
func (s *scheduler) answer(b *batch, i int) (*want, bool) {
	if b.ended || b.got[i] {
		return nil, false
	}
	w := b.wants[i]
	b.got[i] = true
	b.answered++
	b.p.inflight -= w.size
	b.p.wants--
	w.owners = slices.DeleteFunc(w.owners, func(q *peerState) bool { return q == b.p })
	return w, true
}

// claim records that b's peer delivered a verified b.wants[i] of n bytes.
// It reports whether this is the first copy, which the caller must store;
// later copies are counted as duplicates and dropped. With the first copy
// it also returns the Bitswap peers that were asked for the same block
// (endgame): the caller withdraws those wants.
func (s *scheduler) claim(b *batch, i, n int) (first bool, others []*peerState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.answer(b, i)
	if !ok {
		return false, nil
	}
	defer s.broadcast()
	p := b.p
	p.lastDelivery = time.Now()
	if w.done {
		s.res.Duplicates++
		s.r.f.metrics.duplicate()
		return false, nil
	}
	w.done = true
	for _, q := range w.owners {
		if q.bitswap != nil {
			others = append(others, q)
		}
	}
	// Forget it: a map of every block ever fetched would grow with the
	// DAG. A repeat the walker meets later is in the store by then (or, in
	// the moment it waits for the store writer, is fetched again).
	delete(s.wants, w.c.KeyString())
	s.outstanding--
	if w.inner {
		s.innerOutstanding--
	}
	if s.room != nil && s.outstanding-s.innerOutstanding < s.roomAt {
		close(s.room)
		s.room = nil
	}
	s.res.Blocks++
	s.res.Bytes += int64(n)
	st := s.res.PerPeer[p.id]
	st.Blocks++
	st.Bytes += int64(n)
	s.res.PerPeer[p.id] = st
	ps := s.res.PerProtocol[p.proto]
	ps.Blocks++
	ps.Bytes += int64(n)
	if st.Blocks == 1 {
		ps.Peers++
	}
	s.res.PerProtocol[p.proto] = ps
	s.r.f.metrics.fetchedOver(p.proto, n)
	if !w.inner && w.c.Equals(s.r.root) {
		s.total = int64(n)
	}
	return true, others
}

// withdraw marks b.wants[i] answered without a block: its peer was told
// to stop sending it because another peer delivered it first.
func (s *scheduler) withdraw(b *batch, i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.answer(b, i); ok {
		s.broadcast()
	}
}

// notFound records that b's peer lacks b.wants[i].
func (s *scheduler) notFound(b *batch, i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.answer(b, i)
	if !ok {
		return
	}
	b.notFound++
	w.lacking = append(w.lacking, b.p)
	s.requeue(w)
	if s.noMorePeers() && s.lacksAll(w) {
		s.failMissing(w.c)
	}
	s.broadcast()
}

// batchEnd releases what is left of b (on completion, cancellation or a
// dropped peer) and requeues its unanswered wants. A batch whose every
// answer was NotFound retires its peer: it does not have this content.
func (s *scheduler) batchEnd(b *batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endBatch(b)
	if b.notFound == len(b.wants) && !b.p.gone() {
		b.p.retired = true
		b.p.cancel()
		s.usable--
		s.checkStuck()
	}
}

func (s *scheduler) endBatch(b *batch) {
	if b.ended {
		return
	}
	b.ended = true
	p := b.p
	p.batches = slices.DeleteFunc(p.batches, func(x *batch) bool { return x == b })
	for i, w := range b.wants {
		if b.got[i] {
			continue
		}
		p.inflight -= w.size
		p.wants--
		w.owners = slices.DeleteFunc(w.owners, func(q *peerState) bool { return q == p })
		s.requeue(w)
	}
	s.broadcast()
}

// requeue puts w back for another peer if nobody has it in flight.
func (s *scheduler) requeue(w *want) {
	if !w.done && !w.queued && len(w.owners) == 0 {
		w.queued = true
		s.retryQ = append(s.retryQ, w)
	}
}

// result returns a copy of the counters.
func (s *scheduler) result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res
	r.PerPeer = maps.Clone(s.res.PerPeer)
	r.PerProtocol = maps.Clone(s.res.PerProtocol)
	r.Dropped = maps.Clone(s.res.Dropped)
	return r
}
