package blockstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// flushPrefix is a private key prefix Reclaim writes and then drops, purely
// to make Badger flush its memtables (see Reclaim).
const flushPrefix = "!flush"

// vlogDiscardRatio is the share of a value-log file that must be garbage
// before Badger rewrites it. 0.5 is Badger's recommendation: lifetime write
// amplification stays around 2x.
const vlogDiscardRatio = 0.5

// headSlack is how much more than the live blocks the repo may occupy on
// disk after value-log GC before Reclaim reopens Badger to free the head
// value-log file (see Reclaim).
const headSlack = 2 << 20

// reopenTries bounds how long Reclaim waits for a moment with no operation
// in flight before it gives up reopening (the space then comes back at a
// later gc or the next start).
const reopenTries = 50

// Sync makes every write made before the call durable (pack files,
// write-ahead log and value log are fsynced). It also releases the mapped
// pages touched since the last release (see touchedMapped), if they are a
// MiB or more: a Sync ends an add or a fetch, and without it what the
// writes since the last release made resident stayed until the daemon's
// trim, a few seconds later (with 100,000 small files added, 30-50 MiB of
// value log when a peer started fetching them at once).
func (s *BadgerStore) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger sync %s: %w", s.dir, err)
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := s.syncAll(); err != nil {
		return fmt.Errorf("badger sync %s: %w", s.dir, err)
	}
	if rss := fileResident(); rss >= 0 && rss-s.mappedBase.Load() >= 1<<20 {
		_ = s.releaseMapped()
	}
	return nil
}

// Reclaim gives disk space back after blocks were deleted.
//
// Packed blocks (see packs) give their space back first and at once:
// reclaimPacks frees every pack range no record points to. The rest of
// this comment is about the blocks kept in Badger.
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
// Badger never rewrites the value-log file it is appending to (the head,
// up to ValueLogFileSize), so garbage there would stay until later writes
// rotate it: a small repo would not shrink at all. Badger starts a new head
// on every open, so when the repo still holds clearly more than its live
// blocks, Reclaim closes and reopens Badger at a moment when no operation is
// in flight and runs value-log GC once more.
//
// DropPrefix makes concurrent writes fail with ErrBlockedWrites, so Reclaim
// excludes this store's writers for that step only; the value-log GC runs
// alongside reads and writes.
func (s *BadgerStore) Reclaim(ctx context.Context) error {
	// Space given back may let the ballast (space.go) return.
	defer keepBallast(s.dir, s.reserve)
	if err := s.reclaimPacks(ctx); err != nil {
		return err
	}
	if err := s.flushMemtables(); err != nil {
		return err
	}
	if err := s.valueLogGC(ctx); err != nil {
		return err
	}
	_, live, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	usage, err := s.DiskUsage()
	if err != nil || usage-live <= headSlack {
		return err
	}
	reopened, err := s.reopen(ctx)
	if err != nil || !reopened {
		return err
	}
	return s.valueLogGC(ctx)
}

// valueLogGC rewrites value-log files until Badger finds none worth it.
func (s *BadgerStore) valueLogGC(ctx context.Context) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
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

// reopen closes and reopens Badger once no operation is in flight, trying
// for a bounded time. It reports whether it reopened.
func (s *BadgerStore) reopen(ctx context.Context) (bool, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for i := 0; !s.dbMu.TryLock(); i++ {
		if i == reopenTries {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("badger reclaim %s: %w", s.dir, ctx.Err())
		case <-t.C:
		}
	}
	defer s.dbMu.Unlock()
	s.wb.close()
	if err := s.db.Close(); err != nil {
		return false, fmt.Errorf("badger reclaim %s: close for reopen: %w", s.dir, err)
	}
	db, err := badger.Open(s.opts)
	if err != nil {
		// The store is unusable now; say so plainly rather than limp on.
		return false, fmt.Errorf("badger reclaim %s: reopen: %w", s.dir, err)
	}
	s.db = db
	return true, nil
}

// flushMemtables pushes every memtable to L0 via the DropPrefix trick.
// DropPrefix is a no-op when no key has the prefix, hence the sentinel.
func (s *BadgerStore) flushMemtables() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
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
