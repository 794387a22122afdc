package blockstore

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// punchHole frees the disk space of n bytes at off in f; reads of the
// range return zeros and the file keeps its size.
func punchHole(f *os.File, off, n int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// startWriteback asks the kernel to start writing f's dirty pages out,
// without waiting (see writebackEvery and packWritebackEvery).
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// directSupported: Linux has O_DIRECT (see packs_direct.go).
const directSupported = true

// openDirect opens an existing pack for writes that bypass the page cache.
func openDirect(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT, 0)
}

// writevAt writes segs, one after another, at off in f, in as few system
// calls as the kernel allows (pwritev).
func writevAt(f *os.File, segs [][]byte, off int64) error {
	fd := int(f.Fd())
	for len(segs) > 0 {
		n, err := unix.Pwritev(fd, segs, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		for n > 0 {
			if n < len(segs[0]) {
				segs[0] = segs[0][n:]
				break
			}
			n -= len(segs[0])
			segs = segs[1:]
		}
	}
	return nil
}
