package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
)

// bitswapPeer is a Bitswap peer in one fetch. The scheduler gives it
// batches like any peer; it puts their CIDs on the peer's wantlist and
// matches the replies, which come in any order, to their batch. A batch
// ends when each of its wants has a block, a DONT_HAVE or was withdrawn.
type bitswapPeer struct {
	r *run
	p *peerState

	hashed bool // the Bitswap hashes blocks itself (HashingBitswap)

	mu      sync.Mutex
	wl      Wantlist            // nil until Open returned
	pending map[string]wantSlot // wants asked and not answered, by CID key
	left    map[*batch]int      // unanswered wants per batch
	closed  bool
}

// wantSlot says where a want sits: batch b, index i, asked at sent.
type wantSlot struct {
	b    *batch
	i    int
	sent time.Time
}

func newBitswapPeer(r *run, p *peerState) *bitswapPeer {
	h, ok := r.f.bitswap.(HashingBitswap)
	return &bitswapPeer{r: r, p: p, hashed: ok && h.HashesBlocks(),
		pending: make(map[string]wantSlot), left: make(map[*batch]int)}
}

// runBitswapPeer opens p's wantlist and keeps it filled while p's window
// has room, until p is gone or the fetch ends; then it withdraws every
// want and ends the batches still open, so their wants go to others.
func (r *run) runBitswapPeer(p *peerState) {
	bp := p.bitswap
	octx, cancel := context.WithTimeout(p.ctx, openTimeout)
	wl, err := r.f.bitswap.Open(octx, p.id, bp)
	cancel()
	if err != nil {
		if p.ctx.Err() == nil {
			r.sched.drop(p, dropStream, "open Bitswap wantlist: "+err.Error())
		}
		return
	}
	bp.mu.Lock()
	bp.wl = wl
	bp.mu.Unlock()
	defer bp.finish()
	r.feed(p, func(b *batch) error {
		if err := wl.Want(bp.add(b)); err != nil {
			return fmt.Errorf("Bitswap: %w", err)
		}
		return nil
	})
}

// add records b's wants as pending (before they are sent: a reply may come
// back at once) and returns their CIDs in order.
func (bp *bitswapPeer) add(b *batch) []cid.Cid {
	cs := make([]cid.Cid, len(b.wants))
	now := time.Now()
	bp.mu.Lock()
	defer bp.mu.Unlock()
	for i, w := range b.wants {
		cs[i] = w.c
		bp.pending[w.c.KeyString()] = wantSlot{b: b, i: i, sent: now}
	}
	bp.left[b] = len(b.wants)
	return cs
}

// take removes c's pending want and returns where it was.
func (bp *bitswapPeer) take(c cid.Cid) (wantSlot, bool) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.closed {
		return wantSlot{}, false
	}
	s, ok := bp.pending[c.KeyString()]
	if ok {
		delete(bp.pending, c.KeyString())
	}
	return s, ok
}

// answered counts one answer of b; the last one ends b.
func (bp *bitswapPeer) answered(b *batch) {
	bp.mu.Lock()
	bp.left[b]--
	last := bp.left[b] == 0
	if last {
		delete(bp.left, b)
	}
	bp.mu.Unlock()
	if last {
		bp.r.sched.batchEnd(b)
	}
}

// heard feeds the stall watchdog, the rate and the round-trip estimate.
func (bp *bitswapPeer) heard(s wantSlot, n int) {
	now := time.Now()
	bp.p.received.Add(int64(n))
	bp.p.touch(now)
	bp.r.sched.sawRTT(bp.p, now.Sub(s.sent))
}

// Block verifies a block the peer sent and delivers it.
func (bp *bitswapPeer) Block(c cid.Cid, data []byte) {
	s, ok := bp.take(c)
	if !ok {
		return // withdrawn, or the fetch is over
	}
	bp.heard(s, len(data))
	pace(bp.p.ctx, bp.r.f.download, len(data), func(time.Duration) { bp.p.touch(time.Now()) })
	if !bp.hashed {
		if err := verify(c, data); err != nil {
			bp.r.sched.drop(bp.p, dropHashMismatch, err.Error())
			return
		}
	}
	if err := bp.r.deliver(s.b, s.i, c, data, nil); err != nil {
		return // the fetch is ending
	}
	bp.answered(s.b)
}

// DontHave records that the peer lacks c.
func (bp *bitswapPeer) DontHave(c cid.Cid) {
	s, ok := bp.take(c)
	if !ok {
		return
	}
	bp.heard(s, 0)
	bp.r.sched.notFound(s.b, s.i)
	bp.answered(s.b)
}

// Gone drops the peer: its wantlist no longer works.
func (bp *bitswapPeer) Gone(err error) {
	if bp.p.ctx.Err() == nil {
		bp.r.sched.drop(bp.p, dropStream, "Bitswap: "+err.Error())
	}
}

// rewant asks the peer again for the wants it has not answered; the stall
// watchdog calls it once when the peer has been silent for half its
// allowance, before it gives up on the peer.
func (bp *bitswapPeer) rewant() {
	bp.mu.Lock()
	wl := bp.wl
	bp.mu.Unlock()
	if wl != nil {
		wl.Rewant()
	}
}

// withdraw cancels the want for c, which another peer delivered first.
func (bp *bitswapPeer) withdraw(c cid.Cid) {
	s, ok := bp.take(c)
	if !ok {
		return
	}
	bp.mu.Lock()
	wl := bp.wl
	bp.mu.Unlock()
	if wl != nil {
		wl.Cancel([]cid.Cid{c})
	}
	bp.r.sched.withdraw(s.b, s.i)
	bp.answered(s.b)
}

// finish closes the wantlist (withdrawing what is still wanted) and ends
// the batches that still wait for answers.
func (bp *bitswapPeer) finish() {
	bp.wl.Close()
	bp.mu.Lock()
	bp.closed = true
	open := make([]*batch, 0, len(bp.left))
	for b := range bp.left {
		open = append(open, b)
	}
	clear(bp.left)
	clear(bp.pending)
	bp.mu.Unlock()
	for _, b := range open {
		bp.r.sched.batchEnd(b)
	}
}
