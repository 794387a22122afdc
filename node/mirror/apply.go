package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/recent"
)

// Record is what the mirror wrote at one path of its folder, as the disk
// showed it right after: a file or link still so was not changed here.
type Record struct {
	Type   string `json:"t"`           // dag.TypeFile, TypeDir or TypeSymlink
	Cid    string `json:"c,omitempty"` // a file's or link's, in the version written
	Size   int64  `json:"s,omitempty"`
	Mtime  int64  `json:"m,omitempty"` // nanoseconds
	Mode   uint32 `json:"p,omitempty"` // a file's or folder's permission bits when written or given a meta's (0: not known)
	Target string `json:"l,omitempty"` // a link's
}

// ErrNotFolder is Apply's error for a version that is a file: only a
// folder is followed.
var ErrNotFolder = errors.New("it is a file, not a folder: only a folder is followed")

// Manifest maps the slash path of each entry inside the folder to what the
// mirror wrote there.
type Manifest map[string]Record

// maxKeptNamed is how many paths changed here a Result names.
const maxKeptNamed = 20

// Result says what Apply did.
type Result struct {
	Written, Removed int
	// Moved counts the files moved here from where the version had them
	// before (a rename, a move to another folder), not written again.
	Moved   int
	Bytes   int64 // written
	Fetched int64 // fetched from peers
	Touched int   // entries given their modes and times (Meta)
	// Kept names the paths changed on this device (the first 20) that
	// Apply left as they are rather than overwrite or remove them;
	// KeptCount counts them all.
	Kept      []string
	KeptCount int
	// Conflicts names the conflict copies written (Version.Sync), and
	// Merged says the version was judged against a Base: the folder holds
	// it merged with what this device changed.
	Conflicts []string
	Merged    bool
	// Ancestors and Keep are the version's (its meta's Versions), for a
	// Sync folder.
	Ancestors []string
	Keep      int
	// listed is the version's entries as Version.Base has them (Sync).
	listed map[string]string
	// files are the files written from the version, by their slash path
	// (Options.Written).
	files map[string]cid.Cid
	// Failed names the version's files and folders that could not be
	// written here, and those gone from it that could not be removed (the
	// first maxKeptNamed), FailedCount how many: the others were (Apply's
	// error is then a FilesError).
	Failed      []FailedFile
	FailedCount int
	// Changes names what the update did, in order (the first recent.Max):
	// for Mirror.Recent, Syncthing's "recent changes".
	Changes []recent.Change
}

// changed notes that the update did what to the path rel.
func (r *Result) changed(rel, what string) {
	if len(r.Changes) < recent.Max {
		r.Changes = append(r.Changes, recent.Change{Path: rel, What: what})
	}
}

// wrote notes the file at rel written from the version's file c.
func (r *Result) wrote(rel string, e dag.Entry) {
	if e.Type != dag.TypeFile {
		return
	}
	if r.files == nil {
		r.files = map[string]cid.Cid{}
	}
	r.files[rel] = e.Cid
}

// failed notes that rel could not be written here (or removed, gone from
// the version), for err.
func (r *Result) failed(rel string, err error, removing bool) {
	r.FailedCount++
	if len(r.Failed) < maxKeptNamed {
		r.Failed = append(r.Failed, FailedFile{Path: rel, Err: err, Removing: removing})
	}
}

func (r *Result) keep(rel string) {
	r.KeptCount++
	if len(r.Kept) < maxKeptNamed {
		r.Kept = append(r.Kept, rel)
	}
}

// Version is the version Apply writes: the folder DAG Root, read from
// Store. Fetch, when set, makes present in Store the folders under c, the
// first block of each file and the whole of each file that files names
// (every file when files is nil), calling progress (when not nil) with
// the bytes it has so far, and says how many bytes it fetched; nil when
// Store holds the whole version.
type Version struct {
	Root  cid.Cid
	Store blockstore.Blockstore
	Fetch func(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error)
	// Revert writes the version over what was changed here at the paths
	// it has (a file, a link; a file or link made where it has a folder
	// is removed), where Apply would keep it. A folder made here where
	// the version has a file stays (and is kept); what the version does
	// not have is left alone.
	Revert bool
	// Sync is a folder that syncs both ways (its changes are shared
	// too): what the version has as the folder had it when it was last in
	// sync (Base, else the manifest's records) is left as it is here,
	// changed or deleted; and where both changed a file, the later change
	// keeps the name and the other goes beside it as a conflict copy.
	// Times holds the version's files' modification times (its meta's,
	// nanoseconds, by path), which say which change is the later.
	Sync  bool
	Times map[string]int64
	// Base, for a Sync folder whose manifest is not the version's base
	// (both changed it since), is the entries of the version both start
	// from: slash path to a file's or link's CID, or "/" for a folder.
	// nil: the manifest's records are the base.
	Base map[string]string
	// Exclude leaves out of the folder the entries of the version it
	// names (by name at any depth or by path: dag.Exclusion), with what they
	// hold: they are not fetched or written, and what the mirror wrote at
	// their paths before is removed as if the version no longer had it
	// (unless changed here). What is at those paths otherwise is left
	// alone.
	Exclude dag.Exclusion
}

