package mirror

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// Progress is how far an Apply is: in Phase "compare" it hashes the files
// here that may already hold the version's bytes, in "fetch" it fetches
// the files it writes or must compare, in "write" it writes them; Done of
// Total bytes.
type Progress struct {
	Phase       string
	Done, Total int64
}

// The phases of an Apply, in order.
const (
	PhaseCompare = "compare"
	PhaseFetch   = "fetch"
	PhaseWrite   = "write"
)

func (a *applier) report(phase string, done, total int64) {
	if a.progress != nil {
		a.progress(Progress{Phase: phase, Done: done, Total: total})
	}
}

// fetchNeeded fetches, in one go, the files of the version that Apply
// will read: those it writes (missing here, or as it wrote an older
// version), and those it must compare byte for byte with a file here of
// the same size whose hash differs from the version's CID (a version made
// with other settings than kith's). A file here that hashes to the
// version's CID is known to hold its bytes (hashed) and is not fetched;
// nor is one kept as it is (another size or kind). What this guesses
// wrong (the disk changed meanwhile) ensure fetches when it is read. It
// sets toWrite, the bytes Apply will write as far as it can tell, and
// settled, the files it need not look at again.
func (a *applier) fetchNeeded(dir string, items []item) error {
	need := map[cid.Cid]bool{}
	var needBytes int64
	type candidate struct {
		it   item
		path string
	}
	var hash []candidate
	var hashBytes int64
	// Folders that are real here, or missing (to be made): what is below
	// a link or a file is kept unvisited, never looked at through it.
	ok := map[string]bool{".": true}
	for _, it := range items {
		e := it.e
		if !ok[path.Dir(it.rel)] {
			continue
		}
		if e.Type != dag.TypeDir && a.theirsUnchanged(it.rel, e) {
			a.settled[it.rel] = true
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(it.rel))
		if e.Type == dag.TypeDir {
			st, err := os.Lstat(p)
			ok[it.rel] = err != nil || st.IsDir()
			continue
		}
		if e.Type != dag.TypeFile {
			continue
		}
		st, err := os.Lstat(p)
		switch {
		case err != nil: // not here (or not readable): written
			if errors.Is(err, fs.ErrNotExist) {
				a.targets[e.Cid.String()]++ // or moved here (moveHere)
			}
		case a.untouched(it.rel, p, st) && !a.oursChanged(it.rel):
			rec := a.man[it.rel]
			if rec.Type == e.Type && rec.Cid == e.Cid.String() {
				// As written, and the same in this version: Apply passes
				// it by (were it changed meanwhile, it would be kept
				// anyway).
				a.settled[it.rel] = true
				continue
			}
			if rec.Type == dag.TypeFile && st.Mode().IsRegular() {
				// Written over: its bytes may go to another target first.
				a.over[rec.Cid] = append(a.over[rec.Cid], it.rel)
				a.targets[e.Cid.String()]++
			}
		case st.Mode().IsRegular() && uint64(st.Size()) == e.Size:
			hash = append(hash, candidate{it, p})
			hashBytes += int64(e.Size)
			continue
		case st.IsDir() || (!a.v.Revert && !a.v.Sync):
			continue // kept as it is (Sync: its conflict copy is written)
		}
		a.toWrite += int64(e.Size)
		if !need[e.Cid] {
			need[e.Cid] = true
			needBytes += int64(e.Size)
		}
	}
	if a.v.Fetch == nil {
		return nil // the store holds it all: compared byte for byte
	}
	// A file the version moved is moved here (move.go), not fetched: its
	// last target takes a file as written elsewhere by a rename (ensure
	// fetches it if that fails).
	if len(need) > 0 {
		src := a.movable(dir)
		for _, it := range items {
			if k := it.e.Cid.String(); it.e.Type == dag.TypeFile && need[it.e.Cid] && a.targets[k] == 1 && src[k] > 0 {
				delete(need, it.e.Cid)
				needBytes -= int64(it.e.Size)
			}
		}
	}
	var hashed int64
	for _, h := range hash {
		e := h.it.e
		a.report(PhaseCompare, hashed, hashBytes)
		c, err := dag.HashFile(a.ctx, h.path, func(n int64) { a.report(PhaseCompare, hashed+n, hashBytes) })
		switch {
		case err == nil && c == e.Cid:
			a.hashed[h.it.rel] = true
		case a.ctx.Err() != nil:
			return a.ctx.Err()
		default:
			if a.v.Revert {
				a.toWrite += int64(e.Size)
			}
			if !need[e.Cid] {
				need[e.Cid] = true
				needBytes += int64(e.Size)
			}
		}
		hashed += int64(e.Size)
	}
	if len(need) == 0 {
		return nil
	}
	a.report(PhaseFetch, 0, needBytes)
	n, err := a.v.Fetch(a.ctx, a.v.Root, func(c cid.Cid) bool { return need[c] }, func(done int64) {
		a.report(PhaseFetch, min(done, needBytes), needBytes)
	})
	a.res.Fetched += n
	if err != nil {
		return err
	}
	a.have = need
	return nil
}

// ensure makes the file c whole in the store before it is read, unless it
// was fetched with the others (or the store holds the whole version).
func (a *applier) ensure(c cid.Cid) error {
	if a.v.Fetch == nil || a.have[c] {
		return nil
	}
	n, err := a.v.Fetch(a.ctx, c, nil, nil)
	a.res.Fetched += n
	if err != nil {
		return fetchError{err}
	}
	a.have[c] = true
	return nil
}

// writeTo writes the version's c at p (dag.WriteTo). A block the store
// keeps as where it is in a file of the folder can be gone by the time it
// is read: this Apply wrote over that file a moment before (a file of the
// version holding what another file held, a conflict copy of bytes that
// were in the file now replaced). Then c is fetched again, the blocks the
// store lost with their bytes, and written once more.
func (a *applier) writeTo(c cid.Cid, p string, progress func(int64), opts ...dag.WriteOption) error {
	err := dag.WriteTo(a.ctx, a.v.Store, c, p, progress, opts...)
	if !errors.Is(err, blockstore.ErrFileChanged) || a.v.Fetch == nil {
		return err
	}
	n, ferr := a.v.Fetch(a.ctx, c, nil, nil)
	a.res.Fetched += n
	if ferr != nil {
		return fetchError{errors.Join(err, ferr)}
	}
	return dag.WriteTo(a.ctx, a.v.Store, c, p, progress, opts...)
}
