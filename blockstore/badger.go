package blockstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// ErrRepoLocked is returned (wrapped) by OpenBadger when another process,
// or another BadgerStore in this process, already has the directory open.
// The daemon turns it into "is kith already running?".
var ErrRepoLocked = errors.New("repository is locked by another process")

// BadgerStore is the on-disk Blockstore and PinStore, backed by Badger.
//
// Layout of the key space:
//
//	"b/" + multihash  ->  block bytes, codec in Badger's user meta (raw,
//	                      dag-pb), or uvarint(codec) || block bytes (others);
//	                      for a block of 64 KiB or more (meta|metaPacked),
//	                      where its bytes are in a pack file: uvarint pack,
//	                      offset, size [, codec] (see packs)
//	"p/" + CID bytes + owner  ->  JSON of Pin (one record per owner; the
//	                      user's owner is "", the key of every pin before
//	                      pins had owners; see migratePins)
//	"!flush"          ->  transient sentinel written and dropped by Reclaim
//
// Blocks are keyed by multihash so that a CIDv0 and a CIDv1 of the same
// bytes find the same block. The codec is kept beside the value because the
// multihash has lost it and AllKeys must yield CIDs whose codec tells GC
// whether to look for links. If the same bytes are put under two codecs, the
// first one wins.
//
// Durability: writes are not synced as they happen (SyncWrites=false keeps
// bulk imports fast); call Sync at durability points. AddPin and RemovePin
// sync before returning. After a crash Badger replays its write-ahead log
// and the store drops records whose pack bytes did not reach the disk, so
// only the writes since the last sync can be lost, never corrupted.
type BadgerStore struct {
	db  *badger.DB
	dir string

	// writeMu lets Reclaim stop writers: DropPrefix makes Badger refuse
	// concurrent writes with ErrBlockedWrites, so every write holds the read
	// side and Reclaim holds the write side around DropPrefix only.
	writeMu sync.RWMutex

	// dbMu guards the db pointer, which Reclaim may replace by reopening
	// Badger. Every method holds the read side while it uses db; the write
	// side is only ever taken with TryLock, never waited for, so nested
	// reads (Verify reads inside AllKeys) cannot deadlock behind it.
	dbMu sync.RWMutex
	opts badger.Options

	wb writeback
	// mappedTouched counts bytes written or read through Badger's mapped
	// files since touchedMapped last looked; mappedBase is the file-backed
	// resident memory after the last release.
	mappedTouched atomic.Int64
	mappedBase    atomic.Int64

	// packs holds the bytes of large blocks (packs.go). packMu keeps
	// Reclaim's freeing of unreferenced pack ranges (write side) apart from
	// reads between a record's lookup and the read of its bytes.
	packs  *packs
	packMu sync.RWMutex

	afterLookup func() // tests: runs between a packed record's lookup and its read

	// reserve is the free space block writes leave (space.go).
	reserve int64

	// stale remembers references to files found not to hold their blocks
	// (fileref.go); refs says a reference was written, refsScanned that
	// the records were looked through once for one (HasFileRefs).
	stale       staleRefs
	refs        atomic.Bool
	refsScanned atomic.Bool
}

// BadgerOption changes how OpenBadger configures Badger.
type BadgerOption func(*badgerConfig)

type badgerConfig struct {
	reserve  int64
	packSize int64
	buffered bool // pack writes through the page cache (tests)
	logger   badger.Logger
	tweak    func(badger.Options) badger.Options
}

// WithBadgerLogger routes Badger's log lines to l. By default they are
// dropped, because Badger logs every compaction at INFO and a daemon's log
// would drown in them.
func WithBadgerLogger(l badger.Logger) BadgerOption {
	return func(c *badgerConfig) { c.logger = l }
}

// WithBadgerOptions lets the caller adjust the final Badger options (after
// kith's tuning). It is an escape hatch for benchmarks and tests; the
// defaults are chosen for a laptop daemon and rarely need changing.
func WithBadgerOptions(f func(badger.Options) badger.Options) BadgerOption {
	return func(c *badgerConfig) { c.tweak = f }
}

