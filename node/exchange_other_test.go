//go:build !linux

package node

import "testing"

// exchange swaps the files at a and b, by three renames.
func exchange(t *testing.T, a, b string) {
	t.Helper()
	renames(t, a, a+".tmp", b, a, a+".tmp", b)
}
