package blockstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

const blockPrefix = "b/"

// maxBatchBytes caps the block bytes one PutMany transaction carries.
// Badger counts values that live in the value log as pointers only, so its
// own ErrTxnTooBig would let a transaction grow to gigabytes of 1 MiB
// blocks held in memory at once; this keeps each commit bounded.
const maxBatchBytes = 16 << 20

var (
	_ Blockstore = (*BadgerStore)(nil)
	_ Syncer     = (*BadgerStore)(nil)
	_ Reclaimer  = (*BadgerStore)(nil)
)

func blockKey(c cid.Cid) []byte {
	h := c.Hash()
	k := make([]byte, 0, len(blockPrefix)+len(h))
	return append(append(k, blockPrefix...), h...)
}

// Badger's one-byte user metadata names the codec of the two codecs UnixFS
// uses, so their values are the block bytes as they are: no copy on put, and
// AllKeys learns the codec from the LSM tree without reading the value log.
// Other codecs keep meta 0 and a uvarint codec in front of the bytes.
const (
	metaPrefixed byte = 0
	metaRaw      byte = 1
	metaDagPB    byte = 2
	// metaPacked flags a record whose block bytes are in a pack file (see
	// packs); the value is then encodePackRecord's, and the other bits keep
	// the codec meta.
	metaPacked byte = 0x10
)

func codecMeta(codec uint64) byte {
	switch codec {
	case cid.Raw:
		return metaRaw
	case cid.DagProtobuf:
		return metaDagPB
	}
	return metaPrefixed
}

// encodePackRecord is the value of a packed block's record: pack number,
// offset and size, then the codec if the meta does not name it.
func encodePackRecord(ref packRef, codec uint64, meta byte) []byte {
	v := make([]byte, 0, 4*binary.MaxVarintLen64)
	v = binary.AppendUvarint(v, uint64(ref.pack))
	v = binary.AppendUvarint(v, uint64(ref.off))
	v = binary.AppendUvarint(v, uint64(ref.size))
	if meta == metaPrefixed {
		v = binary.AppendUvarint(v, codec)
	}
	return v
}

// decodePackRecord reads a packed block's record (meta with metaPacked).
func decodePackRecord(meta byte, v []byte) (packRef, uint64, error) {
	var f [4]uint64
	n := 3
	if meta&^metaPacked == metaPrefixed {
		n = 4
	}
	for i := range n {
		x, k := binary.Uvarint(v)
		if k <= 0 {
			return packRef{}, 0, errors.New("corrupt block record: bad pack reference")
		}
		f[i], v = x, v[k:]
	}
	if f[0] == 0 || f[0] > 1<<32-1 || f[1] > 1<<62 || f[2] > 1<<31 {
		return packRef{}, 0, errors.New("corrupt block record: pack reference out of range")
	}
	codec, _, err := blockValue(meta&^metaPacked, nil)
	if n == 4 {
		codec, err = f[3], nil
	}
	return packRef{pack: uint32(f[0]), off: int64(f[1]), size: int(f[2])}, codec, err
}

// blockCodec returns the codec of a record from its meta, reading the
// (inline, small) value only when the meta does not say.
func blockCodec(item *badger.Item) (uint64, error) {
	meta := item.UserMeta()
	switch meta &^ metaFile {
	case metaRaw, metaRaw | metaPacked:
		return cid.Raw, nil
	case metaDagPB, metaDagPB | metaPacked:
		return cid.DagProtobuf, nil
	}
	var codec uint64
	err := item.Value(func(v []byte) error {
		var err error
		switch {
		case meta&metaFile != 0:
			_, codec, err = decodeFileRecord(v)
		case meta&metaPacked != 0:
			_, codec, err = decodePackRecord(meta, v)
		default:
			codec, _, err = decodeBlockValue(v)
		}
		return err
	})
	return codec, err
}

// blockValue returns the codec and block bytes of a stored value. The
// returned bytes alias v.
func blockValue(meta byte, v []byte) (uint64, []byte, error) {
	switch meta {
	case metaRaw:
		return cid.Raw, v, nil
	case metaDagPB:
		return cid.DagProtobuf, v, nil
	}
	return decodeBlockValue(v)
}

// encodeBlockValue prepends the codec to the block bytes (see BadgerStore).
func encodeBlockValue(b blocks.Block) []byte {
	data := b.RawData()
	v := make([]byte, binary.MaxVarintLen64+len(data))
	n := binary.PutUvarint(v, b.Cid().Type())
	copy(v[n:], data)
	return v[:n+len(data)]
}

