package blockstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

const pinPrefix = "p/"

var _ PinStore = (*BadgerStore)(nil)

// pinKey keys a pin by the exact CID bytes: a pin names what the user
// asked for, so CIDv0 and CIDv1 pins stay distinct (GC still treats them
// as the same DAG because blocks are keyed by multihash).
func pinKey(c cid.Cid) []byte {
	return append([]byte(pinPrefix), c.Bytes()...)
}

// AddPin stores p, replacing any pin on the same CID, and syncs before
// returning: a pin the user was told about must survive a crash, or the
// next GC would delete the data it protects.
func (s *BadgerStore) AddPin(ctx context.Context, p Pin) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger add pin %s: %w", p.Cid, err)
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("badger add pin %s: encode: %w", p.Cid, err)
	}
	if err := s.pinWrite(func(txn *badger.Txn) error { return txn.Set(pinKey(p.Cid), v) }); err != nil {
		return fmt.Errorf("badger add pin %s: %w", p.Cid, err)
	}
	return nil
}

// RemovePin removes the pin on c; a missing pin is a NotFoundError. It
// syncs too, so an unpin that GC acted on is not resurrected by a crash
// pointing at deleted blocks.
func (s *BadgerStore) RemovePin(ctx context.Context, c cid.Cid) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger remove pin %s: %w", c, err)
	}
	err := s.pinWrite(func(txn *badger.Txn) error {
		k := pinKey(c)
		if _, err := txn.Get(k); err != nil {
			return err
		}
		return txn.Delete(k)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return NotFound(c)
	}
	if err != nil {
		return fmt.Errorf("badger remove pin %s: %w", c, err)
	}
	return nil
}

// pinWrite runs one update under the writers' lock and syncs.
func (s *BadgerStore) pinWrite(fn func(*badger.Txn) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	if err := s.db.Update(fn); err != nil {
		return err
	}
	if err := s.syncAll(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// GetPin returns the pin on c.
func (s *BadgerStore) GetPin(ctx context.Context, c cid.Cid) (Pin, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return Pin{}, fmt.Errorf("badger get pin %s: %w", c, err)
	}
	var p Pin
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(pinKey(c))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &p) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Pin{}, NotFound(c)
	}
	if err != nil {
		return Pin{}, fmt.Errorf("badger get pin %s: %w", c, err)
	}
	return p, nil
}

// Pins returns every pin, oldest first. Pins are few (one per user add), so
// loading them all and sorting in memory is fine.
func (s *BadgerStore) Pins(ctx context.Context) ([]Pin, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	var out []Pin
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pinPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var p Pin
			err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) })
			if err != nil {
				return fmt.Errorf("decode pin key %x: %w", it.Item().Key(), err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badger pins: %w", err)
	}
	sortPins(out)
	return out, nil
}