// Apply makes the folder dir hold the version v, as a receive-only copy:
// what the group's version adds or changes is written (each file whole,
// under a temporary name, then renamed in place), what it no longer has is
// removed, and man, what Apply wrote before, is brought up to date. What
// was changed on this device since (its size, time or kind differ from
// man's record, and its content from the version's) is never overwritten
// or removed: Result.Kept names it. A file already holding the version's
// bytes (a write a crash cut off before man was saved, a copy from before)
// is taken as written. Nothing is written through a symbolic link: a
// folder replaced by a link here is kept, unvisited. Of the version's
// files, only those it writes or must compare are fetched whole: a file
// here of the version's size is first compared by its hash. progress, if
// not nil, is called as it goes. On error, man holds what was done up to
// it.
func Apply(ctx context.Context, v Version, dir string, man Manifest, progress func(Progress)) (Result, error) {
	a := &applier{ctx: ctx, v: v, dir: dir, man: man, progress: progress, want: map[string]bool{},
		real: map[string]bool{".": true}, have: map[cid.Cid]bool{}, hashed: map[string]bool{}, settled: map[string]bool{},
		notDir: map[string]bool{}, targets: map[string]int{}, over: map[string][]string{}}
	defer a.releaseSpares()
	if v.Fetch != nil {
		// The folders and each file's first block: what a listing reads.
		n, err := v.Fetch(ctx, v.Root, func(cid.Cid) bool { return false }, nil)
		a.res.Fetched += n
		if err != nil {
			return a.res, err
		}
	}
	if st, err := dag.StatRoot(ctx, v.Store, v.Root); err != nil {
		return a.res, err
	} else if st.Type != dag.TypeDir {
		return a.res, ErrNotFolder
	}
	all, err := a.list(v.Root, ".", nil)
	if err != nil {
		return a.res, err
	}
	// Where Notes.txt and notes.txt are one file (macOS, Windows, FAT).
	items := a.foldCase(dir, all)
	if v.Sync {
		a.markNeeded(items)
		a.res.Merged = v.Base != nil
		a.res.listed = make(map[string]string, len(all))
		for _, it := range all {
			a.res.listed[it.rel] = entryKey(it.e)
		}
	}
	if err := a.fetchNeeded(dir, items); err != nil {
		return a.res, err
	}
	// What the version no longer has goes first: a folder that became a
	// file is emptied before the file is written.
	if err := a.prune(dir); err != nil {
		return a.res, err
	}
	dag.SweepTemps(dir) // once per folder: writes do not look (WithoutSweep)
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return a.res, err
		}
		if !a.real[path.Dir(it.rel)] {
			continue // below a folder kept as this device changed it
		}
		if a.settled[it.rel] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(it.rel))
		if it.e.Type == dag.TypeDir {
			err = a.folder(it.rel, p)
		} else {
			err = a.entry(it.e, it.rel, p)
		}
		if err != nil {
			if a.stops(err) {
				return a.res, err
			}
			// One file this folder cannot take (a name too long for its
			// file system, one it refuses, a file another program holds)
			// does not hold back the others, as Syncthing's failed items.
			a.res.failed(it.rel, err, false)
		}
	}
	a.finishPrune(dir)
	if a.res.FailedCount > 0 {
		return a.res, &FilesError{Failed: a.res.Failed, Count: a.res.FailedCount}
	}
	return a.res, nil
}

type applier struct {
	ctx      context.Context
	v        Version
	dir      string // the folder written (Apply)
	man      Manifest
	progress func(Progress)
	res      Result
	toWrite  int64            // bytes to write, as fetchNeeded saw it
	want     map[string]bool  // the version's paths
	real     map[string]bool  // folders known to be real folders (not links), or not
	have     map[cid.Cid]bool // files fetched whole (with v.Fetch)
	hashed   map[string]bool  // files here known to hold the version's bytes by their hash
	settled  map[string]bool  // files as written, the same in the version: nothing to do
	needDir  map[string]bool  // Sync: folders the version's changes are written into
	notDir   map[string]bool  // the version's files and links (Apply)
	// Moves (move.go), by a file's CID: the version's files still to
	// write (where nothing is, or over what the mirror wrote); the files
	// as written that the version writes over; the files a target may
	// take. later is what prune left for finishPrune, deepest first.
	targets map[string]int
	over    map[string][]string
	spares  map[string][]spare
	later   []string
}

