package blockstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

const pinPrefix = "p/"

var _ PinStore = (*BadgerStore)(nil)

// pinKey keys one owner's record on a CID: the exact CID bytes, so that a
// pin names what the user asked for and CIDv0 and CIDv1 pins stay distinct
// (GC still treats them as the same DAG because blocks are keyed by
// multihash), then the owner. CID bytes delimit themselves, so the owner
// needs no separator, and the user's key ("" owner) is the key every pin
// had before pins had owners.
func pinKey(c cid.Cid, owner Owner) []byte {
	k := append([]byte(pinPrefix), c.Bytes()...)
	return append(k, owner...)
}

// AddPin stores p as its owner's record, replacing only that owner's record
// on the CID, and syncs before returning: a pin the user was told about
// must survive a crash, or the next GC would delete the data it protects.
func (s *BadgerStore) AddPin(ctx context.Context, p Pin) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger add pin %s: %w", p.Cid, err)
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("badger add pin %s: encode: %w", p.Cid, err)
	}
	if err := s.pinWrite(func(txn *badger.Txn) error { return txn.Set(pinKey(p.Cid, p.Owner), v) }); err != nil {
		return fmt.Errorf("badger add pin %s: %w", p.Cid, err)
	}
	return nil
}

// RemovePin removes owner's record on c; a missing record is a
// NotFoundError. It syncs too, so an unpin that GC acted on is not
// resurrected by a crash pointing at deleted blocks.
func (s *BadgerStore) RemovePin(ctx context.Context, c cid.Cid, owner Owner) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger remove pin %s: %w", c, err)
	}
	err := s.pinWrite(func(txn *badger.Txn) error {
		k := pinKey(c, owner)
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

// GetPin returns owner's record on c.
func (s *BadgerStore) GetPin(ctx context.Context, c cid.Cid, owner Owner) (Pin, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return Pin{}, fmt.Errorf("badger get pin %s: %w", c, err)
	}
	var p Pin
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(pinKey(c, owner))
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

// PinsOf returns every owner's record on c, the user's first.
func (s *BadgerStore) PinsOf(ctx context.Context, c cid.Cid) ([]Pin, error) {
	ps, err := s.scanPins(ctx, pinKey(c, OwnerUser))
	if err != nil {
		return nil, fmt.Errorf("badger pins of %s: %w", c, err)
	}
	// Every key under the prefix is c's (CID bytes delimit themselves);
	// checking costs nothing and guards against a malformed key.
	out := ps[:0]
	for _, p := range ps {
		if p.Cid.Equals(c) {
			out = append(out, p)
		}
	}
	sortOwners(out)
	return out, nil
}

// Pins returns every record, oldest first. Pins are few (one per user add
// or group share), so loading them all and sorting in memory is fine.
func (s *BadgerStore) Pins(ctx context.Context) ([]Pin, error) {
	out, err := s.scanPins(ctx, []byte(pinPrefix))
	if err != nil {
		return nil, fmt.Errorf("badger pins: %w", err)
	}
	sortPins(out)
	return out, nil
}

// scanPins decodes every record whose key starts with prefix.
func (s *BadgerStore) scanPins(ctx context.Context, prefix []byte) ([]Pin, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	var out []Pin
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
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
	return out, err
}

// legacyReplicaPrefix started the name of a group's replica pin before
// pins had owners: "group-replica:<group id>:<share name>", on the one
// record a CID could have.
const legacyReplicaPrefix = "group-replica:"

// migratePins turns the replica pins older kith wrote (an owner-less
// record named "group-replica:<group id>:<share>") into the group's own
// record (owner "group:<group id>:<share>", named after the share), so
// that they are no longer taken for the user's. It runs when the store
// opens, in one transaction, and syncs; a repository with nothing to
// migrate costs one scan of the pins.
func (s *BadgerStore) migratePins() error {
	type move struct {
		old []byte
		p   Pin
	}
	var moves []move
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pinPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var p Pin
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return fmt.Errorf("decode pin key %x: %w", it.Item().Key(), err)
			}
			rest, ok := strings.CutPrefix(p.Name, legacyReplicaPrefix)
			if !ok || !p.Owner.IsUser() || !bytes.Equal(it.Item().Key(), pinKey(p.Cid, OwnerUser)) {
				continue
			}
			id, share, _ := strings.Cut(rest, ":")
			p.Owner, p.Name = GroupOwner(id, share), share
			moves = append(moves, move{old: it.Item().KeyCopy(nil), p: p})
		}
		return nil
	})
	if err != nil || len(moves) == 0 {
		return err
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, m := range moves {
			v, err := json.Marshal(m.p)
			if err != nil {
				return err
			}
			if err := txn.Set(pinKey(m.p.Cid, m.p.Owner), v); err != nil {
				return err
			}
			if err := txn.Delete(m.old); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.syncAll()
}
