package blockstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// flushPrefix is a private key prefix Reclaim writes and then drops, purely
// to make Badger flush its memtables (see Reclaim).
const flushPrefix = "!flush"

// vlogDiscardRatio is the share of a value-log file that must be garbage
// before Badger rewrites it. 0.5 is Badger's recommendation: lifetime write
// amplification stays around 2x.
const vlogDiscardRatio = 0.5

// Sync makes every write made before the call durable (write-ahead log and
// value log are fsynced).
func (s *BadgerStore) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger sync %s: %w", s.dir, err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("badger sync %s: %w", s.dir, err)
	}
	return nil
}

// Reclaim gives disk space back after blocks were deleted.
//
// Deleting a key only writes a tombstone; the 1 MiB value stays in the value
// log until value-log GC rewrites its file. That GC picks files from
// "discard stats", which only LSM compaction produces, and right after a GC
// sweep the tombstones are still in the memtable, so RunValueLogGC alone
// frees nothing. Dropping a prefix forces Badger to flush every memtable and
// compact the affected tables, which produces the stats. So Reclaim writes a
// sentinel under a private prefix, drops that prefix, then runs value-log GC
// until it has nothing left to rewrite.
//
// DropPrefix makes concurrent writes fail with ErrBlockedWrites, so Reclaim
// excludes this store's writers for that step only; the value-log GC that
// follows runs alongside writes.
//
// Limit: Badger never rewrites the value-log file it is appending to, so
// garbage in that head file (at most ValueLogFileSize, 64 MiB, plus one
// batch) stays on disk until later writes fill and rotate it; the next
// Reclaim then frees it. Measured (TestBadgerGCShrinksRepo): 200 MiB of
// 1 MiB blocks put then collected went from 200 MiB on disk to 8 MiB, the
// 8 MiB being the head file.
func (s *BadgerStore) Reclaim(ctx context.Context) error {
	if err := s.flushMemtables(); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("badger reclaim %s: %w", s.dir, err)
		}
		err := s.db.RunValueLogGC(vlogDiscardRatio)
		if errors.Is(err, badger.ErrNoRewrite) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("badger reclaim %s: value-log gc: %w", s.dir, err)
		}
	}
}

// flushMemtables pushes every memtable to L0 via the DropPrefix trick.
// DropPrefix is a no-op when no key has the prefix, hence the sentinel.
func (s *BadgerStore) flushMemtables() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(flushPrefix), []byte{1})
	})
	if err != nil {
		return fmt.Errorf("badger reclaim %s: write flush sentinel: %w", s.dir, err)
	}
	if err := s.db.DropPrefix([]byte(flushPrefix)); err != nil {
		return fmt.Errorf("badger reclaim %s: flush memtables: %w", s.dir, err)
	}
	return nil
}
