package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/web/api"
)

// The node is the API's backend.
var _ api.Backend = (*Node)(nil)

func report(progress func(api.Progress), p api.Progress) {
	if progress != nil {
		progress(p)
	}
}

// Add imports a file or folder and pins it. The add holds a pin lock from
// its first block until its pin is written, so a gc running meanwhile cannot
// take its blocks; the importer syncs every block to disk before the pin is
// written, so a pin never points at blocks a crash could lose.
//
// The modes and times the entries carry (the CLI streams them when the
// daemon cannot read the folder) are kept with the pin, as a share's are
// (shareMeta), so that a share of the content carries them.
func (n *Node) Add(ctx context.Context, name string, node files.Node, opts api.AddOptions, progress func(api.Progress)) (api.AddResult, error) {
	if opts.NoCopy {
		return api.AddResult{}, fmt.Errorf("add %s without a copy: the daemon must read the files itself (give their path): %w", name, api.ErrInvalid)
	}
	if opts.SkipUnreadable {
		return api.AddResult{}, fmt.Errorf("add %s leaving out what cannot be read: the daemon must read the files itself (give their path): %w", name, api.ErrInvalid)
	}
	m := mirror.Meta{}
	return n.add(ctx, name, mirror.CollectMeta(node, m), opts, progress, m)
}

// add is Add with the modes and times its import collected (nil: none
// collected) and import options (a watched folder's re-add reuses the
// files of its earlier version: dag.WithReuse).
func (n *Node) add(ctx context.Context, name string, node files.Node, opts api.AddOptions, progress func(api.Progress), meta mirror.Meta, imOpts ...dag.ImportOption) (api.AddResult, error) {
	unlock := n.gcl.PinLock()
	defer unlock()
	im := dag.NewImporter(n.store, imOpts...)
	meter := newRateMeter(time.Now)
	// The user's file is the copy they read: its blocks need not stay in
	// the page cache (see blockstore.BypassCache).
	res, err := im.Add(blockstore.BypassCache(ctx), node, func(b int64) {
		report(progress, api.Progress{Phase: "add", Bytes: b, Rate: meter.observe(b)})
	})
	n.trim.moved(int64(res.Size))
	if err != nil {
		return api.AddResult{}, fmt.Errorf("add %s: %w", name, err)
	}
	pinName := opts.Name
	if pinName == "" {
		pinName = name
	}
	out := api.AddResult{Cid: res.Root.String(), Name: pinName, Size: res.Size, Blocks: res.Blocks}
	if opts.NoPin {
		return out, nil
	}
	pin := blockstore.Pin{Cid: res.Root, Name: pinName, Size: res.Size, Created: time.Now().UTC(), Private: opts.Private}
	// Content pinned private before (added --private, shared in a group)
	// stays private: only kith pin add --private=false announces it.
	var old blockstore.Pin
	had := false
	if others, err := n.store.PinsOf(ctx, res.Root); err == nil {
		old, had = userPin(others)
		pin.Private = pin.Private || (had && old.Private)
		pin.Meta = old.Meta // a share's modes and times stay (Undef when !had)
	}
	if len(meta) > 0 {
		mc, err := n.storeMeta(ctx, meta, mirror.Versions{})
		if err != nil {
			return api.AddResult{}, fmt.Errorf("add %s: %w", name, err)
		}
		if mc.Defined() {
			pin.Meta = mc
		}
	}
	if err := n.store.AddPin(ctx, pin); err != nil {
		return api.AddResult{}, fmt.Errorf("pin %s: %w", res.Root, err)
	}
	out.Pinned = true
	out.Private = pin.Private
	out.Ticket = n.ticket(res.Root, pinName, pin.Meta)
	n.reannounce(ctx, old, had, pin)
	return out, nil
}

// AddPaths imports the file or folder at path, reading it directly, or,
// with opts.Wrap, those at several paths as the entries of one new
// folder, pinned under opts.Wrap (unless opts.Name says otherwise).
//
// The modes and times of what it added are kept with the pin (addMeta),
// and its ticket carries them: a friend's get gives them to what it
// writes, as a group's share does.
func (n *Node) AddPaths(ctx context.Context, paths []string, opts api.AddOptions, progress func(api.Progress)) (api.AddResult, error) {
	return n.addPaths(ctx, paths, opts, progress, true)
}

