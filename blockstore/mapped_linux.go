package blockstore

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// releaseMappedEvery is how many bytes of small blocks (those Badger keeps
// in its memory-mapped value log) may be written between two releases of
// the store's mapped pages.
const releaseMappedEvery = 32 << 20

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
