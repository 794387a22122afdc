package fetch

import (
	"context"

	"golang.org/x/time/rate"
)

// WithDownloadLimiter paces what the Fetcher receives with l (nil: no
// limit), over all its fetches, peers and protocols together: the lanes
// of /kith/fetch and FetchBlocks read no faster than it allows, so the
// senders are held back by the transport's flow control, and Bitswap
// replies are taken no faster. Build it with NewLimiter.
func WithDownloadLimiter(l *rate.Limiter) FetcherOption {
	return func(f *Fetcher) { f.download = l }
}

// paceChunk is what one wait on the download limiter covers: small, so
// that a reader held back by a low cap still shows activity to the stall
// watchdogs (every few seconds at 16 KiB/s shared by several readers).
const paceChunk = 16 << 10

// pace waits until l allows n more bytes, a chunk at a time, calling alive
// after each chunk; with no limiter it returns at once, and when ctx ends
// it stops waiting.
func pace(ctx context.Context, l *rate.Limiter, n int, alive func()) {
	for l != nil && n > 0 {
		k := min(n, paceChunk)
		if l.WaitN(ctx, k) != nil {
			return
		}
		n -= k
		alive()
	}
}
