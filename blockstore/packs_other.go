//go:build !linux

package blockstore

import (
	"errors"
	"os"
)

// punchHole frees nothing here: without Linux's fallocate PUNCH_HOLE a
// pack's space comes back when no block is left in it (see packs).
func punchHole(*os.File, int64, int64) error { return nil }

// startWriteback is a no-op where sync_file_range does not exist.
func startWriteback(*os.File) {}

// directSupported: O_DIRECT is Linux's (macOS has F_NOCACHE and Windows
// FILE_FLAG_NO_BUFFERING, with other rules; not used).
const directSupported = false

func openDirect(string) (*os.File, error) { return nil, errors.ErrUnsupported }

// writevAt writes segs, one after another, at off in f.
func writevAt(f *os.File, segs [][]byte, off int64) error {
	for _, s := range segs {
		if _, err := f.WriteAt(s, off); err != nil {
			return err
		}
		off += int64(len(s))
	}
	return nil
}
