//go:build unix

package blockstore

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// diskUsage sums the allocated size (st_blocks x 512) of every file under
// dir. Apparent sizes would overcount: Badger preallocates and mmaps sparse
// files (memtable WALs, value logs) far beyond their content.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += int64(st.Blocks) * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	return total, err
}
