package blockstore

import "sync"

// GCLocker keeps garbage collection from deleting blocks that an add has
// written but not pinned yet.
//
// Contract:
//   - An add takes PinLock before putting its first block and releases it
//     only after the pin on its root is written. Between those points its
//     blocks are reachable from no pin, and only this lock protects them.
//   - GC takes GCLock for its whole run (mark and sweep). It waits for every
//     add in progress to pin, and adds that start meanwhile wait for GC.
//   - Many adds can hold PinLock at once; GCLock excludes them all.
//   - Neither lock is reentrant: a goroutine holding PinLock must not take it
//     again, because a GC waiting in between would deadlock both.
//   - Hold (gchold.go) is separate: it keeps unpinned blocks that are being
//     read, such as the gateway's cache, without taking either lock.
//
// A waiting GC blocks new adds (Go's RWMutex favours the writer), so a
// steady stream of adds cannot starve GC forever.
type GCLocker struct {
	mu sync.RWMutex
	// holds keep what is being served without a pin (see Hold).
	holds holds

	// contended, when set (tests only), is called when GCLock finds the
	// lock held and is about to wait, so a test can observe that GC really
	// waits without sleeping.
	contended func()
}

// NewGCLocker returns an unlocked GCLocker.
func NewGCLocker() *GCLocker { return &GCLocker{} }

// PinLock takes the shared lock an add holds from its first block until
// its pin is written. Call the returned function to release it.
func (l *GCLocker) PinLock() (unlock func()) {
	l.mu.RLock()
	return sync.OnceFunc(l.mu.RUnlock)
}

// GCLock takes the exclusive lock GC holds while it runs, waiting for every
// add in progress to finish. Call the returned function to release it.
func (l *GCLocker) GCLock() (unlock func()) {
	if !l.mu.TryLock() {
		if l.contended != nil {
			l.contended()
		}
		l.mu.Lock()
	}
	return sync.OnceFunc(l.mu.Unlock)
}