// decodeBlockValue splits a stored value into codec and block bytes. The
// returned bytes alias v.
func decodeBlockValue(v []byte) (uint64, []byte, error) {
	codec, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, nil, errors.New("corrupt block value: bad codec prefix")
	}
	return codec, v[n:], nil
}

// Get returns the block stored under c, labelled with c itself.
func (s *BadgerStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("badger get %s: %w", c, err)
	}
	data, _, err := s.readOrSize(c, newBytes)
	if err != nil {
		return nil, err
	}
	return blocks.NewBlockWithCid(data, c)
}

// ReadBlock returns the bytes stored under c, read into alloc(n) where n is
// their length (see BlockReader).
func (s *BadgerStore) ReadBlock(ctx context.Context, c cid.Cid, alloc func(n int) []byte) ([]byte, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("badger get %s: %w", c, err)
	}
	data, _, err := s.readOrSize(c, alloc)
	return data, err
}

func newBytes(n int) []byte { return make([]byte, n) }

// readOrSize returns c's bytes, read into alloc(n), and their length n; with
// a nil alloc it copies nothing and reads no pack (Bitswap's server asks
// the size of every block it sends).
//
// A read that races Badger's value-log GC moving the value to another file
// (right after Reclaim reopened the store) can come back empty although the
// entry lives in the value log; seen in about one run in sixteen of
// TestReclaimReopenKeepsReaders. Such a value is never legitimately empty
// (values that small live in the LSM tree), so it reads again: the next
// read finds the moved value.
func (s *BadgerStore) readOrSize(c cid.Cid, alloc func(n int) []byte) ([]byte, int, error) {
	// Reclaim frees pack ranges no record points to: hold it off from the
	// record's lookup until its bytes are read.
	s.packMu.RLock()
	defer s.packMu.RUnlock()
	for attempt := 0; ; attempt++ {
		data, n, ref, fref, torn, err := s.read(c, alloc)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, 0, NotFound(c)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("badger get %s: %w", c, err)
		}
		if fref.Path != "" {
			data, err := s.readRef(c, fref, alloc)
			return data, n, err
		}
		if ref.pack != 0 && alloc != nil {
			if s.afterLookup != nil {
				s.afterLookup()
			}
			if data, err = s.packs.read(ref, alloc); err != nil {
				return nil, 0, fmt.Errorf("read block %s: %w", c, err)
			}
		}
		if !torn {
			if ref.pack == 0 {
				// Read through Badger's mapping, for a size too (a walk
				// for sizes pages in every small block it passes). The
				// kernel maps up to 64 KiB around a read fault, so a
				// small read counts as that much.
				s.touchedMapped(max(n, faultAround))
			}
			return data, n, nil
		}
		if attempt == maxTornReads {
			return nil, 0, fmt.Errorf("badger get %s: value read empty %d times", c, attempt+1)
		}
	}
}

// maxTornReads bounds the re-reads of a value that came back empty.
const maxTornReads = 5

// read returns the block bytes of c (copied into alloc(n), if alloc is not
// nil) and their length n, or where they are if they are in a pack or a
// file, and whether the read came back empty although Badger holds the
// value in the value log (see readOrSize).
func (s *BadgerStore) read(c cid.Cid, alloc func(n int) []byte) (data []byte, n int, ref packRef, fref FileRef, torn bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(c))
		if err != nil {
			return err
		}
		// Value hands us Badger's buffer (often the mmapped value log)
		// without copying; copy only the block bytes, once.
		return item.Value(func(v []byte) error {
			if len(v) == 0 && item.ValueSize() > 0 {
				torn = true
				return nil
			}
			if meta := item.UserMeta(); meta&metaPacked != 0 {
				var err error
				ref, _, err = decodePackRecord(meta, v)
				n = ref.size
				return err
			} else if meta&metaFile != 0 {
				var err error
				fref, _, err = decodeFileRecord(v)
				n = fref.Size
				return err
			}
			_, d, err := blockValue(item.UserMeta(), v)
			n = len(d)
			if alloc != nil && err == nil {
				data = alloc(n)
				copy(data, d)
			}
			return err
		})
	})
	return data, n, ref, fref, torn, err
}

// Put stores one block; see PutMany.
func (s *BadgerStore) Put(ctx context.Context, b blocks.Block) error {
	return s.PutMany(ctx, []blocks.Block{b})
}

