package fetch

import "slices"

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
// two meet in the middle and few blocks arrive twice.
func (s *scheduler) steal(p *peerState, limit int64, maxN int) []*want {
	var others []*peerState
	for _, q := range s.peers {
		if q != p && !q.gone() && len(q.batches) > 0 {
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
