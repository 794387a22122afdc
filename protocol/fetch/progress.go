package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Progress is a snapshot of a running fetch, passed to Fetch's callback.
type Progress struct {
	// Bytes and Blocks count verified blocks received so far by this call.
	Bytes  int64
	Blocks int
	// Total estimates the byte size of the whole DAG (all its blocks), 0
	// until the root block is known: the root's size plus the Tsize of its
	// links, which is exact for DAGs from standard UnixFS importers but only
	// as good as the Tsizes a remote importer wrote. Bytes + HaveBytes
	// approaches Total.
	Total int64
	// HaveBytes counts blocks of the DAG that were already in the local
	// store (found while walking; grows as the walk proceeds).
	HaveBytes int64
	// Peers is the number of peers that delivered a block in the last
	// recentPeer interval.
	Peers int
	// Rate is the recent receive rate in bytes per second (smoothed).
	Rate float64
}

const (
	tickInterval = 100 * time.Millisecond
	recentPeer   = 3 * time.Second
)

// tick drives the per-peer rate estimates, the stall watchdog and the
// progress callback, until ctx ends.
func (r *run) tick(ctx context.Context, progress func(Progress)) {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.sched.tick(now)
			if progress != nil {
				progress(r.sched.snapshot(now))
			}
		}
	}
}

// tick updates rates and drops peers that have stalled.
func (s *scheduler) tick(now time.Time) {
	var rewant []*bitswapPeer
	defer func() {
		for _, bp := range rewant { // outside s.mu: it sends
			bp.rewant()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	dt := now.Sub(s.lastTick).Seconds()
	if dt <= 0 {
		return
	}
	s.lastTick = now
	s.rate = ewma(s.rate, float64(s.res.Bytes-s.lastBytes)/dt)
	s.lastBytes = s.res.Bytes
	diskBound := s.r.store != nil && s.r.store.bound()
	for _, p := range s.peers {
		if p.gone() {
			continue
		}
		got := p.received.Load()
		p.rate = ewma(p.rate, float64(got-p.lastReceived)/dt)
		if got > p.lastReceived {
			p.sendRate = p.rate
		}
		p.lastReceived = got
		switch {
		case p.bitswap != nil:
		case diskBound:
			p.storeBound(now)
		default:
			p.probeLanes(now, p.started, p.inflight >= p.window()-p.batchBytes())
		}
		if p.inflight <= 0 {
			continue
		}
		// A slow peer may need a while for one whole block on transports
		// that deliver writes whole; that is not a stall. The allowance
		// follows the rate it sent at, not the rate decaying while it
		// sends nothing (which would grow the allowance without end).
		limit := s.r.f.stallTimeout
		if p.sendRate > 0 {
			limit = max(limit, time.Duration(4*leafSizeGuess/p.sendRate*float64(time.Second)))
		}
		last := p.lastActivity.Load()
		idle := now.Sub(time.Unix(0, last))
		switch {
		case idle > limit:
			s.dropLocked(p, dropStalled, "stalled: no data for "+idle.Round(time.Millisecond).String())
		case p.bitswap != nil && idle > limit/2 && p.rewanted != last:
			// A Bitswap server may have lost the message of a block
			// (see Wantlist.Rewant): ask once more before giving up.
			p.rewanted = last
			rewant = append(rewant, p.bitswap)
		}
	}
	if s.overdue(now) {
		s.broadcast() // idle peers may take copies of overdue wants
	}
}

// A frame must arrive at minFrameRate at least, after frameGrace: a peer
// that announces a 2 MiB block and sends a byte a second stays clear of
// the stall watchdog (it is never silent) but not of this. The rate is an
// uplink slower than any a peer could usefully serve from.
const (
	minFrameRate = 32 << 10
	frameGrace   = 5 * time.Second
)

func frameDeadline(n int64) time.Duration {
	return frameGrace + time.Duration(n)*time.Second/minFrameRate
}

// frameHook starts the deadline of the frame l's reader is about to read;
// a frame still incomplete at it drops the peer. Time the reader spent
// held back by the download limit (lane.paced) is this node's, not the
// peer's: the deadline moves by as much.
func (l *lane) frameHook(_ MsgType, n int) (func(), error) {
	d := frameDeadline(int64(n) + 1)
	stalled := func() {
		l.r.sched.drop(l.p, dropStalled, fmt.Sprintf("stalled: a frame of %d bytes took over %v (a trickle under %d KiB/s)",
			n+1, d.Round(time.Second), minFrameRate>>10))
	}
	if !l.r.f.limited() {
		t := time.AfterFunc(d, stalled)
		return func() { t.Stop() }, nil
	}
	var (
		mu   sync.Mutex
		t    *time.Timer
		done bool // the frame arrived: a timer re-armed meanwhile drops nobody
	)
	start := l.paced.Load()
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		if waited := l.paced.Load() - start; waited > 0 {
			start += waited
			t.Reset(time.Duration(waited))
			return
		}
		stalled()
	})
	return func() {
		mu.Lock()
		done = true
		t.Stop()
		mu.Unlock()
	}, nil
}

// ewma smooths rate samples taken every tickInterval (~0.5 s memory).
func ewma(old, sample float64) float64 {
	if old == 0 {
		return sample
	}
	return 0.75*old + 0.25*sample
}

// snapshot returns the current Progress.
func (s *scheduler) snapshot(now time.Time) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := Progress{Bytes: s.res.Bytes, Blocks: s.res.Blocks, Total: s.total, HaveBytes: s.haveBytes, Rate: s.rate}
	for _, p := range s.peers {
		if !p.lastDelivery.IsZero() && now.Sub(p.lastDelivery) < recentPeer {
			pr.Peers++
		}
	}
	return pr
}
