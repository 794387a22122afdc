package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// Get writes the file or folder ref (what ResolveRef reads: a CID or
// ticket, and a path into it) to out, fetching from peers whatever the
// repo lacks. The fetched blocks stay in the repo (unpinned), so an
// interrupted get resumes where it stopped; once it finished, they are a
// cache that fetch.cache_max bounds (cacheGot).
func (n *Node) Get(ctx context.Context, ref string, out string, exclude []string, progress func(api.Progress)) (api.GetResult, error) {
	x, err := dag.NewExclusion(exclude)
	if err != nil {
		return api.GetResult{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	r, err := n.resolvePath(ctx, ref)
	if err != nil {
		return api.GetResult{}, err
	}
	res, err := n.get(ctx, r, out, x, progress)
	if err == nil && res.Fetched.Bytes > 0 && n.ctx.Err() == nil {
		// After get's hold on c is released, or the trim would keep it.
		n.background(func(ctx context.Context) { n.cacheGot(ctx, r.c, res.Fetched.Bytes) })
	}
	return res, err
}

// get is Get but for the cache; it holds c from gc until it returns, so
// that no gc (a trim of the cache for another get of c) takes blocks it is
// still writing out. Of a folder, it fetches and writes only what x does
// not leave out.
func (n *Node) get(ctx context.Context, r resolved, out string, x dag.Exclusion, progress func(api.Progress)) (api.GetResult, error) {
	c := r.c
	if !filepath.IsAbs(out) {
		return api.GetResult{}, fmt.Errorf("output path %q must be absolute: %w", out, api.ErrInvalid)
	}
	if fi, err := os.Lstat(out); err == nil {
		if size, ok := n.holdsAlready(ctx, c, out, fi, x, progress); ok {
			return api.GetResult{Cid: c.String(), Path: out, Size: size, Existed: true}, nil
		}
		return api.GetResult{}, &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("%s already exists: kith never overwrites; choose another path with -o, or move it away first", out)}
	}
	if err := checkOutputFolder(out); err != nil {
		return api.GetResult{}, err
	}
	defer n.gcl.Hold(c)()
	total := int64(-1)
	fetched, unlock, err := n.fetchPatiently(ctx, c, patience{wait: n.dropWait, within: r.root}, progress, func(progress func(api.Progress)) (api.FetchStats, error) {
		if x.None() {
			return n.fetchBlocks(ctx, c, progress)
		}
		st, size, err := n.ensureExcluding(ctx, c, x, progress)
		total = size
		return st, err
	})
	unlock()
	if err != nil {
		return api.GetResult{}, fmt.Errorf("get %s: %w", c, err)
	}
	var st dag.Entry
	if total < 0 {
		st, err = dag.Stat(ctx, n.store, c)
		total = int64(st.Size)
	} else {
		st, err = dag.StatRoot(ctx, n.store, c) // total: what is written
	}
	if err != nil {
		return api.GetResult{}, fmt.Errorf("get %s: %w", c, err)
	}
	if st.Type == dag.TypeSymlink {
		total = 0 // a link's size is its target's length; nothing is copied
	}
	var written int64
	var left []api.NotWritten
	meter := newRateMeter(time.Now)
	err = dag.WriteTo(ctx, n.store, c, out, func(b int64) {
		written = b
		report(progress, api.Progress{Phase: "write", Bytes: b, Total: total, Rate: meter.observe(b)})
	}, dag.WithExclusion(x), dag.WithUnwritable(func(rel string, why error) {
		left = append(left, api.NotWritten{Path: rel, Kind: notWrittenKind(why), Why: why.Error()})
	}))
	if err != nil {
		if errors.Is(err, dag.ErrNameRefused) { // out's own name
			err = fmt.Errorf("%w: save it under another name: %w", err, api.ErrInvalid)
		} else if errors.Is(err, dag.ErrUnsafeName) || errors.Is(err, fs.ErrExist) || errors.Is(err, dag.ErrInconsistent) {
			err = fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
		return api.GetResult{}, fmt.Errorf("get %s: %w", c, err)
	}
	var touched int
	if st.Type != dag.TypeSymlink {
		if touched, err = n.applySharedMeta(ctx, r, out, notWrittenPaths(left)); err != nil {
			n.log.Warn("get: the files are written, without their modes and times", "cid", c, "path", out, "err", err)
		}
	}
	// The size reported is what was written, never what the root claims.
	return api.GetResult{Cid: c.String(), Path: out, Size: uint64(written), Fetched: fetched, Meta: touched, NotWritten: left}, nil
}

// notWrittenKind sorts why a get left an entry out.
func notWrittenKind(why error) string {
	switch {
	case errors.Is(why, dag.ErrCaseClash):
		return "case"
	case errors.Is(why, dag.ErrNoSymlink):
		return "link"
	case errors.Is(why, dag.ErrTooBig):
		return "size"
	}
	return "name"
}

// notWrittenPaths are the paths of what a get left out.
func notWrittenPaths(left []api.NotWritten) []string {
	ps := make([]string, len(left))
	for i, l := range left {
		ps[i] = l.Path
	}
	return ps
}

// holdsAlready reports whether out (fi) holds c already (a get run
// again), and its size: of a file, c's root is here, of fi's size, and
// the file hashes to c; of a folder, c's folder nodes and files' root
// blocks are here and the folder holds exactly what c does
// (dag.HoldsTree: compared by names and sizes, then read whole, the
// reading reported as the "compare" phase). Nothing got with patterns is
// compared.
func (n *Node) holdsAlready(ctx context.Context, c cid.Cid, out string, fi fs.FileInfo, x dag.Exclusion, progress func(api.Progress)) (uint64, bool) {
	if !x.None() {
		return 0, false
	}
	e, err := dag.StatRoot(ctx, n.store, c)
	switch {
	case err != nil:
		return 0, false
	case fi.Mode().IsRegular():
		if e.Type != dag.TypeFile || e.Size != uint64(fi.Size()) {
			return 0, false
		}
		got, err := dag.HashFile(ctx, out, nil)
		return e.Size, err == nil && got == c
	case fi.IsDir() && e.Type == dag.TypeDir:
		meter := newRateMeter(time.Now)
		same, size, err := dag.HoldsTree(ctx, n.store, c, out, func(done, total int64) {
			report(progress, api.Progress{Phase: "compare", Bytes: done, Total: total, Rate: meter.observe(done)})
		})
		if err != nil {
			n.log.Debug("get: the folder there was not compared", "cid", c, "path", out, "err", err)
		}
		return size, err == nil && same
	}
	return 0, false
}

// checkOutputFolder fails, before anything is fetched, when out cannot be
// written: its folder is missing, is not a folder, or the daemon may not
// write there (learnt by creating and removing a file in it, the one test
// that holds on every platform and file system). Otherwise the user would
// learn it only after the whole download.
func checkOutputFolder(out string) error {
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write %s: the folder %s does not exist: %w", out, dir, api.ErrInvalid)
	case err != nil:
		return fmt.Errorf("cannot write %s: %w", out, api.PathReason(err))
	case !st.IsDir():
		return fmt.Errorf("cannot write %s: %s is not a folder: %w", out, dir, api.ErrInvalid)
	}
	// Named like dag.WriteTo's temporary files, which it removes when a
	// crash left them: so would a probe be.
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".kith-tmp-*")
	if err != nil {
		if err := dag.OutputNameErr(out, err); errors.Is(err, dag.ErrNameRefused) {
			return fmt.Errorf("%w: save it under another name: %w", err, api.ErrInvalid)
		}
		return fmt.Errorf("cannot write in the folder %s: %w", dir, api.PathReason(err))
	}
	f.Close()
	return os.Remove(f.Name())
}
