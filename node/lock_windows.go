//go:build windows

package node

import (
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on f without waiting. Windows locks are
// mandatory for the bytes they cover, so the lock covers one byte far past
// the end of the file: the PID written at its start stays readable by
// another kith that finds the repo in use.
func tryLock(f *os.File) error {
	var ol windows.Overlapped
	ol.OffsetHigh = 1 // byte 1<<32
	return windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}
