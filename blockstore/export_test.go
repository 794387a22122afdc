package blockstore

// SetGCContendedHook lets the external tests observe that GCLock found the
// lock held and is about to wait (see GCLocker.contended).
func SetGCContendedHook(l *GCLocker, f func()) { l.contended = f }
