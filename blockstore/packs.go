package blockstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Pack files hold the bytes of large blocks; Badger holds their records.
//
// Why not Badger's value log: Badger writes values by copying them into a
// memory-mapped file. Every 4 KiB page of that mapping is first touched by
// a page fault (a trap, a page-cache page, the filesystem's page_mkwrite),
// so storing 1 GiB cost 1.5-2.2 CPU-seconds here, against 0.9 s for the
// same bytes written with write(2) (measured on the development machine,
// ext4; 3.6 s vs 0.2 s on tmpfs), and every page touched counted in the
// daemon's resident memory until the file was closed: a daemon that had
// moved 4 GiB showed 5 GB in top. In a profile of a 1 GiB fetch the copy
// into the mapping was more than half of the fetching daemon's CPU.
//
// So a block of packThreshold bytes or more is appended to a pack file
// with pwrite, at a page-aligned offset, and its Badger record holds the
// pack number, offset and size (see packRef). The blocks of one batch go
// out together, bypassing the page cache where the platform allows (see
// packs_direct.go). Smaller blocks stay in Badger itself, where thousands
// of small files cost one transaction. Reads use pread: page cache, not
// resident memory.
//
// Deleting a block deletes its record only; Reclaim (after gc) then frees
// the space of every range no record points to, by punching holes in the
// packs (fallocate PUNCH_HOLE, Linux), and removes a pack no record points
// into. No pack is ever rewritten. Elsewhere (macOS, Windows) a pack's
// space comes back when none of its blocks is left.
//
// Durability: Sync fsyncs the packs written since the last Sync before it
// syncs Badger. Badger may still write a record to disk before the pack
// bytes it points to (the kernel writes its mapped log whenever it likes),
// so after a crash a record can point past the end of its pack; the store
// then drops such records when it opens (checkPacks), and the blocks are
// fetched again. Within the size a pack has on disk, its bytes are there
// (ext4 and XFS advance the on-disk size only after the data is written).

const (
	// packThreshold is the smallest block kept in a pack file.
	packThreshold = 64 << 10
	// packAlign aligns each block's offset, so that a deleted block's
	// pages can be freed whole.
	packAlign = 4 << 10
	// packMaxSize is where appending moves on to a new pack file.
	packMaxSize = 512 << 20
	// packDirName is the packs' folder inside the store's directory.
	packDirName = "packs"
	// cleanName marks a store closed cleanly: its records need no check.
	cleanName = "clean"
	// packWritebackEvery is how many bytes are appended between hints to
	// the kernel to start writing them out (see writebackEvery, Linux).
	packWritebackEvery = 16 << 20
)

// packRef is where a block's bytes are: pack number, offset, size.
type packRef struct {
	pack uint32
	off  int64
	size int
}

func (r packRef) end() int64 { return r.off + int64(r.size) }

// packs is the set of pack files of one store.
type packs struct {
	dir     string
	maxSize int64 // packMaxSize, but for tests

	mu      sync.Mutex
	files   map[uint32]*os.File // open packs, by number
	dfiles  map[uint32]*os.File // their direct write handles (packs_direct.go)
	direct  bool                // writes bypass the page cache
	spares  [][]byte            // aligned buffers for direct writes
	staged  atomic.Int64        // bytes direct writes copied into them
	cur     uint32              // the pack being appended to
	end     int64               // next free (aligned) offset in cur
	dirty   map[uint32]struct{} // packs written since the last sync
	newFile bool                // a pack was created since the last sync
	pending int64               // bytes written since the last writeback hint
}

func packName(n uint32) string { return fmt.Sprintf("%08d.pack", n) }

