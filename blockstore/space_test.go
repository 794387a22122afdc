package blockstore

import (
	"context"
	"errors"
	"syscall"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

// TestWritesKeepTheReserve: a write that would leave less than the
// reserve free is refused with a DiskFullError (matching ENOSPC), before
// Badger touches its memory-mapped files; nothing is stored.
func TestWritesKeepTheReserve(t *testing.T) {
	dir := t.TempDir()
	free, err := freeBytes(dir)
	if err != nil {
		t.Skip("free space unknown here")
	}
	s, err := OpenBadger(dir, WithReserve(free+1<<30)) // more than the disk has
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := blocks.NewBlock([]byte("does not fit"))
	err = s.Put(context.Background(), b)
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk: %v, want a DiskFullError", err)
	}
	if ok, _ := s.Has(context.Background(), b.Cid()); ok {
		t.Fatal("the refused block was stored")
	}
}
