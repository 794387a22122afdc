package node

import (
	"testing"

	"golang.org/x/sys/unix"
)

// exchange swaps the files at a and b in one step (renameat2's
// RENAME_EXCHANGE): a watcher never sees the folder half-way.
func exchange(t *testing.T, a, b string) {
	t.Helper()
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
}