// openPacks opens the packs folder under dir, creating it if needed, and
// reports whether the store was closed cleanly (or had no packs yet).
// Appending continues in the newest pack.
func openPacks(dir string, maxSize int64) (*packs, bool, error) {
	p := &packs{dir: filepath.Join(dir, packDirName), maxSize: maxSize,
		files: make(map[uint32]*os.File), dfiles: make(map[uint32]*os.File),
		dirty: make(map[uint32]struct{}), direct: directSupported}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create pack folder: %w", err)
	}
	ids, err := p.list()
	if err != nil {
		return nil, false, err
	}
	clean := true
	if _, err := os.Stat(filepath.Join(p.dir, cleanName)); err != nil {
		clean = len(ids) == 0
	}
	if len(ids) == 0 {
		p.cur = 1
		return p, clean, nil
	}
	p.cur = ids[len(ids)-1]
	f, err := p.fileLocked(p.cur)
	if err != nil {
		return nil, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("pack %s: %w", f.Name(), err)
	}
	p.end = alignUp(fi.Size())
	return p, clean, nil
}

// markOpen removes the clean marker, durably, before anything is written.
func (p *packs) markOpen() error {
	err := os.Remove(filepath.Join(p.dir, cleanName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pack folder: %w", err)
	}
	return syncDir(p.dir)
}

// list returns the numbers of the pack files, in order.
func (p *packs) list() ([]uint32, error) {
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("read pack folder: %w", err)
	}
	var ids []uint32
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".pack")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 32)
		if err != nil || n == 0 {
			continue
		}
		ids = append(ids, uint32(n))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

func alignUp(n int64) int64 { return (n + packAlign - 1) &^ (packAlign - 1) }

// fileLocked returns pack n's open file, opening it if needed. p.mu held.
func (p *packs) fileLocked(n uint32) (*os.File, error) {
	if f := p.files[n]; f != nil {
		return f, nil
	}
	f, err := os.OpenFile(filepath.Join(p.dir, packName(n)), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open pack: %w", err)
	}
	p.files[n] = f
	return f, nil
}

func (p *packs) file(n uint32) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fileLocked(n)
}

// writeMany appends datas to the packs, back to back (each at an aligned
// offset), and returns where each went. With direct, where writes may
// bypass the page cache, the blocks of one pack go out together, as few
// large writes (see writeRunDirect): one direct write per 1 MiB block left
// the disk idle between them, and a fetch waited on it.
func (p *packs) writeMany(datas [][]byte, direct bool) ([]packRef, error) {
	refs := make([]packRef, len(datas))
	// A run is datas[from:to], back to back in one pack.
	type run struct {
		f, df    *os.File
		from, to int
	}
	var runs []run
	p.mu.Lock()
	for i, data := range datas {
		if p.end > 0 && p.end+int64(len(data)) > p.maxSize {
			p.cur++
			p.end = 0
		}
		f := p.files[p.cur]
		if f == nil {
			var err error
			f, err = os.OpenFile(filepath.Join(p.dir, packName(p.cur)), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				p.mu.Unlock()
				return nil, fmt.Errorf("create pack: %w", err)
			}
			p.files[p.cur] = f
			p.newFile = true
		}
		refs[i] = packRef{pack: p.cur, off: p.end, size: len(data)}
		p.end = alignUp(refs[i].end())
		p.dirty[p.cur] = struct{}{}
		if len(runs) == 0 || runs[len(runs)-1].f != f {
			var df *os.File
			if direct {
				df = p.directLocked(p.cur)
			}
			runs = append(runs, run{f: f, df: df, from: i})
		}
		runs[len(runs)-1].to = i + 1
	}
	p.mu.Unlock()

	var buffered int64
	var hint []*os.File
	for _, r := range runs {
		if r.df != nil {
			done, err := p.writeRunDirect(r.df, datas[r.from:r.to], refs[r.from:r.to])
			if err != nil {
				return nil, err
			}
			if done {
				continue
			}
		}
		for i := r.from; i < r.to; i++ {
			if _, err := r.f.WriteAt(datas[i], refs[i].off); err != nil {
				return nil, fmt.Errorf("write pack %s: %w", r.f.Name(), err)
			}
			buffered += int64(len(datas[i]))
		}
		hint = append(hint, r.f)
	}
	p.mu.Lock()
	// Marked again now that the bytes are written: a Sync that ran while
	// they were being written may have cleared the mark before them.
	for _, r := range runs {
		p.dirty[refs[r.from].pack] = struct{}{}
	}
	p.pending += buffered // direct writes leave nothing to write back
	if p.pending < packWritebackEvery {
		hint = nil
	} else {
		p.pending = 0
	}
	p.mu.Unlock()
	for _, f := range hint {
		startWriteback(f)
	}
	return refs, nil
}

