package blockstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/dgraph-io/badger/v4"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// A folder shared as it changes (kith share --watch, --sync) is itself a
// copy of its bytes: keeping them in the repo too would take the folder's
// size twice on the disk. So such an add puts FileBlocks, and the Badger
// store keeps, for a block of FileRefMin bytes or more, where its bytes
// are in the user's file instead of the bytes (Kubo's filestore, `ipfs add
// --nocopy`, does the same). Such a block is read from the file and its
// hash checked at every read; and the file's size and modification time,
// noted when it was read for the add, must be the same (so Has, which
// reads nothing, does not claim a block whose file changed): a file changed
// since it was added gives ErrFileChanged (an ErrNotFound: the block is
// gone, as the folder's next version replaces it) rather than wrong bytes.
//
// Bytes win over references: a block put with its bytes replaces a
// reference to it (a download or an add that copies is never left relying
// on a file that may change), a reference never replaces bytes, and a
// newer reference replaces an older one (a file moved in the folder).

// FileRefMin is the smallest block a store keeps as a reference to a file:
// smaller blocks cost little twice and would cost a file open per read.
const FileRefMin = packThreshold

// FileRef is where a block's bytes are in a file: its absolute path, the
// offset and the size; and the file's size and modification time when it
// was read (zero: not known, not checked).
type FileRef struct {
	Path     string
	Off      int64
	Size     int
	FileSize int64
	ModTime  int64 // Unix nanoseconds
}

// changed says how the file at r.Path is no longer as r noted it ("" if it
// is: there, of the size and time noted), and its stat when it is there.
func (r FileRef) changed() (string, os.FileInfo) {
	st, err := os.Stat(r.Path)
	if err != nil {
		return "is gone", nil
	}
	return r.changedFrom(st), st
}

// changedFrom is changed for the file's stat st (nil: gone).
func (r FileRef) changedFrom(st os.FileInfo) string {
	switch {
	case st == nil:
		return "is gone"
	case r.FileSize != 0 && st.Size() != r.FileSize:
		return "changed since it was added"
	case r.ModTime != 0 && st.ModTime().UnixNano() != r.ModTime:
		return "changed since it was added"
	}
	return ""
}

// FileBlock is a block whose bytes are also in a file at Ref: a store that
// keeps references (the Badger store) keeps Ref instead of the bytes, one
// that does not keeps the bytes.
type FileBlock struct {
	blocks.Block
	Ref FileRef
}

// ErrFileChanged matches the error of a block kept as a reference to a
// file that changed or went since (errors.Is); it matches ErrNotFound too.
var ErrFileChanged = errors.New("its file changed since it was added")

// fileChangedError is a block missing because its file changed.
type fileChangedError struct {
	cid    cid.Cid
	path   string
	reason string
	// steady: the file's size and time (size, mtime) were the same before
	// and after the bytes were read, so it does not hold the block while
	// it stays so (staleRefs).
	steady      bool
	size, mtime int64
}

func (e *fileChangedError) Error() string {
	return fmt.Sprintf("%s not found: its bytes were in %s, which %s", e.cid, e.path, e.reason)
}

func (e *fileChangedError) Is(target error) bool {
	return target == ErrNotFound || target == ErrFileChanged
}

// metaFile flags a record whose block bytes are in a file of the user's;
// the value is then encodeFileRecord's, and the other bits keep the codec
// meta.
const metaFile byte = 0x20

// encodeFileRecord is the value of a record kept as a reference: offset,
// size, codec, the file's size and time, then the path.
func encodeFileRecord(ref FileRef, codec uint64) []byte {
	v := make([]byte, 0, 5*binary.MaxVarintLen64+len(ref.Path))
	v = binary.AppendUvarint(v, uint64(ref.Off))
	v = binary.AppendUvarint(v, uint64(ref.Size))
	v = binary.AppendUvarint(v, codec)
	v = binary.AppendUvarint(v, uint64(ref.FileSize))
	v = binary.AppendVarint(v, ref.ModTime)
	return append(v, ref.Path...)
}

