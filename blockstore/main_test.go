package blockstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a Badger
// store that is not closed, or a GC stuck on its lock, would show up here.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