// badgerOptions is kith's tuning of Badger for a laptop daemon that stores
// mostly 1 MiB blocks. Badger's defaults are sized for a server.
func badgerOptions(dir string, cfg badgerConfig) badger.Options {
	o := badger.DefaultOptions(dir).
		// Block payloads go to the value log, so LSM compaction only moves
		// small pointers around and never rewrites 1 MiB values. Small
		// values (pins, tiny blocks) stay inline where reads are cheapest.
		WithValueThreshold(1 << 10).
		// Value-log GC never rewrites the active file and frees space one
		// whole file at a time; small files let it give space back in small
		// steps instead of waiting for a 1 GiB file to empty.
		WithValueLogFileSize(64 << 20).
		// Memtables, block cache and index cache are resident memory. The
		// defaults (64 MiB x 5 memtables, 256 MiB cache) make an idle daemon
		// hold hundreds of MiB; these keep it small. Blocks are read once per
		// transfer, so a large cache would buy little. A memtable's arena
		// (its size + 30%) is zeroed when Go allocates it from reused heap,
		// so all of it is resident: 16 MiB memtables kept 21 MB in every
		// daemon; with 4 MiB a fetch of 100,000 tiny files runs ~15% slower
		// (it flushes during the fetch; BENCHMARKS.md, issue 14).
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		// Two is Badger's minimum useful number (one prioritises L0); more
		// only burns laptop CPU for a write rate a daemon never reaches.
		WithNumCompactors(2).
		// Syncing every write would make imports crawl; kith syncs at the
		// points that matter (Sync, AddPin) instead.
		WithSyncWrites(false).
		// Blocks are immutable; old versions are pure waste.
		WithNumVersionsToKeep(1).
		// Blocks are already compressed media or hashed chunks; compressing
		// the LSM (which holds keys and pointers) is not worth the CPU.
		WithCompression(options.None).
		// Content addressing makes write-write conflicts harmless (same key,
		// same bytes) and each owner's pin record is last-writer-wins, so conflict tracking
		// would only cost memory.
		WithDetectConflicts(false).
		// Badger's metrics are process-global expvars; kith measures disk
		// use itself (DiskUsage), so skip the bookkeeping.
		WithMetricsEnabled(false).
		WithLogger(cfg.logger)
	if cfg.tweak != nil {
		o = cfg.tweak(o)
	}
	return o
}

// OpenBadger opens (creating if needed) the Badger repository in dir.
// If the directory is already open elsewhere the error wraps ErrRepoLocked.
func OpenBadger(dir string, opts ...BadgerOption) (*BadgerStore, error) {
	cfg := badgerConfig{logger: nopLogger{}, reserve: DefaultReserve, packSize: packMaxSize}
	for _, opt := range opts {
		opt(&cfg)
	}
	bo := badgerOptions(dir, cfg)
	releaseBallast(dir, cfg.reserve)
	db, err := badger.Open(bo)
	if err != nil {
		// Badger formats the flock error with %+v, not %w, so the message
		// is all there is to go on.
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open badger %s: %w (%v)", dir, ErrRepoLocked, err)
		}
		return nil, fmt.Errorf("open badger %s: %w", dir, err)
	}
	s := &BadgerStore{db: db, dir: dir, opts: bo, wb: writeback{dir: dir}, reserve: cfg.reserve}
	s.mappedBase.Store(fileResident())
	if err := s.openPacks(cfg.packSize, !cfg.buffered); err != nil {
		db.Close()
		return nil, fmt.Errorf("open badger %s: %w", dir, err)
	}
	if err := s.migratePins(); err != nil {
		_ = s.packs.close(false)
		db.Close()
		return nil, fmt.Errorf("open badger %s: migrate pins: %w", dir, err)
	}
	keepBallast(dir, cfg.reserve)
	return s, nil
}

// Close flushes and closes the database, waiting for writes in flight.
func (s *BadgerStore) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	s.wb.close()
	// Badger's own close syncs its logs; the packs are synced first, so
	// that a record on disk never points to bytes that are not.
	perr := s.packs.close(true)
	if err := s.closeDB(); err != nil {
		return fmt.Errorf("close badger %s: %w", s.dir, err)
	}
	if perr != nil {
		return fmt.Errorf("close badger %s: %w", s.dir, perr)
	}
	return nil
}

// closeWait bounds how long Close waits for Badger: it writes its last
// changes (the memtable) before it returns, and retries a write that
// fails for ever (a full disk, its folder removed), so a daemon asked to
// stop would never stop.
const closeWait = 30 * time.Second

// closeDB closes Badger, or gives up after closeWait (its goroutines then
// stay until the process ends): what was synced is on disk, and Badger
// replays its log at the next open.
func (s *BadgerStore) closeDB() error {
	done := make(chan error, 1)
	go func() { done <- s.db.Close() }()
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("the block store did not finish writing within %s (is the disk full, or its folder gone?): what it had synced is kept, and what it had not is read back from its log at the next start if the disk holds it", closeWait)
	}
}

// Dir returns the repository directory.
func (s *BadgerStore) Dir() string { return s.dir }

// DiskUsage returns the bytes the repository really occupies on disk.
// File sizes would lie: Badger's memory-mapped files are sparse and sized
// ahead of their content, so this counts allocated blocks instead.
func (s *BadgerStore) DiskUsage() (int64, error) {
	n, err := diskUsage(s.dir)
	if err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", s.dir, err)
	}
	return n, nil
}

// nopLogger discards Badger's log output.
type nopLogger struct{}

func (nopLogger) Errorf(string, ...any)   {}
func (nopLogger) Warningf(string, ...any) {}
func (nopLogger) Infof(string, ...any)    {}
func (nopLogger) Debugf(string, ...any)   {}
