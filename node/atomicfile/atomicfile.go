// Package atomicfile replaces small files (configs, journals, lists) so
// that a crash or a power cut leaves the old content or the new, never a
// torn file.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data: written to a temporary file beside it
// (path.tmp followed by a random suffix, so that two writers at once each
// write whole files and the last rename wins), synced, then renamed over
// path.
func Write(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(format string, err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf(format, path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail("write %s: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fail("write %s: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync %s: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
