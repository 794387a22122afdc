package fetch

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// WithDownloadLimiter paces what the Fetcher receives with l (nil: no
// limit), over all its fetches, peers and protocols together: the lanes
// of /kith/fetch and FetchBlocks read no faster than it allows, so the
// senders are held back by the transport's flow control, and Bitswap
// replies are taken no faster. Under a limit, a fetch asks no peer for
// a block another peer was asked for (endgame, hedging): the copy would
// spend the cap twice. Build it with NewDownloadLimiter.
func WithDownloadLimiter(l *rate.Limiter) FetcherOption {
	return func(f *Fetcher) { f.download = l }
}

// NewDownloadLimiter returns a token bucket of bytesPerSecond for
// WithDownloadLimiter (no limit when bytesPerSecond <= 0); SetDownloadLimit
// changes it while it is in use.
func NewDownloadLimiter(bytesPerSecond int64) *rate.Limiter {
	l := rate.NewLimiter(unlimited, 0)
	SetDownloadLimit(l, bytesPerSecond)
	return l
}

// SetDownloadLimit changes a download limiter's rate (bytesPerSecond <= 0:
// no limit) from now on. Its burst is a few pace chunks: the cap holds
// from the first bytes.
func SetDownloadLimit(l *rate.Limiter, bytesPerSecond int64) {
	r := limitOf(bytesPerSecond)
	l.SetBurst(4 * paceChunk(r))
	l.SetLimit(r)
}

// limited reports whether a download limit applies.
func (f *Fetcher) limited() bool {
	return f.download != nil && f.download.Limit() != unlimited
}

// paceChunk is what one wait on a download limit of r bytes per second
// covers: an eighth of a second of it, between 16 and 256 KiB, so that a
// reader held back by a low cap still shows activity to the stall
// watchdogs often, and one at a high cap does not wait per few bytes.
func paceChunk(r rate.Limit) int {
	if r == unlimited {
		return 256 << 10
	}
	return min(max(int(r/8), 16<<10), 256<<10)
}

// pace waits until l allows n more bytes, a chunk at a time, calling alive
// after each chunk with how long it waited for it; with no limiter it
// returns at once, and when ctx ends it stops waiting.
//
// The chunk follows the limit as it is at each step (SetDownloadLimit may
// change it meanwhile), and a wait is a reservation, not WaitN: WaitN
// refuses at once a wait longer than ctx's deadline, which would let the
// bytes through unpaced.
func pace(ctx context.Context, l *rate.Limiter, n int, alive func(waited time.Duration)) {
	for l != nil && n > 0 {
		r := l.Limit()
		if r == unlimited {
			return
		}
		k := min(n, paceChunk(r), l.Burst())
		if k <= 0 {
			return // the burst changed under us: this once, unpaced
		}
		res := l.ReserveN(time.Now(), k)
		start := time.Now()
		if d := res.Delay(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				res.Cancel()
				return
			}
		}
		n -= k
		alive(time.Since(start))
	}
}
