package blockstore

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// openPacks opens the store's pack files and, if the store was not closed
// cleanly, drops the records that point past the end of their pack (bytes
// a crash lost; see packs). direct false keeps pack writes in the page
// cache even where they could bypass it (see packs_direct.go).
func (s *BadgerStore) openPacks(maxSize int64, direct bool) error {
	p, clean, err := openPacks(s.dir, maxSize)
	if err != nil {
		return err
	}
	p.direct = p.direct && direct
	s.packs = p
	if !clean {
		if err := s.checkPacks(); err != nil {
			p.close(false)
			return err
		}
	}
	if err := p.markOpen(); err != nil {
		p.close(false)
		return err
	}
	return nil
}

// packRecords calls fn with the key and reference of every packed block.
func (s *BadgerStore) packRecords(ctx context.Context, fn func(key []byte, ref packRef) error) error {
	return s.eachBlockRecord(ctx, func(item *badger.Item) error {
		if item.UserMeta()&metaPacked == 0 {
			return nil
		}
		var ref packRef
		err := item.Value(func(v []byte) error {
			var err error
			ref, _, err = decodePackRecord(item.UserMeta(), v)
			return err
		})
		if err != nil {
			return fmt.Errorf("record %x: %w", item.Key(), err)
		}
		return fn(item.KeyCopy(nil), ref)
	})
}

// checkPacks deletes every record whose bytes are not (all) in its pack.
func (s *BadgerStore) checkPacks() error {
	sizes, err := s.packs.sizes()
	if err != nil {
		return err
	}
	var lost [][]byte
	err = s.packRecords(context.Background(), func(k []byte, ref packRef) error {
		if size, ok := sizes[ref.pack]; !ok || ref.end() > size {
			lost = append(lost, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check pack records: %w", err)
	}
	if len(lost) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range lost {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("drop %d records of lost blocks: %w", len(lost), err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("drop %d records of lost blocks: %w", len(lost), err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("drop %d records of lost blocks: %w", len(lost), err)
	}
	return nil
}

// reclaimPacks frees the pack space no record points to: blocks deleted,
// and bytes written for records never committed. Writers and readers wait
// meanwhile (the walk reads only the small records).
func (s *BadgerStore) reclaimPacks(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.packMu.Lock()
	defer s.packMu.Unlock()
	live := make(map[uint32][]packRef)
	err := s.packRecords(ctx, func(_ []byte, ref packRef) error {
		live[ref.pack] = append(live[ref.pack], ref)
		return nil
	})
	if err != nil {
		return fmt.Errorf("badger reclaim %s: %w", s.dir, err)
	}
	if err := s.packs.free(live); err != nil {
		return fmt.Errorf("badger reclaim %s: %w", s.dir, err)
	}
	return nil
}

// syncAll makes every write made before it durable: packs first, then
// Badger, so that a durable record never points to bytes that are not.
func (s *BadgerStore) syncAll() error {
	if err := s.packs.sync(); err != nil {
		return err
	}
	return s.db.Sync()
}