// read returns ref's bytes, read into alloc(ref.size), or errPackShort if
// the pack ends before them.
func (p *packs) read(ref packRef, alloc func(n int) []byte) ([]byte, error) {
	f, err := p.file(ref.pack)
	if err != nil {
		return nil, err
	}
	buf := alloc(ref.size)
	n, err := f.ReadAt(buf, ref.off)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return nil, errPackShort
	}
	return nil, fmt.Errorf("read pack %s: %w", f.Name(), err)
}

// errPackShort is a record pointing past the end of its pack: bytes lost
// in a crash (see checkPacks).
var errPackShort = errors.New("block bytes missing from pack file (lost in a crash?)")

// sync fsyncs every pack written since the last sync, and the folder if a
// pack was created.
func (p *packs) sync() error {
	p.mu.Lock()
	fs := make(map[uint32]*os.File, len(p.dirty))
	for n := range p.dirty {
		fs[n] = p.files[n]
	}
	clear(p.dirty)
	newFile := p.newFile
	p.newFile = false
	p.mu.Unlock()
	var errs []error
	failed := make(map[uint32]bool)
	for n, f := range fs {
		// A pack Reclaim removed meanwhile is closed: nothing to sync.
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("sync pack %s: %w", f.Name(), err))
			failed[n] = true
		}
	}
	if newFile {
		if err := syncDir(p.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// Sync again next time: nothing that failed is known durable.
		p.mu.Lock()
		for n := range failed {
			if p.files[n] != nil {
				p.dirty[n] = struct{}{}
			}
		}
		p.newFile = p.newFile || newFile
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// sizes returns the size of every pack file, by number.
func (p *packs) sizes() (map[uint32]int64, error) {
	ids, err := p.list()
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]int64, len(ids))
	for _, n := range ids {
		fi, err := os.Stat(filepath.Join(p.dir, packName(n)))
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", packName(n), err)
		}
		out[n] = fi.Size()
	}
	return out, nil
}

// free gives back the space of every range of every pack that no live
// record covers: whole packs are removed (except the one being appended
// to), and gaps are punched where the platform can. live holds each pack's
// records, in any order. The caller excludes writers and readers.
func (p *packs) free(live map[uint32][]packRef) error {
	sizes, err := p.sizes()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for n, size := range sizes {
		refs := live[n]
		if len(refs) == 0 && n != p.cur {
			if f := p.files[n]; f != nil {
				f.Close()
				delete(p.files, n)
			}
			p.closeDirectLocked(n)
			delete(p.dirty, n)
			if err := os.Remove(filepath.Join(p.dir, packName(n))); err != nil {
				errs = append(errs, fmt.Errorf("remove pack: %w", err))
			}
			continue
		}
		f, err := p.fileLocked(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].off < refs[j].off })
		var at int64 // start of the next gap
		for _, r := range append(refs, packRef{off: alignUp(size)}) {
			if from := alignUp(at); from < r.off {
				if err := punchHole(f, from, r.off-from); err != nil {
					errs = append(errs, fmt.Errorf("free space in pack %s: %w", f.Name(), err))
					break
				}
			}
			at = max(at, r.end())
		}
	}
	return errors.Join(errs...)
}

// close closes every pack; with clean, after a final sync, it marks the
// store closed cleanly.
func (p *packs) close(clean bool) error {
	var errs []error
	if clean {
		errs = append(errs, p.sync())
	}
	p.mu.Lock()
	for n, f := range p.files {
		errs = append(errs, f.Close(), p.closeDirectLocked(n))
		delete(p.files, n)
	}
	p.mu.Unlock()
	if clean && errors.Join(errs...) == nil {
		if err := os.WriteFile(filepath.Join(p.dir, cleanName), nil, 0o600); err != nil {
			errs = append(errs, fmt.Errorf("mark packs clean: %w", err))
		} else {
			errs = append(errs, syncDir(p.dir))
		}
	}
	return errors.Join(errs...)
}