// item is one entry of the version, at rel.
type item struct {
	rel string
	e   dag.Entry
}

// list appends the entries of the version's folder c, at rel, to items,
// each folder before what it holds, checking every name.
func (a *applier) list(c cid.Cid, rel string, items []item) ([]item, error) {
	es, err := dag.LsLinks(a.ctx, a.v.Store, c)
	if err != nil {
		return items, fmt.Errorf("read %s of the version: %w", rel, err)
	}
	for _, e := range es {
		if err := dag.CheckName(e.Name); err != nil {
			return items, fmt.Errorf("folder %s of the version: %w", rel, err)
		}
		r := path.Join(rel, e.Name)
		if a.v.Exclude.Excludes(r, e.Type == dag.TypeDir) {
			continue
		}
		a.want[r] = true
		if e.Type != dag.TypeDir && a.notDir != nil {
			a.notDir[r] = true
		}
		items = append(items, item{r, e})
		if e.Type == dag.TypeDir {
			if items, err = a.list(e.Cid, r, items); err != nil {
				return items, err
			}
		}
	}
	return items, nil
}

// folder makes p a folder, unless something changed here is in the way
// (then what the version has in it is left out: real says so).
func (a *applier) folder(r, p string) error {
	a.real[r] = false
	st, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) && a.v.Sync && !a.needDir[r]:
		return nil // deleted here, and nothing in it changed since
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("make the folder %s: %w", p, err)
		}
	case err != nil:
		return err
	case st.IsDir():
	case a.untouched(r, p, st) && !a.oursChanged(r), a.v.Revert:
		// The version's file or link here became a folder (or a file or
		// link made here goes, reverted).
		if err := os.Remove(p); err != nil {
			return err
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("make the folder %s: %w", p, err)
		}
	default:
		a.keptChanged(r)
		return nil
	}
	// Its mode as the mirror last knew it (a chmod here since stays a
	// change here); a folder made now, or new to the manifest, as it is.
	rec := Record{Type: dag.TypeDir}
	if old, ok := a.man[r]; ok && old.Type == dag.TypeDir {
		rec.Mode = old.Mode
	} else if st, err := os.Lstat(p); err == nil {
		rec.Mode = uint32(st.Mode().Perm())
	}
	a.man[r] = rec
	a.real[r] = true
	dag.SweepTemps(p)
	return nil
}

// entry brings the file or link e at r (p on disk) up to date.
func (a *applier) entry(e dag.Entry, r, p string) error {
	if a.theirsUnchanged(r, e) {
		return nil // only this device may have changed it
	}
	st, err := os.Lstat(p)
	opts := []dag.WriteOption{dag.WithoutSweep()}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if e.Type == dag.TypeFile {
			if moved, err := a.moveHere(e, r, p, false); moved || err != nil {
				return err
			}
		}
	case err != nil:
		return err
	case a.untouched(r, p, st) && !a.oursChanged(r):
		if rec := a.man[r]; rec.Type == e.Type && rec.Cid == e.Cid.String() {
			return nil // as written, and the same in this version
		}
		if st.IsDir() {
			// A folder of the version before: it goes if it is empty
			// (prune removed what the mirror wrote in it).
			if err := removeFolder(p); err != nil {
				a.res.keep(r)
				return nil
			}
		} else {
			// Renamed over the file or link, never removed first: a
			// folder made there meanwhile fails the rename, and stays.
			opts = append(opts, dag.WithRenameOver())
			if e.Type == dag.TypeFile {
				a.setAside(r, p, a.man[r]) // its bytes wanted elsewhere
				if moved, err := a.moveHere(e, r, p, true); moved || err != nil {
					return err
				}
			}
		}
	default:
		same, err := a.same(e, r, p, st)
		switch {
		case err != nil:
			return err
		case same:
			a.record(r, e, st)
			return nil
		case a.v.Sync:
			return a.conflict(e, r, p, st) // both changed it
		case !a.v.Revert || st.IsDir():
			a.res.keep(r)
			return nil
		}
		// Reverted: written over what was changed here.
		opts = append(opts, dag.WithRenameOver())
	}
	var mode fs.FileMode // of the file written over: the new bytes keep it
	if e.Type == dag.TypeFile {
		if err := a.ensure(e.Cid); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if st != nil && st.Mode().IsRegular() {
			mode = st.Mode().Perm()
		}
	}
	var done int64
	err = a.writeTo(e.Cid, p, func(b int64) {
		a.report(PhaseWrite, a.res.Bytes+b, max(a.toWrite, a.res.Bytes+b))
		done = b
	}, opts...)
	if errors.Is(err, fs.ErrExist) {
		a.res.keep(r) // made here meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	a.res.Bytes += done
	a.res.Written++
	a.res.wrote(r, e)
	a.res.changed(r, recent.Written)
	if e.Type == dag.TypeFile {
		a.targets[e.Cid.String()]--
	}
	if st, err = os.Lstat(p); err != nil {
		return err
	}
	if mode != 0 && st.Mode().Perm() != mode {
		// As a file edited in place: the version's meta, when it says
		// (not from a file system that keeps none), gives its own after.
		if err := os.Chmod(p, mode); err == nil {
			if st, err = os.Lstat(p); err != nil {
				return err
			}
		}
	}
	a.record(r, e, st)
	return nil
}

