//go:build !unix

package blockstore

import (
	"io/fs"
	"path/filepath"
)

// diskUsage sums apparent file sizes: without st_blocks this overcounts
// Badger's sparse files, but it is the best the platform offers portably.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}
