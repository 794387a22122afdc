//go:build !linux

package blockstore

import "os"

// punchHole frees nothing here: without Linux's fallocate PUNCH_HOLE a
// pack's space comes back when no block is left in it (see packs).
func punchHole(*os.File, int64, int64) error { return nil }

// startWriteback is a no-op where sync_file_range does not exist.
func startWriteback(*os.File) {}