// PutMany stores bs in as few transactions as possible, so that many small
// blocks cost one commit. Blocks already present are skipped: the check is a
// key lookup (bloom filters, no value read), far cheaper than writing a
// 1 MiB value to the log a second time; except that bytes replace a
// reference to a file, and a reference an older one (see FileBlock). With
// a context from BypassCache the bytes of large blocks skip the page cache.
func (s *BadgerStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if len(bs) == 0 {
		return nil
	}
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	var size int64
	for _, b := range bs {
		if _, ok := asFileRef(b); !ok {
			size += int64(len(b.RawData()))
		}
	}
	if err := s.CheckSpace(size); err != nil {
		return fmt.Errorf("badger put %d blocks: %w", len(bs), err)
	}

	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	pending, written := 0, 0
	commit := func() error {
		if err := txn.Commit(); err != nil {
			return err
		}
		txn = s.db.NewTransaction(true)
		pending = 0
		return nil
	}
	// First which blocks are new; the pack bytes of the large ones are then
	// written in one go (packs.writeMany), before their records.
	var fresh []blocks.Block
	var large [][]byte
	seen := make(map[string]struct{}, len(bs))
	for _, b := range bs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("badger put %s: %w", b.Cid(), err)
		}
		k := blockKey(b.Cid())
		if _, dup := seen[string(k)]; dup {
			continue // earlier in this batch
		}
		item, err := txn.Get(k)
		if err == nil && item.UserMeta()&metaFile == 0 {
			continue // already stored, bytes and all
		}
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("badger put %s: lookup: %w", b.Cid(), err)
		}
		// New, or kept as a reference to a file: bytes or a newer
		// reference replace it.
		seen[string(k)] = struct{}{}
		fresh = append(fresh, b)
		if _, ref := asFileRef(b); !ref && len(b.RawData()) >= packThreshold {
			large = append(large, b.RawData())
		}
	}
	refs, err := s.packs.writeMany(large, bypassCache(ctx))
	if err != nil {
		return fmt.Errorf("store %d blocks: %w", len(large), err)
	}
	for _, b := range fresh {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("badger put %s: %w", b.Cid(), err)
		}
		k := blockKey(b.Cid())
		if pending > 0 && pending+len(b.RawData()) > maxBatchBytes {
			if err := commit(); err != nil {
				return fmt.Errorf("badger put %s: commit: %w", b.Cid(), err)
			}
		}
		meta := codecMeta(b.Cid().Type())
		v := b.RawData()
		fref, isRef := asFileRef(b)
		packed := !isRef && len(v) >= packThreshold
		switch {
		case isRef:
			v = encodeFileRecord(fref, b.Cid().Type())
			meta |= metaFile
			s.refs.Store(true)
		case packed:
			v = encodePackRecord(refs[0], b.Cid().Type(), meta)
			refs = refs[1:]
			meta |= metaPacked
		case meta == metaPrefixed:
			v = encodeBlockValue(b)
		}
		e := badger.NewEntry(k, v).WithMeta(meta)
		err = txn.SetEntry(e)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = commit(); err == nil {
				err = txn.SetEntry(badger.NewEntry(k, v).WithMeta(meta))
			}
		}
		if err != nil {
			return fmt.Errorf("badger put %s: %w", b.Cid(), err)
		}
		pending += len(v)
		if !packed && !isRef {
			written += len(v)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("badger put %d blocks: commit: %w", len(bs), err)
	}
	s.wb.wrote(written)
	s.touchedMapped(written)
	return nil
}

// faultAround is the least a read fault of a file mapping may make
// resident: Linux maps up to 16 pages around the faulting one, and with
// large folios (ext4 on recent kernels) the whole folio, 128 KiB and more.
const faultAround = 64 << 10

// releaseCheckEvery is how many bytes of values written or read through
// Badger's mapped files pass between two looks at how much of them is
// resident (a small read counts as faultAround).
const releaseCheckEvery = 4 << 20

// touchedMapped records n bytes of values written or read through Badger's
// mapped files and, every releaseCheckEvery bytes, looks at the process's
// file-backed resident memory: once it has grown by releaseMappedEvery
// since the last release, it releases the store's mapped pages, so that the
// daemon's RSS does not grow with the number of small blocks it moves
// (100,000 files fetched: 545 MB peak before, most of it pages of the value
// log that the fetch and the walk after it had touched). Looking, not
// estimating from the bytes touched: a read of a 4 KiB block made 64 KiB to
// 128 KiB resident depending on where it fell, and a seeder serving 100,000
// files held 125 MiB of value log between releases counted per read.
func (s *BadgerStore) touchedMapped(n int) {
	if s.mappedTouched.Add(int64(n)) < releaseCheckEvery {
		return
	}
	s.mappedTouched.Store(0)
	if rss := fileResident(); rss >= 0 && rss-s.mappedBase.Load() >= releaseMappedEvery {
		_ = s.releaseMapped()
	}
}

