package mirror

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// A file moved or renamed in the group's version (another folder, another
// name, the same bytes) is moved here too, as Syncthing does, rather than
// written again at its new path and removed at the old one: prune keeps a
// file the mirror wrote that the version no longer has while the version
// has its bytes at a path where nothing is (spare), and the entry there
// takes it with a rename. Nothing is read or written, however large the
// file, and nothing is fetched: the repo may keep a followed folder's
// blocks only as where they are in its files (node's keepInFiles), so a
// file removed before its bytes were written elsewhere had them fetched
// again from a peer. What no entry took is removed after the writes.

// spareFile reports whether prune may keep the file rec at r (as the
// mirror wrote it) until the writes: the version has its bytes at a path
// where nothing is, and no folder above r becomes a file or link.
func (a *applier) spareFile(r string, rec Record) bool {
	if rec.Type != dag.TypeFile || a.absent[rec.Cid] == 0 {
		return false
	}
	for d := path.Dir(r); d != "."; d = path.Dir(d) {
		if a.notDir[d] {
			return false
		}
	}
	return true
}

// keepSpare notes r, a file prune keeps for now (see spareFile).
func (a *applier) keepSpare(r string, rec Record) {
	if a.spares == nil {
		a.spares = map[string][]string{}
	}
	a.spares[rec.Cid] = append(a.spares[rec.Cid], r)
	a.later = append(a.later, r)
}

// holdsLater reports whether prune kept something in the folder r.
func (a *applier) holdsLater(r string) bool {
	for _, x := range a.later {
		if strings.HasPrefix(x, r+"/") {
			return true
		}
	}
	return false
}

// moveHere moves a spare file holding e's bytes to r (p on disk, where
// nothing is), and reports whether it did. A spare changed since prune
// looked, or a rename that fails, leaves the write to the caller.
func (a *applier) moveHere(e dag.Entry, r, p string) (bool, error) {
	key := e.Cid.String()
	for len(a.spares[key]) > 0 {
		s := a.spares[key][0]
		a.spares[key] = a.spares[key][1:]
		sp := filepath.Join(a.dir, filepath.FromSlash(s))
		st, err := os.Lstat(sp)
		if err != nil || !a.untouched(s, sp, st) {
			continue // finishPrune judges it
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return false, nil // made here meanwhile: entry sees it
		}
		if err := os.Rename(sp, p); err != nil {
			return false, nil
		}
		delete(a.man, s)
		a.absent[key]--
		a.toWrite -= int64(e.Size)
		a.res.Moved++
		a.res.wrote(r, e) // its blocks are at r now
		if st, err = os.Lstat(p); err != nil {
			return true, err
		}
		a.record(r, e, st)
		return true, nil
	}
	return false, nil
}

// finishPrune removes what prune kept for the writes and no entry took,
// then the folders it kept them in, if empty (prune's order: deepest
// first), as prune would have.
func (a *applier) finishPrune(dir string) {
	for _, r := range a.later {
		rec, ok := a.man[r]
		if !ok {
			continue // moved
		}
		delete(a.man, r)
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Lstat(p)
		switch {
		case err != nil:
		case rec.Type == dag.TypeDir:
			if st.IsDir() && os.Remove(p) == nil {
				a.res.Removed++
			}
		case !a.untouched(r, p, st):
			a.keptChanged(r) // changed here meanwhile: this device's now
		case os.Remove(p) == nil:
			a.res.Removed++
		}
	}
	a.later = nil
}
