package node

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A daemon that has just added or fetched gigabytes holds on to the heap
// that work needed: Go returns freed memory to the system only slowly, so
// after moving 4 GiB the daemon's resident memory stayed at ~170 MB
// (measured), of which 28 MB was live. memTrimmer hands it back once the
// daemon has been quiet for a moment after a large transfer.
const (
	// trimAfterBytes is the smallest transfer worth a trim.
	trimAfterBytes = 16 << 20
	// trimQuiet is how long after the last large transfer ended the trim
	// runs (a later one ending pushes it back).
	trimQuiet = 5 * time.Second
)

// memTrimmer runs trim trimQuiet after the last large transfer:
// debug.FreeOSMemory (a GC, then everything free goes back to the system),
// and the store's release of the pages of its memory-mapped files that
// the transfer touched and of its spare write buffers
// (blockstore.BadgerStore.ReleaseMemory), first, so that the collection
// finds the buffers unused.
type memTrimmer struct {
	trim  func()
	quiet time.Duration // trimQuiet, but for tests

	servedBytes atomic.Int64 // served since the last trim was armed

	mu     sync.Mutex
	timer  *time.Timer
	closed bool
}

// served records n bytes sent to a peer: serving reads blocks through the
// store's mapped files, so a large upload is a large transfer too (a
// seeder of 100,000 small files stayed at 528 MB when only its own adds
// and fetches counted).
func (m *memTrimmer) served(n int64) {
	if m.servedBytes.Add(n) >= trimAfterBytes {
		m.servedBytes.Store(0)
		m.moved(trimAfterBytes)
	}
}

func newMemTrimmer(release func() error) *memTrimmer {
	trim := func() {
		if release != nil {
			_ = release() // only lowers RSS: a failure changes nothing else
		}
		// Two collections: buffers in a sync.Pool (the fetch's block
		// buffers) survive the first one in the pool's victim cache.
		runtime.GC()
		debug.FreeOSMemory()
	}
	return &memTrimmer{trim: trim, quiet: trimQuiet}
}

// moved records a transfer of n bytes that just ended.
func (m *memTrimmer) moved(n int64) {
	if n < trimAfterBytes {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
	case m.timer == nil:
		m.timer = time.AfterFunc(m.quiet, m.trim)
	default:
		m.timer.Reset(m.quiet)
	}
}

// close cancels a pending trim.
func (m *memTrimmer) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.timer != nil {
		m.timer.Stop()
	}
}