// addPaths is AddPaths with import options (see add); withMeta keeps
// the modes and times of what it adds with the pin, for its ticket (a
// watch shares its own: shareMeta).
func (n *Node) addPaths(ctx context.Context, paths []string, opts api.AddOptions, progress func(api.Progress), withMeta bool, imOpts ...dag.ImportOption) (api.AddResult, error) {
	if len(paths) == 0 || (len(paths) > 1 && opts.Wrap == "") {
		return api.AddResult{}, fmt.Errorf("add %d paths: one at a time, or wrapped in a folder: %w", len(paths), api.ErrInvalid)
	}
	// One path added again: the files that did not change since the last
	// add of it are linked from that version, not read (addIndex).
	since := time.Now()
	single, readMeta := "", false
	if len(paths) == 1 && opts.Wrap == "" {
		single = filepath.Clean(paths[0])
		if o, ok := n.adds.reuse(single); ok && !dag.Reuses(imOpts) {
			imOpts = append(imOpts, o)
		}
	}
	if withMeta && dag.Reuses(imOpts) {
		// An earlier version's files are reused without being read: their
		// modes and times are read from the folder once it is added.
		withMeta, readMeta = false, !opts.NoPin
	}
	if opts.NoCopy {
		imOpts = append(slices.Clip(imOpts), dag.WithNoCopy())
	}
	var unread unreadFiles
	if opts.SkipUnreadable {
		imOpts = append(slices.Clip(imOpts), dag.WithUnreadableLeftOut(unread.report))
	}
	exclude, err := dag.NewExclusion(opts.Exclude)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	// kith's own repo (its identity key, the API token, every block) is
	// never added: left out of a folder that holds it (a home folder),
	// refused when named.
	exclude = exclude.WithoutFolder(n.repo.dir)
	var skipped dag.Skipped
	exclude = exclude.Reporting(&skipped)
	var size int64
	for _, path := range paths {
		st, err := statForAdd(path, opts)
		if err != nil {
			return api.AddResult{}, err
		}
		if repo, ok := exclude.Within(path); ok {
			return api.AddResult{}, fmt.Errorf("add %s: %w", path, api.InRepo(repo))
		}
		if st.Mode().IsRegular() {
			size += st.Size()
		}
	}
	// Fail before reading anything rather than at the first batch that no
	// longer fits (folders are sized as they are read).
	if size > 0 && !opts.NoCopy {
		if err := n.store.CheckSpace(size); err != nil {
			return api.AddResult{}, err
		}
	}
	node, name, err := dag.OpenAdd(paths, opts.Wrap, exclude)
	if err != nil {
		if errors.Is(err, dag.ErrUnsafeName) || errors.Is(err, dag.ErrSameName) || errors.Is(err, dag.ErrBadPattern) {
			err = fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
		return api.AddResult{}, fmt.Errorf("add %s: %w", name, err)
	}
	defer node.Close()
	total, _ := node.Size()
	// The modes and times are collected as the import reads each entry.
	var meta mirror.Meta
	if withMeta && !opts.NoPin {
		meta = mirror.Meta{}
		node = mirror.CollectMeta(node, meta)
	}
	res, err := n.add(ctx, name, node, opts, func(p api.Progress) {
		p.Total = total
		report(progress, p)
	}, meta, imOpts...)
	res.Skipped, res.SkippedCount = api.SkippedOf(&skipped)
	res.Unreadable, res.UnreadableCount = unread.files(), unread.count
	if len(paths) == 1 {
		err = api.Unreadable(err, paths[0])
	}
	c, cerr := cid.Decode(res.Cid)
	if err == nil && cerr == nil && single != "" {
		n.adds.record(single, c, since, unread.count)
	}
	if err == nil && cerr == nil && readMeta && res.Pinned {
		if mc := n.addMeta(ctx, c, paths, opts.Wrap); mc.Defined() {
			res.Ticket = n.ticket(c, res.Name, mc)
		}
	}
	return res, err
}

// statForAdd checks one path given to AddPaths: absolute, there, and a
// folder only with opts.Recursive. A link given as the path is followed;
// links inside a folder are kept as links (dag.Importer).
func statForAdd(path string, opts api.AddOptions) (fs.FileInfo, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("add path %q must be absolute: %w", path, api.ErrInvalid)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Not found (not an internal error): the daemon may not see the
		// caller's files (a container, a private /tmp), and the client
		// then streams the bytes itself.
		return nil, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("add %s: the daemon finds no such file or folder", path)}
	}
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, api.PathReason(err))
	}
	if st.IsDir() && !opts.Recursive {
		return nil, fmt.Errorf("add %s: it is a folder; use -r to add a folder: %w", path, api.ErrInvalid)
	}
	return st, nil
}