// decodeFileRecord reads a record kept as a reference (meta with metaFile).
func decodeFileRecord(v []byte) (FileRef, uint64, error) {
	var f [4]uint64
	for i := range f {
		x, k := binary.Uvarint(v)
		if k <= 0 {
			return FileRef{}, 0, errors.New("corrupt block record: bad file reference")
		}
		f[i], v = x, v[k:]
	}
	mtime, k := binary.Varint(v)
	if k <= 0 {
		return FileRef{}, 0, errors.New("corrupt block record: bad file reference")
	}
	v = v[k:]
	if f[0] > 1<<62 || f[1] > 1<<31 || f[3] > 1<<62 || len(v) == 0 {
		return FileRef{}, 0, errors.New("corrupt block record: file reference out of range")
	}
	return FileRef{Path: string(v), Off: int64(f[0]), Size: int(f[1]), FileSize: int64(f[3]), ModTime: mtime}, f[2], nil
}

// readFileRef reads c's bytes at ref into alloc(ref.Size) and checks them
// against c: a file gone, shorter or changed is a fileChangedError. With
// a nil alloc it only checks the file's size and time.
//
// A file whose size or time is not as noted may still hold the block (its
// times set again, the same bytes written over it: a folder written by a
// mirror): then the bytes are read and checked, and if they are the
// block's, fresh is the reference with the file's size and time now, for
// the caller to keep in place of the old one.
func readFileRef(c cid.Cid, ref FileRef, alloc func(n int) []byte) (data []byte, fresh *FileRef, err error) {
	for attempt := 0; ; attempt++ {
		why, st := ref.changed()
		switch {
		case st == nil:
			return nil, nil, &fileChangedError{cid: c, path: ref.Path, reason: why}
		case why == "" && alloc == nil:
			return nil, nil, nil
		}
		into := alloc
		if into == nil {
			into = newBytes
		}
		data, err = readChecked(c, ref, into)
		if after, serr := os.Stat(ref.Path); serr != nil || after.Size() != st.Size() || !after.ModTime().Equal(st.ModTime()) {
			// Changed while it was read: look again.
			if attempt < 2 {
				continue
			}
			return nil, nil, &fileChangedError{cid: c, path: ref.Path, reason: "changed since it was added"}
		}
		var fc *fileChangedError
		if errors.As(err, &fc) {
			fc.steady, fc.size, fc.mtime = true, st.Size(), st.ModTime().UnixNano()
			return nil, nil, fc
		}
		if err != nil || why == "" {
			return data, nil, err
		}
		// The same bytes: the reference is good again, as the file is now.
		f := ref
		f.FileSize, f.ModTime = st.Size(), st.ModTime().UnixNano()
		return data, &f, nil
	}
}

// readChecked reads c's bytes at ref into alloc(ref.Size) and checks them
// against c.
func readChecked(c cid.Cid, ref FileRef, alloc func(n int) []byte) ([]byte, error) {
	f, err := os.Open(ref.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &fileChangedError{cid: c, path: ref.Path, reason: "is gone"}
	}
	if err != nil {
		return nil, fmt.Errorf("read block %s from %s: %w", c, ref.Path, err)
	}
	defer f.Close()
	buf := alloc(ref.Size)
	n, err := f.ReadAt(buf, ref.Off)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, &fileChangedError{cid: c, path: ref.Path, reason: "is shorter now"}
		}
		return nil, fmt.Errorf("read block %s from %s: %w", c, ref.Path, err)
	}
	sum, err := c.Prefix().Sum(buf)
	if err != nil {
		return nil, fmt.Errorf("hash block %s: %w", c, err)
	}
	if !bytes.Equal(sum.Hash(), c.Hash()) {
		return nil, &fileChangedError{cid: c, path: ref.Path, reason: "changed since it was added"}
	}
	return buf, nil
}

// readRef is readFileRef for the store: a reference found whole again is
// kept fresh, and a file found not to hold the block is not read again
// until it changes (stale).
func (s *BadgerStore) readRef(c cid.Cid, ref FileRef, alloc func(n int) []byte) ([]byte, error) {
	if why, ok := s.stale.seen(c, ref); ok {
		return nil, &fileChangedError{cid: c, path: ref.Path, reason: why}
	}
	data, fresh, err := readFileRef(c, ref, alloc)
	var fc *fileChangedError
	if errors.As(err, &fc) && fc.steady {
		s.stale.note(c, ref, fc.size, fc.mtime)
	}
	if err != nil {
		return nil, err
	}
	s.refresh(c, fresh)
	return data, nil
}

