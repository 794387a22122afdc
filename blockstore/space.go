package blockstore

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dustin/go-humanize"
)

// Disk space. Badger writes through memory-mapped files: on a full disk a
// write into the mapping is SIGBUS, which kills the process, not an error
// it could report. So the store refuses writes while the disk has less than
// a reserve left (enough for Badger to finish what it has begun: its next
// value-log file, memtables and their logs), and keeps a ballast file it
// deletes when the disk is full at start, so that Badger can open and the
// user can still run gc, pin rm or repo stat to make room. (Pack files, see
// packs, are written with pwrite: a full disk there is an ENOSPC error.)

const (
	// DefaultReserve is the free space block writes leave on the disk:
	// a 64 MiB value-log file, two 16 MiB memtables and their logs.
	DefaultReserve = 128 << 20
	// ballastSize is the ballast file kept in the repo while space allows.
	ballastSize = 64 << 20
	// ballastName is the ballast's file name beside the Badger directory.
	ballastName = "space-reserve"
)

// DiskFullError is a write refused for lack of space. It matches
// syscall.ENOSPC.
type DiskFullError struct {
	Free, Need int64
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("disk full: %s free, needs %s (kith keeps %s free so its database can always finish what it started)",
		humanize.IBytes(uint64(max(e.Free, 0))), humanize.IBytes(uint64(e.Need)), humanize.IBytes(DefaultReserve))
}

func (e *DiskFullError) Unwrap() error { return syscall.ENOSPC }

// WithReserve sets the free space block writes must leave (default
// DefaultReserve); tests on small filesystems lower it.
func WithReserve(n int64) BadgerOption {
	return func(c *badgerConfig) { c.reserve = n }
}

// CheckSpace reports a DiskFullError if storing n more bytes would leave
// less than the reserve free.
func (s *BadgerStore) CheckSpace(n int64) error {
	free, err := freeBytes(s.dir)
	if err != nil {
		return nil // cannot tell: let the write try
	}
	if free-n < s.reserve {
		return &DiskFullError{Free: free, Need: n + s.reserve}
	}
	return nil
}

// Free returns the bytes available on the store's filesystem, less the
// reserve: what adds and fetches may use.
func (s *BadgerStore) Free() (int64, error) {
	free, err := freeBytes(s.dir)
	if err != nil {
		return 0, err
	}
	return max(free-s.reserve, 0), nil
}

// releaseBallast deletes the ballast beside dir when the disk is too full
// for Badger to open safely; keepBallast recreates it when there is room.
func releaseBallast(dir string, reserve int64) {
	free, err := freeBytes(filepath.Dir(dir))
	if err != nil || free >= reserve {
		return
	}
	_ = os.Remove(filepath.Join(filepath.Dir(dir), ballastName))
}

func keepBallast(dir string, reserve int64) {
	path := filepath.Join(filepath.Dir(dir), ballastName)
	if _, err := os.Stat(path); err == nil {
		return
	}
	free, err := freeBytes(filepath.Dir(dir))
	if err != nil || free < reserve+2*ballastSize {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if err := allocate(f, ballastSize); err != nil {
		f.Close()
		_ = os.Remove(path)
	}
}

// writeZeros allocates by writing, where the system has no fallocate.
func writeZeros(f *os.File, n int64) error {
	buf := make([]byte, 1<<20)
	for written := int64(0); written < n; written += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	return f.Sync()
}
