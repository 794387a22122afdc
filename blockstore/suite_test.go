package blockstore_test

import (
	"testing"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

// openBadger opens a store in a fresh temp dir, closed when the test ends.
func openBadger(t *testing.T) *blockstore.BadgerStore {
	t.Helper()
	return openBadgerAt(t, t.TempDir())
}

func openBadgerAt(t *testing.T, dir string) *blockstore.BadgerStore {
	t.Helper()
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestMemStoreBlockstore(t *testing.T) {
	storetest.RunBlockstore(t, func(*testing.T) blockstore.Blockstore { return blockstore.NewMemStore() })
}

func TestMemStorePinStore(t *testing.T) {
	storetest.RunPinStore(t, func(*testing.T) blockstore.PinStore { return blockstore.NewMemStore() })
}

func TestBadgerBlockstore(t *testing.T) {
	storetest.RunBlockstore(t, func(t *testing.T) blockstore.Blockstore { return openBadger(t) })
}

func TestBadgerPinStore(t *testing.T) {
	storetest.RunPinStore(t, func(t *testing.T) blockstore.PinStore { return openBadger(t) })
}
