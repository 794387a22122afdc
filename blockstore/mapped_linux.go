package blockstore

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// releaseMappedEvery is how much the process's file-backed resident memory
// may grow (pages of Badger's memory-mapped value log and tables, touched
// by writes and reads of small blocks) before the store releases them.
const releaseMappedEvery = 32 << 20

// fileResident returns this process's resident memory backed by files
// (and shared memory), in bytes, from /proc/self/statm; -1 if unknown.
func fileResident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return -1
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

// releaseMapped drops this process's resident pages of the shared file
// mappings under dir: Badger maps its value-log files and tables, and every
// page it touched counts as the daemon's resident memory until the file is
// closed (100,000 small files added: ~400 MB "used" by an idle daemon).
// The bytes stay in the kernel's page cache, dirty ones included (they are
// written back as before, and Badger's syncs still flush them); the next
// access maps a page again without reading the disk. It only lowers what
// the daemon is charged for, like the kernel would under memory pressure.
//
// Only MAP_SHARED mappings are touched: MADV_DONTNEED on a private mapping
// would throw away its private copies.
func releaseMapped(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	prefix := []byte(filepath.Clean(real) + string(filepath.Separator))
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 6 || len(fields[1]) < 4 || fields[1][3] != 's' || !bytes.HasPrefix(fields[5], prefix) {
			continue
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
	}
	return sc.Err()
}