// Cat streams part of a file.
func (n *Node) Cat(ctx context.Context, c cid.Cid, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("offset %d is negative: %w", offset, api.ErrInvalid)
	}
	bs, ctx, end := n.readStore(ctx, c)
	// Its peers gone in the middle, it waits for one that has the rest,
	// as a get does.
	ctx = withReadPatience(ctx, n.readPatience("cat "+c.String()))
	r, size, err := dag.Open(ctx, bs, c)
	if err != nil {
		end()
	}
	if errors.Is(err, dag.ErrIsDir) {
		return nil, fmt.Errorf("%s is a folder: list it with `kith ls`, or save it with `kith get`: %w", c, api.ErrInvalid)
	}
	if errors.Is(err, dag.ErrIsSymlink) {
		return nil, symlinkErr(ctx, n, c)
	}
	if missingRoot(err, c) {
		return nil, n.notFetched(ctx, c)
	}
	if err != nil {
		return nil, fmt.Errorf("cat %s: %w", c, err)
	}
	closer := closeFunc(func() error { err := r.Close(); end(); return err })
	if offset > int64(size) {
		closer.Close()
		return nil, fmt.Errorf("offset %d is past the end of %s (%d bytes): %w", offset, c, size, api.ErrInvalid)
	}
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		closer.Close()
		return nil, fmt.Errorf("cat %s: seek to %d: %w", c, offset, err)
	}
	var rd io.Reader = r
	if length >= 0 {
		rd = io.LimitReader(r, length)
	}
	return struct {
		io.Reader
		io.Closer
	}{rd, closer}, nil
}

// closeFunc is a function as an io.Closer.
type closeFunc func() error

func (f closeFunc) Close() error { return f() }

func toAPIEntry(e dag.Entry) api.Entry {
	return api.Entry{Name: e.Name, Cid: e.Cid.String(), Type: e.Type, Size: e.Size, Target: e.Target}
}

// symlinkErr says that c is a symbolic link, and to what: it has no bytes
// to read and nothing to list.
func symlinkErr(ctx context.Context, n *Node, c cid.Cid) error {
	target := "?"
	if st, err := dag.StatRoot(ctx, n.store, c); err == nil {
		target = st.Target
	}
	return fmt.Errorf("%s is a symbolic link to %s, with nothing to read or list (`kith get` writes it as a link): %w", c, target, api.ErrInvalid)
}

// Ls lists a folder, fetching from peers what is not here (readStore).
func (n *Node) Ls(ctx context.Context, c cid.Cid) ([]api.Entry, error) {
	bs, ctx, end := n.readStore(ctx, c)
	defer end()
	es, err := n.ls(ctx, bs, c)
	if nir := (*notInRepoError)(nil); errors.As(err, &nir) {
		return nil, n.notFetched(ctx, c)
	}
	return es, err
}

// ls lists the folder c as read from bs.
func (n *Node) ls(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) ([]api.Entry, error) {
	es, err := dag.Ls(ctx, bs, c)
	if errors.Is(err, dag.ErrNotDir) {
		return nil, fmt.Errorf("%s is a file: read it with `kith cat`, or save it with `kith get`: %w", c, api.ErrInvalid)
	}
	if errors.Is(err, dag.ErrIsSymlink) {
		return nil, symlinkErr(ctx, n, c)
	}
	if missingRoot(err, c) {
		return nil, notInRepo(c)
	}
	if err != nil {
		return nil, fmt.Errorf("ls %s: %w", c, err)
	}
	out := make([]api.Entry, len(es))
	for i, e := range es {
		out[i] = toAPIEntry(e)
	}
	return out, nil
}