// staleRefs remembers the references found not to hold their blocks, with
// their files' size and time then: Has, asked again and again (a plan, a
// peer), reads such a block once per change of its file, not every time.
type staleRefs struct {
	mu sync.Mutex
	m  map[string]staleRef
}

type staleRef struct {
	ref         FileRef // the record's
	size, mtime int64   // the file's when it was found stale
}

// maxStale bounds what staleRefs remembers (past it, it starts over).
const maxStale = 1 << 16

// seen reports whether c's reference ref was found stale and its file has
// not changed since.
func (s *staleRefs) seen(c cid.Cid, ref FileRef) (string, bool) {
	s.mu.Lock()
	e, ok := s.m[c.KeyString()]
	s.mu.Unlock()
	if !ok || e.ref != ref {
		return "", false
	}
	st, err := os.Stat(ref.Path)
	if err != nil {
		return "", false // readFileRef says it is gone, without reading
	}
	return "changed since it was added", st.Size() == e.size && st.ModTime().UnixNano() == e.mtime
}

// note remembers c's reference ref as stale while its file is of that
// size and time.
func (s *staleRefs) note(c cid.Cid, ref FileRef, size, mtime int64) {
	e := staleRef{ref: ref, size: size, mtime: mtime}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxStale {
		s.m = map[string]staleRef{}
	}
	s.m[c.KeyString()] = e
}

// refresh keeps fresh as c's reference in place of the one it had (see
// readFileRef), if no other write excludes it now: it is tried again at the
// next read otherwise. The caller holds dbMu's read side.
func (s *BadgerStore) refresh(c cid.Cid, fresh *FileRef) {
	if fresh == nil || !s.writeMu.TryRLock() {
		return
	}
	defer s.writeMu.RUnlock()
	_ = s.db.Update(func(txn *badger.Txn) error {
		k := blockKey(c)
		if item, err := txn.Get(k); err != nil || item.UserMeta()&metaFile == 0 {
			return err // gone, or its bytes were put meanwhile
		}
		return txn.SetEntry(badger.NewEntry(k, encodeFileRecord(*fresh, c.Type())).WithMeta(codecMeta(c.Type()) | metaFile))
	})
}

// asFileRef returns b's reference to a file, if b is a FileBlock the store
// keeps as one (FileRefMin bytes or more, the size matching).
func asFileRef(b blocks.Block) (FileRef, bool) {
	fb, ok := b.(FileBlock)
	if !ok || fb.Ref.Path == "" || fb.Ref.Size < FileRefMin || fb.Ref.Size != len(fb.RawData()) {
		return FileRef{}, false
	}
	return fb.Ref, true
}

// IsFileRef reports whether c is kept as a reference to a file (its
// record's meta says so; nothing is read).
func (s *BadgerStore) IsFileRef(c cid.Cid) bool {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	ref := false
	_ = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(c))
		ref = err == nil && item.UserMeta()&metaFile != 0
		return nil
	})
	return ref
}

// HasFileRefs reports whether the store keeps (or may keep) a block as a
// reference to a file: one was written since it opened, or the records,
// looked through once, hold one.
func (s *BadgerStore) HasFileRefs(ctx context.Context) bool {
	if s.refs.Load() {
		return true
	}
	if !s.refsScanned.Load() {
		if n, err := s.FileRefStats(ctx); err == nil {
			s.refsScanned.Store(true)
			if n.Blocks+n.Changed > 0 {
				s.refs.Store(true)
			}
		}
	}
	return s.refs.Load()
}