// releaseMapped releases the store's mapped pages (see releaseMapped) and
// notes the file-backed resident memory left, for touchedMapped. A failure
// only leaves the RSS where it was.
func (s *BadgerStore) releaseMapped() error {
	err := releaseMapped(s.dir)
	s.mappedBase.Store(fileResident())
	return err
}

// ReleaseMemory drops the daemon's resident pages of Badger's mapped files
// (the data stays in the page cache; see releaseMapped) and the buffers
// kept for direct pack writes. The daemon calls it once a large transfer is
// over.
func (s *BadgerStore) ReleaseMemory() error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.packs.dropSpares()
	return s.releaseMapped()
}

// Has reports whether c is stored, without reading the value.
func (s *BadgerStore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("badger has %s: %w", c, err)
	}
	var fref FileRef
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(c))
		if err != nil || item.UserMeta()&metaFile == 0 {
			return err
		}
		return item.Value(func(v []byte) error {
			fref, _, err = decodeFileRecord(v)
			return err
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("badger has %s: %w", c, err)
	}
	if fref.Path == "" {
		return true, nil
	}
	// Kept as a reference: there while its file holds it.
	_, err = s.readRef(c, fref, nil)
	if errors.Is(err, ErrFileChanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("badger has %s: %w", c, err)
	}
	return true, nil
}

// Delete removes c. The check for presence first avoids writing a tombstone
// for a block that was never there.
func (s *BadgerStore) Delete(ctx context.Context, c cid.Cid) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger delete %s: %w", c, err)
	}
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		k := blockKey(c)
		if _, err := txn.Get(k); err != nil {
			return err
		}
		return txn.Delete(k)
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("badger delete %s: %w", c, err)
	}
	return nil
}

// GetSize returns the exact size of the block under c: a packed block's
// record holds it; for one in Badger it reads the value, because
// Item.ValueSize is only an estimate for values in the value log.
func (s *BadgerStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("badger size %s: %w", c, err)
	}
	_, n, err := s.readOrSize(c, nil)
	return n, err
}

// AllKeys calls fn with a CIDv1 (stored codec + multihash) for every block.
// fn runs inside one read transaction: it may read the store, not write.
func (s *BadgerStore) AllKeys(ctx context.Context, fn func(cid.Cid) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{
			// Only the codec prefix of each value is needed; prefetching
			// would read whole 1 MiB blocks.
			PrefetchValues: false,
			Prefix:         []byte(blockPrefix),
		})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("badger all keys: %w", err)
			}
			item := it.Item()
			mh := item.KeyCopy(nil)[len(blockPrefix):]
			codec, err := blockCodec(item)
			if err != nil {
				return fmt.Errorf("badger all keys: key %x: %w", mh, err)
			}
			if err := fn(cid.NewCidV1(codec, mh)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Stats returns the number of stored blocks and their total size. It walks
// the records only (a packed block's holds its size; for the others it
// uses Badger's size estimate), so it stays fast on a large repo; the byte
// total can be off by a few bytes per block kept in Badger (codec prefix,
// value-log header estimate).
func (s *BadgerStore) Stats(ctx context.Context) (blocks int, bytes int64, err error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	err = s.eachBlockRecord(ctx, func(item *badger.Item) error {
		blocks++
		switch {
		case item.UserMeta()&metaFile != 0:
			return nil // its bytes are in a file of the user's
		case item.UserMeta()&metaPacked == 0:
			bytes += item.ValueSize()
			return nil
		}
		return item.Value(func(v []byte) error {
			ref, _, err := decodePackRecord(item.UserMeta(), v)
			bytes += int64(ref.size)
			return err
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("badger stats: %w", err)
	}
	return blocks, bytes, nil
}

// eachBlockRecord calls fn with every block record, in one read
// transaction, until fn fails or ctx ends. The caller holds dbMu's read
// side.
func (s *BadgerStore) eachBlockRecord(ctx context.Context, fn func(item *badger.Item) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(blockPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(it.Item()); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutCopies reports that PutMany copies what it keeps (pack writes copy or
// write from the caller's bytes before returning; Badger copies values
// into its memtable and log at commit), so callers may reuse the buffers
// of blocks they have put (blockstore.PutCopier).
func (s *BadgerStore) PutCopies() bool { return true }
