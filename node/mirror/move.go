package mirror

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/recent"
)

// A file moved or renamed in the group's version (another folder, another
// name, the same bytes) is moved here too, as Syncthing does, rather than
// written again at its new path and removed at the old one; files that
// swap names, or shift along (a.jpg to b.jpg, b.jpg to c.jpg), too.
// Nothing is read or written, however large the file, and nothing is
// fetched: the repo may keep a followed folder's blocks only as where
// they are in its files (node's keepInFiles), so a file removed or written
// over before its bytes were written elsewhere had them fetched again
// from a peer.
//
// The bytes a target (a file of the version to write, where nothing is or
// over what the mirror wrote) may take by a rename are: a file the version
// no longer has, which prune keeps until the writes (then finishPrune
// removes what no target took); a file the version writes over, before
// its own entry comes; and such a file moved aside under a temporary name
// by its entry when another target still wants its bytes (setAside).

// spare is a file holding bytes a target may take: one the version no
// longer has (rel, as the manifest has it), or one moved aside (aside,
// its temporary path, held from sweeps until release).
type spare struct {
	rel     string
	aside   string
	release func()
}

// spareFile reports whether prune may keep the file rec at r (as the
// mirror wrote it) until the writes: a target wants its bytes, and no
// folder above r becomes a file or link.
func (a *applier) spareFile(r string, rec Record) bool {
	if rec.Type != dag.TypeFile || a.targets[rec.Cid] == 0 {
		return false
	}
	for d := path.Dir(r); d != "."; d = path.Dir(d) {
		if a.notDir[d] {
			return false
		}
	}
	return true
}

// movable counts, by CID, the files as written that a target may take:
// those the version no longer has that prune will keep (spareFile), and
// those it writes over.
func (a *applier) movable(dir string) map[string]int {
	out := map[string]int{}
	for r, rec := range a.man {
		if a.want[r] || !a.spareFile(r, rec) {
			continue
		}
		if a.madeHere(r, rec) {
			continue // prune keeps it as it is
		}
		if !a.under(dir, path.Dir(r)) {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(r))
		if st, err := os.Lstat(p); err == nil && a.untouched(r, p, st) {
			out[rec.Cid]++
		}
	}
	for c, rs := range a.over {
		out[c] += len(rs)
	}
	return out
}

// keepSpare notes r, a file prune keeps for now (see spareFile).
func (a *applier) keepSpare(r string, rec Record) {
	if a.spares == nil {
		a.spares = map[string][]spare{}
	}
	a.spares[rec.Cid] = append(a.spares[rec.Cid], spare{rel: r})
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

// setAside moves the file at r (p, rec: as the mirror wrote it, which the
// version writes over) aside under a temporary name when a target still
// to write wants its bytes. A rename that fails leaves it to be written
// over.
func (a *applier) setAside(r, p string, rec Record) {
	a.dropOver(rec.Cid, r) // its entry has come: no longer a source
	if rec.Type != dag.TypeFile || a.targets[rec.Cid] == 0 {
		return
	}
	tmp, release := dag.HoldTemp(filepath.Dir(p), filepath.Base(p))
	if err := os.Rename(p, tmp); err != nil {
		release()
		return
	}
	delete(a.man, r)
	if a.spares == nil {
		a.spares = map[string][]spare{}
	}
	a.spares[rec.Cid] = append(a.spares[rec.Cid], spare{aside: tmp, release: release})
}

// dropOver forgets r as a file to be written over that holds c's bytes.
func (a *applier) dropOver(c, r string) {
	a.over[c] = slices.DeleteFunc(a.over[c], func(x string) bool { return x == r })
}

// moveHere moves a file holding e's bytes to r (p on disk: nothing there,
// or, over, what the mirror wrote, to be written over), and reports
// whether it did. A source changed since it was looked at, or a rename
// that fails, leaves the write to the caller; so does a target that is
// not the last to want the bytes (a file moved and copied: the copies are
// written from the store, which may read them from the file to move).
func (a *applier) moveHere(e dag.Entry, r, p string, over bool) (bool, error) {
	key := e.Cid.String()
	if a.targets[key] > 1 {
		return false, nil
	}
	if st, err := os.Lstat(p); err == nil && !(over && a.untouched(r, p, st)) || err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, nil // made or changed here meanwhile: entry sees it
	}
	for {
		src, from, ok := a.source(key)
		if !ok {
			return false, nil
		}
		if err := os.Rename(src, p); err != nil {
			continue
		}
		if from.release != nil {
			from.release()
		}
		if from.rel != "" {
			delete(a.man, from.rel)
		}
		a.targets[key]--
		a.toWrite -= int64(e.Size)
		a.res.Moved++
		a.res.wrote(r, e) // its blocks are at r now
		a.res.changed(r, recent.Moved)
		st, err := os.Lstat(p)
		if err != nil {
			return true, err
		}
		a.record(r, e, st)
		return true, nil
	}
}

// source takes a file holding the bytes of the file key, still as the
// mirror wrote it (or as set aside): a spare, else a file the version
// writes over whose entry has not come yet. It returns its path.
func (a *applier) source(key string) (string, spare, bool) {
	for len(a.spares[key]) > 0 {
		s := a.spares[key][0]
		a.spares[key] = a.spares[key][1:]
		if s.aside != "" {
			if _, err := os.Lstat(s.aside); err == nil {
				return s.aside, s, true
			}
			s.release()
			continue
		}
		if p, ok := a.asWritten(s.rel, key); ok {
			return p, s, true
		}
	}
	for len(a.over[key]) > 0 {
		q := a.over[key][0]
		a.over[key] = a.over[key][1:]
		if p, ok := a.asWritten(q, key); ok {
			return p, spare{rel: q}, true
		}
	}
	return "", spare{}, false
}

// asWritten returns the path of r if it holds the file key as the mirror
// wrote it.
func (a *applier) asWritten(r, key string) (string, bool) {
	p := filepath.Join(a.dir, filepath.FromSlash(r))
	st, err := os.Lstat(p)
	return p, err == nil && a.man[r].Cid == key && a.untouched(r, p, st)
}

// finishPrune removes what prune kept for the writes and no entry took,
// then the folders it kept them in, if empty (prune's order: deepest
// first), as prune would have; and the files set aside that no entry
// took.
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
				a.res.changed(r+"/", recent.Removed)
			}
		case !a.untouched(r, p, st):
			a.keptChanged(r) // changed here meanwhile: this device's now
		case os.Remove(p) == nil:
			a.res.Removed++
			a.res.changed(r, recent.Removed)
		}
	}
	a.later = nil
	for _, ss := range a.spares {
		for _, s := range ss {
			if s.aside != "" {
				os.Remove(s.aside) // written over in the version
			}
		}
	}
	a.releaseSpares()
}

// releaseSpares lets sweeps remove the files set aside (Apply stopped
// before their targets: the next Apply's sweep removes them).
func (a *applier) releaseSpares() {
	for _, ss := range a.spares {
		for _, s := range ss {
			if s.release != nil {
				s.release()
			}
		}
	}
	a.spares = nil
}