// FileRefCounts counts the blocks a store keeps as references to files.
type FileRefCounts struct {
	// Blocks, Bytes and Files: the blocks whose files are as they were
	// noted (their size and time; nothing is read), their bytes (in the
	// files, not in the repo) and the files they are in.
	Blocks int
	Bytes  int64
	Files  int
	// Changed: the blocks whose files changed or went since (gone: the
	// bytes are not read again until the file is as noted; gc and
	// repo verify drop their records).
	Changed int
}

// FileRefStats counts the blocks kept as references to files (a stat of
// each file, once).
func (s *BadgerStore) FileRefStats(ctx context.Context) (FileRefCounts, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	var n FileRefCounts
	stats := map[string]os.FileInfo{} // nil: gone
	files := map[string]bool{}
	err := s.eachBlockRecord(ctx, func(item *badger.Item) error {
		if item.UserMeta()&metaFile == 0 {
			return nil
		}
		return item.Value(func(v []byte) error {
			ref, _, err := decodeFileRecord(v)
			if err != nil {
				return err
			}
			st, ok := stats[ref.Path]
			if !ok {
				if st, err = os.Stat(ref.Path); err != nil {
					st = nil
				}
				stats[ref.Path] = st
			}
			if ref.changedFrom(st) != "" {
				n.Changed++
				return nil
			}
			n.Blocks++
			n.Bytes += int64(ref.Size)
			if !files[ref.Path] {
				files[ref.Path] = true
				n.Files++
			}
			return nil
		})
	})
	if err != nil {
		return FileRefCounts{}, fmt.Errorf("badger file references: %w", err)
	}
	return n, nil
}

// Referral names a stored block and where its bytes are in a file.
type Referral struct {
	Cid cid.Cid
	Ref FileRef
}

// ReferTo keeps each block of refs that is stored (with its bytes, or as
// an older reference) as where its bytes are in its file instead: for a
// file the caller wrote from those blocks (a folder that follows a group's
// version is the copy of it). Each block's bytes are read back from the
// file and checked against its CID first: a block not stored, or whose
// file does not hold it, stays as it is. The records are synced before the
// pack space of the bytes replaced is given back (a crash must not leave a
// record pointing at freed space). It returns the bytes now kept in files
// only.
func (s *BadgerStore) ReferTo(ctx context.Context, refs []Referral) (int64, error) {
	moved, packed, err := s.referTo(ctx, refs)
	if err != nil || !packed {
		return moved, err
	}
	return moved, s.reclaimPacks(ctx)
}

func (s *BadgerStore) referTo(ctx context.Context, refs []Referral) (moved int64, packed bool, err error) {
	// The files are read and checked first, with no lock held: a write or
	// a reclaim is not held up by the reading of a large folder.
	var buf []byte
	scratch := func(n int) []byte {
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		return buf[:n]
	}
	ok := refs[:0:0]
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		if r.Ref.Size < FileRefMin {
			continue
		}
		if why, _ := r.Ref.changed(); why != "" {
			continue
		}
		if _, err := readChecked(r.Cid, r.Ref, scratch); err == nil {
			ok = append(ok, r) // else not (or no longer) what the file holds
		}
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, r := range ok {
		k := blockKey(r.Cid)
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return moved, packed, fmt.Errorf("refer %s to %s: %w", r.Cid, r.Ref.Path, err)
		}
		meta := item.UserMeta()
		if meta&metaFile == 0 {
			moved += int64(r.Ref.Size)
			packed = packed || meta&metaPacked != 0
		}
		s.refs.Store(true)
		e := badger.NewEntry(k, encodeFileRecord(r.Ref, r.Cid.Type())).WithMeta(codecMeta(r.Cid.Type()) | metaFile)
		err = txn.SetEntry(e)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err == nil {
				txn = s.db.NewTransaction(true)
				err = txn.SetEntry(e)
			}
		}
		if err != nil {
			return moved, packed, fmt.Errorf("refer %s to %s: %w", r.Cid, r.Ref.Path, err)
		}
	}
	if err := txn.Commit(); err != nil {
		return moved, packed, fmt.Errorf("refer %d blocks to files: %w", len(ok), err)
	}
	if err := s.syncAll(); err != nil {
		return moved, packed, fmt.Errorf("refer %d blocks to files: sync: %w", len(ok), err)
	}
	return moved, packed, nil
}
