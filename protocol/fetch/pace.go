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
// WithDownloadLimiter, or nil for no limit (bytesPerSecond <= 0). Its
// burst is a few pace chunks: the cap holds from the first bytes.
func NewDownloadLimiter(bytesPerSecond int64) *rate.Limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bytesPerSecond), 4*paceChunk(rate.Limit(bytesPerSecond)))
}

// paceChunk is what one wait on a download limit of r bytes per second
// covers: an eighth of a second of it, between 16 and 256 KiB, so that a
// reader held back by a low cap still shows activity to the stall
// watchdogs often, and one at a high cap does not wait per few bytes.
func paceChunk(r rate.Limit) int {
	return min(max(int(r/8), 16<<10), 256<<10)
}

// pace waits until l allows n more bytes, a chunk at a time, calling alive
// after each chunk with how long it waited for it; with no limiter it
// returns at once, and when ctx ends it stops waiting.
func pace(ctx context.Context, l *rate.Limiter, n int, alive func(waited time.Duration)) {
	if l == nil {
		return
	}
	chunk := paceChunk(l.Limit())
	for n > 0 {
		k := min(n, chunk)
		start := time.Now()
		if l.WaitN(ctx, k) != nil {
			return
		}
		n -= k
		alive(time.Since(start))
	}
}
