package mirror

import (
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// fetchNeeded fetches, in one go, the files of the version that Apply
// will read: those it writes (missing here, or as it wrote an older
// version), and those it must compare byte for byte with a file here of
// the same size whose hash differs from the version's CID (a version made
// with other settings than kith's). A file here that hashes to the
// version's CID is known to hold its bytes (hashed) and is not fetched;
// nor is one kept as it is (another size or kind). What this guesses
// wrong (the disk changed meanwhile) ensure fetches when it is read.
func (a *applier) fetchNeeded(dir string, items []item) error {
	if a.v.Fetch == nil {
		return nil
	}
	need := map[cid.Cid]bool{}
	for _, it := range items {
		e := it.e
		if e.Type != dag.TypeFile || need[e.Cid] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(it.rel))
		st, err := os.Lstat(p)
		switch {
		case err != nil:
			need[e.Cid] = true // not here (or not readable): written
		case a.untouched(it.rel, p, st):
			if rec := a.man[it.rel]; rec.Type != e.Type || rec.Cid != e.Cid.String() {
				need[e.Cid] = true
			}
		case st.Mode().IsRegular() && uint64(st.Size()) == e.Size:
			c, err := dag.HashFile(a.ctx, p)
			switch {
			case err == nil && c == e.Cid:
				a.hashed[it.rel] = true
			case a.ctx.Err() != nil:
				return a.ctx.Err()
			default:
				need[e.Cid] = true
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	n, err := a.v.Fetch(a.ctx, a.v.Root, func(c cid.Cid) bool { return need[c] })
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
	n, err := a.v.Fetch(a.ctx, c, nil)
	a.res.Fetched += n
	if err != nil {
		return err
	}
	a.have[c] = true
	return nil
}