func (a *applier) record(r string, e dag.Entry, st fs.FileInfo) {
	rec := Record{Type: e.Type, Cid: e.Cid.String()}
	if e.Type == dag.TypeSymlink {
		rec.Target = e.Target
	} else {
		rec.Size, rec.Mtime = st.Size(), st.ModTime().UnixNano()
		rec.Mode = uint32(st.Mode().Perm())
	}
	a.man[r] = rec
}

// untouched reports whether the disk at r (p, st) is as Apply last wrote it.
func (a *applier) untouched(r, p string, st fs.FileInfo) bool {
	rec, ok := a.man[r]
	if !ok {
		return false
	}
	switch rec.Type {
	case dag.TypeDir:
		return st.IsDir()
	case dag.TypeSymlink:
		if st.Mode()&fs.ModeSymlink == 0 {
			return false
		}
		t, err := os.Readlink(p)
		return err == nil && t == rec.Target
	default:
		return st.Mode().IsRegular() && st.Size() == rec.Size && st.ModTime().UnixNano() == rec.Mtime
	}
}

// same reports whether p (r) already holds e: a link to the same target,
// or a file of the same bytes. Its error is a fetch's that failed.
func (a *applier) same(e dag.Entry, r, p string, st fs.FileInfo) (bool, error) {
	switch {
	case e.Type == dag.TypeSymlink:
		t, err := os.Readlink(p)
		return st.Mode()&fs.ModeSymlink != 0 && err == nil && t == e.Target, nil
	case !st.Mode().IsRegular() || uint64(st.Size()) != e.Size:
		return false, nil
	case a.hashed[r]:
		return true, nil
	}
	if err := a.ensure(e.Cid); err != nil {
		return false, fmt.Errorf("compare %s with the version's: %w", p, err)
	}
	want, _, err := dag.Open(a.ctx, a.v.Store, e.Cid)
	if err != nil {
		return false, nil
	}
	defer want.Close()
	f, err := os.Open(p)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	return sameBytes(want, f), nil
}

// sameBytes reports whether a and b read the same bytes to their end.
func sameBytes(a, b io.Reader) bool {
	ba, bb := make([]byte, 256<<10), make([]byte, 256<<10)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		aEnd := ea == io.EOF || ea == io.ErrUnexpectedEOF
		bEnd := eb == io.EOF || eb == io.ErrUnexpectedEOF
		switch {
		case aEnd && bEnd:
			return true
		case aEnd != bEnd, ea != nil && !aEnd, eb != nil && !bEnd:
			return false
		}
	}
}