// Stat describes a file or folder.
func (n *Node) Stat(ctx context.Context, c cid.Cid) (api.Entry, error) {
	e, err := dag.Stat(ctx, n.store, c)
	if missingRoot(err, c) {
		return api.Entry{}, notInRepo(c)
	}
	if err != nil {
		return api.Entry{}, fmt.Errorf("stat %s: %w", c, err)
	}
	return toAPIEntry(e), nil
}

// missingBlocks walks the DAG under root and counts the blocks the store lacks.
func missingBlocks(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, progress func(api.Progress)) (int, error) {
	return missingUnder(ctx, bs, []cid.Cid{root}, progress)
}

// missingUnder walks the DAGs under roots and counts the blocks the store
// lacks, each once.
func missingUnder(ctx context.Context, bs blockstore.Blockstore, roots []cid.Cid, progress func(api.Progress)) (int, error) {
	seen := map[cid.Cid]struct{}{}
	stack := slices.Clone(roots)
	missing := 0
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[c]; ok {
			continue
		}
		seen[c] = struct{}{}
		if c.Prefix().Codec == cid.Raw {
			ok, err := bs.Has(ctx, c)
			if err != nil {
				return 0, err
			}
			if !ok {
				missing++
			}
			continue
		}
		b, err := bs.Get(ctx, c)
		if errors.Is(err, blockstore.ErrNotFound) {
			missing++
			continue
		}
		if err != nil {
			return 0, err
		}
		links, err := blockstore.Links(b)
		if err != nil {
			return 0, err
		}
		stack = append(stack, links...)
		if len(seen)%1024 == 0 {
			report(progress, api.Progress{Phase: "check", Count: int64(len(seen))})
		}
	}
	return missing, nil
}

// GC removes every block no pin reaches and gives the space back.
func (n *Node) GC(ctx context.Context, progress func(api.Progress)) (api.GCResult, error) {
	before, _ := n.store.DiskUsage()
	res, err := blockstore.CollectGarbage(ctx, n.store, n.store, n.gcl, func(p blockstore.GCProgress) {
		count := p.Marked
		if p.Phase == blockstore.GCPhaseSweep || p.Phase == blockstore.GCPhaseReclaim {
			count = p.Removed
		}
		report(progress, api.Progress{Phase: p.Phase, Count: int64(count)})
	})
	if err != nil {
		return api.GCResult{}, fmt.Errorf("gc: %w", err)
	}
	if err := n.getCache.emptied(n.repo.dir); err != nil {
		n.log.Warn("could not save the list of finished downloads", "err", err)
	}
	after, _ := n.store.DiskUsage()
	missing := res.Missing
	if missing > 0 {
		// Copies on their way out may lack blocks whose files changed (a
		// synced folder's version before the current one): counted as
		// missing only below pins that stay.
		if m, err := n.missingKept(ctx); err == nil {
			missing = m
		}
	}
	return api.GCResult{Removed: res.Removed, RemovedBytes: res.RemovedBytes, Kept: res.Kept, Missing: missing, DiskBefore: before, DiskAfter: after}, nil
}

// missingKept counts the blocks missing below the pins that stay (all but
// the copies on their way out: releasingRoots) and their metas.
func (n *Node) missingKept(ctx context.Context) (int, error) {
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return 0, err
	}
	releasing := releasingRoots(pins, n.groupShares())
	var roots []cid.Cid
	for _, p := range pins {
		if releasing[p.Cid] {
			continue
		}
		roots = append(roots, p.Cid)
		if p.Meta.Defined() {
			roots = append(roots, p.Meta)
		}
	}
	return missingUnder(ctx, n.store, roots, nil)
}

// RepoStat describes the repo.
func (n *Node) RepoStat(ctx context.Context) (api.RepoStat, error) {
	count, size, err := n.store.Stats(ctx)
	if err != nil {
		return api.RepoStat{}, fmt.Errorf("repo stat: %w", err)
	}
	disk, err := n.store.DiskUsage()
	if err != nil {
		return api.RepoStat{}, fmt.Errorf("repo stat: %w", err)
	}
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return api.RepoStat{}, fmt.Errorf("repo stat: %w", err)
	}
	free, err := n.store.Free()
	if err != nil {
		free = -1
	}
	cached, downloads := n.getCache.size(n.repo.dir)
	refs, err := n.store.FileRefStats(ctx)
	if err != nil {
		return api.RepoStat{}, fmt.Errorf("repo stat: %w", err)
	}
	// Pins counts pinned roots, however many owners keep each.
	return api.RepoStat{Path: n.repo.dir, Blocks: count, Bytes: size, DiskUsage: disk, Pins: len(blockstore.PinnedRoots(pins)), DiskFree: free,
		Cache: cached, CacheMax: n.cacheMax.Load(), CacheDownloads: downloads, InFiles: refs.Bytes, InFilesCount: refs.Files}, nil
}

