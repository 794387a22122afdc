package fetch

import (
	"slices"
	"time"
)

// Endgame: once every missing block is known and requested, idle peers
// re-request the outstanding blocks of the slowest peers (BitTorrent's
// endgame). The first copy to arrive is stored and later copies are counted
// as duplicates and dropped. A kith peer's stream carries on with its batch
// (the owner and the thief start from opposite ends, so few blocks come
// twice); a Bitswap peer is sent a cancel for each block another peer
// delivered first, so it stops sending it.

// endgame reports whether every remaining block is known and requested:
// only then are copies of other peers' requests worth issuing.
func (s *scheduler) endgame() bool {
	return len(s.retryQ) == 0 && len(s.innerQ) == 0 && len(s.leafQ) == 0 &&
		s.innerOutstanding == 0 && s.open == s.outstanding && s.outstanding > 0
}

// steal picks outstanding wants of other peers for p, slowest peer first,
// from the tail of its requests: the owner delivers from the head, so the
// two meet in the middle and few blocks arrive twice. With overdueOnly,
// only the wants of batches older than their peer's hedge delay are taken.
func (s *scheduler) steal(p *peerState, limit int64, maxN int, overdueOnly bool, now time.Time) []*want {
	var others []*peerState
	for _, q := range s.peers {
		if q != p && !q.gone() && len(q.batches) > 0 {
			if overdueOnly && !q.overdue(now) {
				continue
			}
			others = append(others, q)
		}
	}
	slices.SortFunc(others, func(a, b *peerState) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
	var ws []*want
	var bytes int64
	for _, q := range others {
		for bi := len(q.batches) - 1; bi >= 0; bi-- {
			b := q.batches[bi]
			// Only the oldest batch is being answered; the ones behind it
			// wait their turn, which is no sign of a slow peer.
			if overdueOnly && (bi > 0 || now.Sub(b.sent) < q.hedgeDelay(b)) {
				continue
			}
			for wi := len(b.wants) - 1; wi >= 0 && b.answered < len(b.wants); wi-- {
				w := b.wants[wi]
				if b.got[wi] || w.done || len(w.owners) >= maxCopies || slices.Contains(w.owners, p) || slices.Contains(w.lacking, p) {
					continue
				}
				ws = append(ws, w)
				bytes += w.size
				if bytes >= limit || len(ws) >= maxN {
					return ws
				}
			}
		}
	}
	return ws
}

// Hedging: before endgame, a batch its peer has held for much longer than
// its size at a modest rate explains is overdue, and an idle peer may ask
// for copies of its wants. This is what keeps one trickling or silent
// provider from stalling a fetch on the root or an inner block, which
// endgame (it waits until every block is known) cannot reach.
const (
	// hedgeMin is the least a batch is given, whatever its size.
	hedgeMin = time.Second
	// hedgeRate is the rate below which a batch becomes overdue: a peer
	// slower than this shares its work with idle faster ones.
	hedgeRate = 1 << 20
)

// hedgeDelay is how long q may hold b before b is overdue.
func (q *peerState) hedgeDelay(b *batch) time.Duration {
	var bytes int64
	for _, w := range b.wants {
		bytes += w.size
	}
	return hedgeMin + 4*q.minRTT + time.Duration(bytes)*time.Second/hedgeRate
}

// overdue reports whether q's oldest batch is overdue.
func (q *peerState) overdue(now time.Time) bool {
	return len(q.batches) > 0 && now.Sub(q.batches[0].sent) >= q.hedgeDelay(q.batches[0])
}

// overdue reports whether some peer holds an overdue batch while another
// usable one has room for more: the tick then wakes the idle peers.
func (s *scheduler) overdue(now time.Time) bool {
	late, idle := false, false
	for _, q := range s.peers {
		if q.gone() {
			continue
		}
		if q.overdue(now) {
			late = true
		}
		if q.inflight < q.window() {
			idle = true
		}
	}
	return late && idle
}
