//go:build !linux

package blockstore

import "os"

// allocate gives f n bytes of real disk blocks (not a sparse hole).
func allocate(f *os.File, n int64) error { return writeZeros(f, n) }