// Verify re-hashes every block.
func (n *Node) Verify(ctx context.Context, progress func(api.Progress)) (api.VerifyResult, error) {
	checked := 0
	bad, changed, err := blockstore.Verify(ctx, n.store, func(c int) {
		checked = c
		report(progress, api.Progress{Phase: "verify", Count: int64(c)})
	})
	if err != nil {
		return api.VerifyResult{}, fmt.Errorf("verify: %w", err)
	}
	res := api.VerifyResult{Checked: checked, Bad: []string{}, Changed: []string{}, Incomplete: []string{}}
	for _, c := range bad {
		res.Bad = append(res.Bad, c.String())
	}
	// A block whose file changed is gone: its record goes, so that the
	// pins needing it say so and a fetch gets it again.
	for _, c := range changed {
		if err := n.store.Delete(ctx, c); err != nil {
			return api.VerifyResult{}, fmt.Errorf("verify: %w", err)
		}
		res.Changed = append(res.Changed, c.String())
	}
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return api.VerifyResult{}, fmt.Errorf("verify: %w", err)
	}
	releasing := releasingRoots(pins, n.groupShares())
	for _, root := range blockstore.PinnedRoots(pins) {
		if releasing[root] {
			continue // a copy its group no longer shares: it goes (groups.release_delay)
		}
		report(progress, api.Progress{Phase: "pins", Count: int64(len(res.Incomplete))})
		if missing, err := missingBlocks(ctx, n.store, root, nil); err != nil {
			return api.VerifyResult{}, fmt.Errorf("verify pin %s: %w", root, err)
		} else if missing > 0 {
			res.Incomplete = append(res.Incomplete, root.String())
		}
	}
	return res, nil
}

// ExportCAR writes the DAG under c as a CAR stream.
func (n *Node) ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error {
	if err := dag.ExportCAR(ctx, n.store, c, w); err != nil {
		return fmt.Errorf("export %s: %w", c, err)
	}
	return nil
}

// ImportCAR stores a CAR stream's blocks (verified) and pins its roots as
// the user's, named as opts says (carPinName), except a root the user
// already pinned, which keeps its creation time, its privacy and, mostly,
// its name (importedPinName).
func (n *Node) ImportCAR(ctx context.Context, r io.Reader, opts api.ImportOptions, progress func(api.Progress)) (api.ImportResult, error) {
	unlock := n.gcl.PinLock()
	defer unlock()
	cr := &countingReader{r: r, progress: progress, meter: newRateMeter(time.Now)}
	roots, count, err := dag.ImportCAR(blockstore.BypassCache(ctx), n.store, cr)
	if err != nil {
		return api.ImportResult{}, fmt.Errorf("import CAR: %w: %w", err, api.ErrInvalid)
	}
	res := api.ImportResult{Blocks: count, Roots: []string{}}
	for i, root := range roots {
		missing, err := missingBlocks(ctx, n.store, root, nil)
		if err != nil {
			return api.ImportResult{}, fmt.Errorf("check imported root %s: %w", root, err)
		}
		if missing > 0 && !opts.AllowPartial {
			res.Incomplete = append(res.Incomplete, root.String())
			continue
		}
		var size uint64
		if st, err := dag.Stat(ctx, n.store, root); err == nil {
			size = st.Size
		}
		pin := blockstore.Pin{Cid: root, Size: size, Created: time.Now().UTC()}
		first := ""
		if opts.Name == "" {
			// A root that is no folder, or lacks its own block, has no
			// first entry: it stays unnamed.
			first, _ = dag.FirstName(ctx, n.store, root)
		}
		pin.Name = carPinName(opts.Name, i, len(roots), first)
		others, err := n.store.PinsOf(ctx, root)
		if err != nil {
			return api.ImportResult{}, fmt.Errorf("check imported root %s: %w", root, err)
		}
		if old, ok := userPin(others); ok {
			pin.Created, pin.Private = old.Created, old.Private
		}
		pin.Name = importedPinName(others, pin.Name)
		if err := n.store.AddPin(ctx, pin); err != nil {
			return api.ImportResult{}, fmt.Errorf("pin imported root %s: %w", root, err)
		}
		n.announce(pin)
		res.Roots = append(res.Roots, root.String())
	}
	return res, nil
}

