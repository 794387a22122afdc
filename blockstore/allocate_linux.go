package blockstore

import (
	"os"
	"syscall"
)

// allocate gives f n bytes of real disk blocks (not a sparse hole).
func allocate(f *os.File, n int64) error {
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err == nil {
		return nil
	}
	return writeZeros(f, n)
}
