package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"unicode"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// Most laptops keep files on a file system that does not tell names apart
// by case (macOS's, Windows', FAT and exFAT on a memory stick): there,
// Notes.txt and notes.txt are one file. A version renamed so (a file or
// folder whose name changed only in case on the device that shared it)
// would read, path by path, as a new entry and a gone one: written, then
// removed, and what was removed is the file (or the folder with what it
// holds) just written. And a version holding both names (shared from a
// file system that tells them apart) would write one over the other.
// foldCase sees to both before anything is written, as Syncthing does.

// caseClash is dag.ErrCaseClash for an entry of a version that this
// folder's file system cannot hold beside other, whose path differs only
// in case.
type caseClash struct{ other string }

func (c caseClash) Error() string {
	return fmt.Sprintf("its path differs only in case from %s, which this folder's file system does not tell apart: rename one of them", c.other)
}
func (c caseClash) Unwrap() error { return dag.ErrCaseClash }

// foldsCase reports whether the file system of the folder dir (which
// exists) takes names that differ only in case as one: an entry in it
// looked up with its case changed is found, and is the same entry; where
// that does not settle it (a FUSE file system numbers each spelling's
// inode apart), a file made for the look, whose name no other has.
func foldsCase(dir string) bool {
	if v, ok := foldsCaseAt.Load(dir); ok {
		return v.(bool)
	}
	folds, known := lookFoldsCase(dir)
	if known {
		foldsCaseAt.Store(dir, folds)
	}
	return folds
}

// foldsCaseAt caches foldsCase, by folder, as keepsModes does KeepsModes.
var foldsCaseAt sync.Map

// lookFoldsCase is foldsCase, looked at now; known is false where the
// look could not tell (a folder it cannot list or write in).
func lookFoldsCase(dir string) (folds, known bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, false
	}
	for _, e := range ents {
		other := swapCase(e.Name())
		if other == e.Name() {
			continue
		}
		st, err := os.Lstat(filepath.Join(dir, other))
		if errors.Is(err, fs.ErrNotExist) {
			return false, true
		}
		if err == nil {
			if st0, err := e.Info(); err == nil && os.SameFile(st0, st) {
				return true, true
			}
		}
		break
	}
	// Named as the writes' temporary files are: swept if left by a crash.
	probe := fmt.Sprintf(".case.kith-tmp-%d", rand.Uint64())
	f, err := os.OpenFile(filepath.Join(dir, probe), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, false
	}
	f.Close()
	defer os.Remove(filepath.Join(dir, probe))
	_, err = os.Lstat(filepath.Join(dir, swapCase(probe)))
	return err == nil, true
}

// swapCase is name with each letter's case changed.
func swapCase(name string) string {
	return strings.Map(func(r rune) rune {
		if u := unicode.ToUpper(r); u != r {
			return u
		}
		return unicode.ToLower(r)
	}, name)
}

// foldCase, where the folder's file system does not tell names apart by
// case, brings the folder and the manifest to the version's case, and
// returns the items to write: an entry the mirror wrote whose path the
// version now has only under another case is renamed to it (its record
// moves with it: it is no longer gone from the version, nor new); of the
// version's entries whose paths differ only in case, the one written
// before (else the first) is written and the others (with what they
// hold) fail, named. Elsewhere it
// returns items as they are.
func (a *applier) foldCase(dir string, items []item) []item {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() || !foldsCase(dir) {
		return items
	}
	first := map[string]string{} // folded path -> the version's path written
	var clashed []string         // the version's paths not written (folders: what they hold neither)
	// Of two that clash, the one this folder holds already stays.
	for _, it := range items {
		if _, ok := a.man[it.rel]; ok {
			if f := dag.FoldCase(it.rel); first[f] == "" {
				first[f] = it.rel
			}
		}
	}
	kept := items[:0:0]
	for _, it := range items {
		if i := slices.IndexFunc(clashed, func(c string) bool { return strings.HasPrefix(it.rel, c+"/") }); i >= 0 {
			a.res.failed(it.rel, caseClash{other: first[dag.FoldCase(clashed[i])]}, false)
			delete(a.want, it.rel) // not here: what was here of the other name stays
			continue
		}
		f := dag.FoldCase(it.rel)
		if w, ok := first[f]; ok && w != it.rel {
			clashed = append(clashed, it.rel)
			a.res.failed(it.rel, caseClash{other: w}, false)
			delete(a.want, it.rel)
			continue
		}
		first[f] = it.rel
		kept = append(kept, it)
	}
	// The mirror's entries gone from the version under their case but
	// there under another: renamed, shallowest first (a folder's rename
	// takes what it holds along).
	var renamed []string
	for r := range a.man {
		if a.want[r] {
			continue
		}
		if w, ok := first[dag.FoldCase(r)]; ok && w != r {
			if _, both := a.man[w]; !both {
				renamed = append(renamed, r)
			}
		}
	}
	deepestFirst(renamed)
	slices.Reverse(renamed)
	for _, r := range renamed {
		w := first[dag.FoldCase(r)]
		from, to := filepath.Join(dir, filepath.FromSlash(r)), filepath.Join(dir, filepath.FromSlash(w))
		if _, err := os.Lstat(from); err != nil {
			continue // not there: written as any other
		}
		if path.Base(r) != path.Base(w) {
			// Its name as the version has it; where that fails (a folder
			// made read-only here), it stays the one entry under its old
			// case, never removed as gone from the version.
			_ = renameCase(from, to)
		}
		a.man[w] = a.man[r]
		delete(a.man, r)
	}
	return kept
}

// renameCase renames from to to, the same entry named in another case.
// Not os.Rename: it refuses a folder as the new name unless os.SameFile
// says both are one, which a FUSE file system (exFAT's) does not (it
// numbers each spelling's inode apart); the system's rename does it.
func renameCase(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// CaseClash names two paths of the version root whose names differ only
// in case, where the folder dir's file system takes them as one (ok
// false: none, or the file system tells them apart). Such a folder cannot
// hold the version whole.
func CaseClash(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, dir string) (first, second string, ok bool, err error) {
	if !foldsCase(dir) {
		return "", "", false, nil
	}
	a := &applier{ctx: ctx, v: Version{Root: root, Store: bs}, want: map[string]bool{}}
	items, err := a.list(root, ".", nil)
	if err != nil {
		return "", "", false, err
	}
	seen := map[string]string{} // FoldCase(path) -> the path
	for _, it := range items {
		f := dag.FoldCase(it.rel)
		if other, ok := seen[f]; ok {
			return other, it.rel, true, nil
		}
		seen[f] = it.rel
	}
	return "", "", false, nil
}