type countingReader struct {
	r        io.Reader
	n        int64
	progress func(api.Progress)
	meter    *rateMeter
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	report(c.progress, api.Progress{Phase: "import", Bytes: c.n, Rate: c.meter.observe(c.n)})
	return k, err
}

// Shutdown asks the daemon to stop.
func (n *Node) Shutdown() {
	n.stopOnce.Do(func() { close(n.stop) })
}

// notInRepo is the error of a read of content the repo does not hold. It
// says so in the user's terms and still matches blockstore.ErrNotFound (so
// its kind is not_found, and BrowseStat and BrowseLs then ask peers).
func notInRepo(c cid.Cid) error { return &notInRepoError{c: c} }

// notFetched is the error of cat or ls of c, which is not here and which
// no peer gave (readStore): why nobody could, as a get says it (a
// ticket's sharer that could not be reached, no peers at all). Saying
// "kith get fetches it" there sent the user to a get that fails the same.
func (n *Node) notFetched(ctx context.Context, c cid.Cid) error {
	if n.demand == nil {
		return notInRepo(c)
	}
	return &notInRepoError{c: c, why: &missError{reason: n.explainMiss(ctx, c)}}
}

type notInRepoError struct {
	c   cid.Cid
	why *missError // nil: no peer was asked
}

func (e *notInRepoError) Error() string {
	if e.why != nil {
		return fmt.Sprintf("%s is not in this repo, and no peer gave it. %s", e.c, e.why)
	}
	return fmt.Sprintf("%s is not in this repo: `kith get` fetches it from peers", e.c)
}

func (e *notInRepoError) Is(target error) bool { return target == blockstore.ErrNotFound }

// rootFetchTimeout bounds how long cat and ls wait for the root of
// content that is not here from the peers this node is connected to.
const rootFetchTimeout = 10 * time.Second

// readStore is where cat and ls read c: through the on-demand store when
// its root is here, so what is missing under it (a fetch cut short, a
// folder whose path was followed from a peer) is fetched from peers
// rather than failing half-way, or when a connected peer gives its root
// within rootFetchTimeout (content a friend shares, read without a get
// first); else from the repo alone, where it is "not in this repo". The
// read holds what it reads from gc until end, after which what it
// fetched is the downloads' cache (requestHolds).
func (n *Node) readStore(ctx context.Context, c cid.Cid) (_ blockstore.Blockstore, _ context.Context, end func()) {
	if n.demand == nil {
		return n.store, ctx, func() {}
	}
	ctx, end = n.demandRead(ctx, c)
	if ok, err := n.store.Has(ctx, c); err == nil && ok {
		return n.demand, ctx, end
	}
	if len(n.host.Network().Peers()) == 0 && n.delegated.Len() == 0 {
		return n.store, ctx, end // nobody to ask
	}
	fctx, cancel := context.WithTimeout(ctx, rootFetchTimeout)
	defer cancel()
	if _, err := n.demand.Get(fctx, c); err != nil {
		return n.store, ctx, end
	}
	return n.demand, ctx, end
}

// demandRead starts an on-demand read of the DAG under root: reads under
// the context returned hold what they read from gc until end, and what
// they fetched is then the downloads' cache, in one entry per read.
func (n *Node) demandRead(ctx context.Context, root cid.Cid) (_ context.Context, end func()) {
	return withRequestHolds(withRootHint(ctx, root), &n.demand.reads)
}

// missingRoot reports whether err is a store's miss of c itself (not of a
// block inside it): the message then says so once, in the user's terms.
func missingRoot(err error, c cid.Cid) bool {
	var nf *blockstore.NotFoundError
	return errors.As(err, &nf) && nf.Cid.Equals(c)
}
