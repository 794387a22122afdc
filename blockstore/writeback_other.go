//go:build !linux

package blockstore

// writeback is a no-op where sync_file_range does not exist; see the Linux
// version for why it exists.
type writeback struct{ dir string }

func (w *writeback) wrote(int) {}
func (w *writeback) close()    {}