// prune removes what the mirror wrote that the version no longer has,
// deepest first, unless it was changed here (a folder goes only empty: what
// is left in it is someone's). An entry below anything but a real folder
// is forgotten, never looked at: the path could lead through a link.
func (a *applier) prune(dir string) error {
	var gone []string
	for r := range a.man {
		if !a.want[r] {
			gone = append(gone, r)
		}
	}
	deepestFirst(gone) // a folder is emptied before it is removed
	for _, r := range gone {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		rec := a.man[r]
		if a.madeHere(r, rec) {
			continue // shared from here
		}
		if !a.under(dir, path.Dir(r)) {
			delete(a.man, r)
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			delete(a.man, r)
			continue
		case err != nil:
			return err
		}
		if rec.Type == dag.TypeDir {
			if st.IsDir() && removeFolder(p) == nil {
				a.res.Removed++
				a.res.changed(r+"/", recent.Removed)
			} else if a.holdsLater(r) {
				a.later = append(a.later, r) // emptied once moved from
				continue
			}
			delete(a.man, r)
			continue
		}
		if !a.untouched(r, p, st) {
			if !a.leftOut(r, rec.Type == dag.TypeDir) {
				a.keptChanged(r) // changed here: it is this device's now
			} // (left out: this device's too, and no version comes for it)
			delete(a.man, r)
			continue
		}
		if a.spareFile(r, rec) {
			a.keepSpare(r, rec) // moved in the version: taken by a rename
			continue
		}
		if err := os.Remove(p); err != nil {
			err = fmt.Errorf("remove %s, gone from the group's version: %w", p, err)
			if a.stops(err) {
				return err
			}
			a.res.failed(r, err, true) // kept in the manifest: tried again
			continue
		}
		a.res.Removed++
		a.res.changed(r, recent.Removed)
		delete(a.man, r)
	}
	return nil
}

// removeFolder removes the folder p, gone from the version, once it is
// empty but for the files a system writes into the folders it shows
// (dag.Clutter: Finder's .DS_Store, Windows' Thumbs.db), which go with
// it; anything else there keeps it.
func removeFolder(p string) error {
	err := os.Remove(p)
	if err == nil {
		return nil
	}
	ents, rerr := os.ReadDir(p)
	if rerr != nil || len(ents) == 0 || slices.ContainsFunc(ents, func(e fs.DirEntry) bool { return !e.Type().IsRegular() || !dag.Clutter(e.Name()) }) {
		return err
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(p, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(p)
}

// leftOut reports whether the version's entry at the slash path r (a
// folder when dir) is left out by v.Exclude, or lies in a folder that is.
func (a *applier) leftOut(r string, dir bool) bool { return a.v.Exclude.LeftOut(r, dir) }

// deepestFirst sorts slash paths deepest first (then by name): what is in
// a folder comes before the folder.
func deepestFirst(paths []string) {
	slices.SortFunc(paths, func(x, y string) int {
		if d := strings.Count(y, "/") - strings.Count(x, "/"); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
}

// under reports whether the folder rel of dir, and every folder above it,
// is a real folder (not a link), looking at the disk for those walk did
// not see.
func (a *applier) under(dir, rel string) bool {
	if ok, seen := a.real[rel]; seen {
		return ok
	}
	ok := a.under(dir, path.Dir(rel))
	if ok {
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
		ok = err == nil && st.IsDir()
	}
	a.real[rel] = ok
	return ok
}

// Adopt is the manifest of the folder dir, just written whole as the
// version root (by a get), less what x leaves out: each entry of the
// version that the disk holds as it should be (same kind, a file of the
// same size, a link to the same target) is taken as written; anything
// else is left for Apply to judge.
//
// A file changed about or after before (when not zero: when an add of
// the folder started reading it) is taken only if its hash is the
// version's file's: it may hold something else.
func Adopt(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, dir string, x dag.Exclusion, before ...time.Time) (Manifest, error) {
	var bound time.Time
	if len(before) > 0 && !before[0].IsZero() {
		bound = before[0].Add(-time.Second) // coarse file system times
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	a := &applier{ctx: ctx, v: Version{Root: root, Store: bs, Exclude: x}, man: Manifest{}, want: map[string]bool{}}
	items, err := a.list(root, ".", nil)
	if err != nil {
		return nil, err
	}
	real := map[string]bool{".": true}
	for _, it := range items {
		if !real[path.Dir(it.rel)] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(it.rel))
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		switch e := it.e; {
		case e.Type == dag.TypeDir && st.IsDir():
			a.man[it.rel] = Record{Type: dag.TypeDir, Mode: uint32(st.Mode().Perm())}
			real[it.rel] = true
		case e.Type == dag.TypeSymlink && st.Mode()&fs.ModeSymlink != 0:
			if t, err := os.Readlink(p); err == nil && t == e.Target {
				a.record(it.rel, e, st)
			}
		case e.Type == dag.TypeFile && st.Mode().IsRegular() && uint64(st.Size()) == e.Size:
			if !bound.IsZero() && !st.ModTime().Before(bound) {
				// Written about when the add read it, or since: taken if
				// it holds the version's bytes.
				if c, err := dag.HashFile(ctx, p, nil); err != nil || c != e.Cid {
					continue
				}
			}
			a.record(it.rel, e, st)
		}
	}
	return a.man, nil
}
