package dag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/hamt"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// Profile constants of IPIP-499 "unixfs-v1-2025" (Kubo test-cid-v1-wide).
// Changing any of them changes every CID kith produces.
const (
	// DefaultChunkSize is the fixed leaf size: 1 MiB.
	DefaultChunkSize = 1 << 20
	// MaxChunkSize is the largest leaf an import may make: the profile's
	// 1 MiB, which every IPFS implementation accepts (boxo now allows up to
	// 2 MiB, the Bitswap maximum; older peers stop at 1 MiB).
	MaxChunkSize = 1 << 20
	// FileMaxLinks is the most links one file node of the balanced layout has.
	FileMaxLinks = 1024
	// HAMTFanout is the shard width used once a directory becomes a HAMT.
	HAMTFanout = 1024
	// HAMTShardingThreshold is the estimated directory size (sum of link name
	// and CID byte lengths) at which a basic directory becomes a HAMT.
	HAMTShardingThreshold = 1 << 20
)

// boxo reads the sharding threshold from a package global rather than a
// per-directory option, so it is set once here, before any import can run.
// It is process-wide: every boxo directory in the kith process (including
// any MFS use) follows the profile, which is what we want; nothing else may
// change it, since a different value silently changes directory CIDs.
func init() {
	uio.HAMTShardingSize = HAMTShardingThreshold
}

// Result describes one finished import.
type Result struct {
	// Root is the CID of the imported file or folder.
	Root cid.Cid
	// Size is the number of content bytes read: the file's length, or the sum
	// of all file lengths in a folder tree.
	Size uint64
	// Blocks is the number of distinct blocks written (a block repeated in
	// the content, such as two identical files, counts once).
	Blocks int
}

// Importer turns files and folders into UnixFS DAGs in a blockstore.
// An Importer holds only settings and may be used by several goroutines.
type Importer struct {
	bs        blockstore.Blockstore
	chunkSize int64
	prefix    cid.Prefix
	reuse     *Reuse
	margin    time.Duration // reuseMargin (tests use none)
	noCopy    bool
	// unreadable hears of the files WithUnreadable went on past;
	// leaveOut (WithUnreadableLeftOut) leaves each out.
	unreadable func(where string, err error, asBefore bool)
	leaveOut   bool
}

// Reuse names an earlier import of the same file or folder, Prev, whose
// reading started at Since: a file at the same path, of the same size,
// that has not changed since then is linked from Prev without being read
// (what makes adding a large folder again after a small change cost the
// change, not the folder). "Not changed" is judged as rsync and Syncthing
// judge it, from times, not content: the file's modification time and,
// where the system keeps one, its inode change time (which no tool can set
// back) must both be older than Since, with a margin for coarse clocks.
// A file of Prev is linked only when all its blocks are in the blockstore
// (looked up, not read); otherwise it is read.
type Reuse struct {
	Prev  cid.Cid
	Since time.Time
}

// reuseMargin is how much older than Reuse.Since a file's times must be:
// FAT keeps modification times to 2 seconds.
const reuseMargin = 2 * time.Second

// WithReuse has the importer link the unchanged files of r.Prev.
func WithReuse(r Reuse) ImportOption {
	return func(im *Importer) { im.reuse, im.margin = &r, reuseMargin }
}

// WithNoCopy has the importer put the leaves of files it reads from disk
// as blockstore.FileBlocks: a store that keeps references keeps where
// their bytes are in the files, not the bytes (a folder shared as it
// changes is its own copy). The files must then stay as they are for the
// blocks to stay readable.
func WithNoCopy() ImportOption {
	return func(im *Importer) { im.noCopy = true }
}

// ImportOption changes an Importer's settings.
type ImportOption func(*Importer)

// WithChunkSize sets the leaf size in bytes (default DefaultChunkSize). Any
// other value produces CIDs that differ from the profile; it exists for tests
// and experiments. Add fails if n is not in 1..1 MiB.
func WithChunkSize(n int64) ImportOption {
	return func(im *Importer) { im.chunkSize = n }
}

// NewImporter returns an Importer writing into bs.
func NewImporter(bs blockstore.Blockstore, opts ...ImportOption) *Importer {
	im := &Importer{
		bs:        bs,
		chunkSize: DefaultChunkSize,
		prefix:    merkledag.V1CidPrefix(), // CIDv1, dag-pb, sha2-256; raw leaves switch the codec
	}
	for _, o := range opts {
		o(im)
	}
	return im
}

// importRun is the state of one Add call.
type importRun struct {
	ds       *dagService
	progress func(int64)
	total    int64
	// prevDirs are, with Reuse, the folders of the earlier version by
	// their path in this import ("." for the root); newDirs the folders
	// the earlier version's known listings do not have (all in them is
	// new).
	prevDirs map[string]cid.Cid
	newDirs  map[string]bool
}

// Add imports node (a files.File or files.Directory; folders recurse) and
// returns its root. Files are streamed chunk by chunk, never held whole.
// progress, if not nil, is called from the calling goroutine with the
// cumulative number of content bytes read so far, after every read from a
// file. A symbolic link is kept as a link (a UnixFS symlink node holding
// its target, as Kubo adds one), never followed; entry names that could
// not be written back safely fail with ErrUnsafeName. When Add returns without error
// every block is in bs, and on disk if bs is a blockstore.Syncer. On error
// some blocks may already be stored; they are unreferenced, and garbage
// collection reclaims them.
func (im *Importer) Add(ctx context.Context, node files.Node, progress func(bytes int64)) (Result, error) {
	if im.chunkSize < 1 || im.chunkSize > MaxChunkSize {
		return Result{}, fmt.Errorf("dag: chunk size %d out of range 1..%d", im.chunkSize, MaxChunkSize)
	}
	run := &importRun{ds: newDAGService(ctx, im.bs), progress: progress}
	run.ds.noCopy = im.noCopy
	if im.reuse != nil && im.reuse.Prev.Defined() {
		run.prevDirs = map[string]cid.Cid{".": im.reuse.Prev}
		// A file added again: the earlier version is the file itself.
		if size, ok := im.unchanged(ctx, node, im.reuse.Prev); ok {
			if err := run.ds.close(); err != nil { // nothing was written
				return Result{}, err
			}
			run.add(int64(size))
			return Result{Root: im.reuse.Prev, Size: size}, nil
		}
	}
	root, err := im.addNode(ctx, run, node, ".")
	if cerr := run.ds.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, err
	}
	if s, ok := im.bs.(blockstore.Syncer); ok {
		if err := s.Sync(ctx); err != nil {
			return Result{}, fmt.Errorf("syncing blockstore: %w", err)
		}
	}
	return Result{Root: root.Cid(), Size: uint64(run.total), Blocks: run.ds.blockCount()}, nil
}

func (im *Importer) addNode(ctx context.Context, run *importRun, node files.Node, where string) (ipld.Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch n := node.(type) {
	case *files.Symlink: // checked before files.File, which it also implements
		return im.addSymlink(ctx, run, n.Target, where)
	case files.File:
		return im.addFile(ctx, run, n, where)
	case files.Directory:
		return im.addDir(ctx, run, n, where)
	default:
		return nil, fmt.Errorf("%s: unsupported file type %T", where, node)
	}
}

// addSymlink stores a symbolic link as UnixFS stores one: a dag-pb node
// whose data is the link's target, exactly as written on disk (what it
// points to is not read: on another machine it may point elsewhere, or
// nowhere).
func (im *Importer) addSymlink(ctx context.Context, run *importRun, target, where string) (ipld.Node, error) {
	data, err := ft.SymlinkData(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	nd := merkledag.NodeWithData(data)
	if err := nd.SetCidBuilder(im.prefix); err != nil {
		return nil, err
	}
	if err := run.ds.Add(ctx, nd); err != nil {
		return nil, err
	}
	return nd, nil
}

func (im *Importer) addFile(ctx context.Context, run *importRun, f files.File, where string) (ipld.Node, error) {
	params := helpers.DagBuilderParams{
		Maxlinks:   FileMaxLinks,
		RawLeaves:  true,
		CidBuilder: im.prefix,
		Dagserv:    run.ds,
	}
	var rd io.Reader = &countingReader{ctx: ctx, r: f, run: run}
	if fi, ok := f.(files.FileInfo); ok && im.noCopy && fi.AbsPath() != "" {
		// boxo's builder then marks each leaf with where it is in the
		// file (posinfo), which the DAG service passes to the store.
		params.NoCopy = true
		rd = pathReader{rd, fi}
	}
	db, err := params.New(chunker.NewSizeSplitter(rd, im.chunkSize))
	if err != nil {
		return nil, err
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return nd, nil
}

// addDir imports a folder. It produces exactly what boxo's
// uio.NewDirectory (a DynamicDirectory) produces when its children are
// added one by one, as Kubo's MFS-based adder does, but without its cost:
// every BasicDirectory.AddChild scans all links for a same-named entry, so
// a flat folder of n entries took O(n²) (2 s for 30,000 photos). Because we
// only ever add, a DynamicDirectory ends up sharded exactly when the final
// estimated size reaches the threshold, and both node kinds are canonical
// (dag-pb links are sorted on encode; a HAMT's shape depends only on its
// keys), so we collect the links first and then build one or the other
// directly. TestDirMatchesDynamicDirectory pins the equivalence.
func (im *Importer) addDir(ctx context.Context, run *importRun, d files.Directory, where string) (ipld.Node, error) {
	var links []*ipld.Link
	names := make(map[string]struct{})
	estimated := 0
	prev := im.prevLinks(ctx, run, where)
	it := d.Entries()
	for it.Next() {
		name := it.Name()
		childWhere := path.Join(where, name)
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if _, dup := names[name]; dup {
			return nil, fmt.Errorf("%s: duplicate entry name %q", where, name)
		}
		names[name] = struct{}{}
		child := it.Node()
		pl := prev[name]
		if pl != nil {
			if size, ok := im.unchanged(ctx, child, pl.Cid); ok {
				child.Close()
				run.add(int64(size))
				links = append(links, &ipld.Link{Name: name, Cid: pl.Cid, Size: pl.Size})
				estimated += len(name) + pl.Cid.ByteLen()
				continue
			}
			if _, ok := child.(files.Directory); ok {
				run.prevDirs[childWhere] = pl.Cid // not a folder there: prevLinks finds nothing
			}
		} else if _, ok := child.(files.Directory); ok && (prev != nil || run.newDirs[where]) {
			if run.newDirs == nil {
				run.newDirs = map[string]bool{}
			}
			run.newDirs[childWhere] = true
		}
		var nd ipld.Node
		var err error
		u, unread := child.(*unreadableFile)
		if unread {
			err = readError{u.err} // not opened
		} else {
			nd, err = im.addNode(ctx, run, child, childWhere)
		}
		child.Close()
		var re readError
		if _, isDir := child.(files.Directory); err != nil && !isDir && errors.As(err, &re) {
			// A file that could not be read (opened, or read to its end):
			// shared as it was (a file of the earlier version), or left
			// out (new: the earlier version's folder lacks it, or is new);
			// else, as without WithUnreadable, the import fails on it.
			asBefore := !im.leaveOut && pl != nil && im.wholeEntry(ctx, pl.Cid, unread && u.stat.IsDir())
			if im.unreadable == nil || (!im.leaveOut && ((prev == nil && !run.newDirs[where]) || (pl != nil && !asBefore))) {
				return nil, err
			}
			im.unreadable(childWhere, re.err, asBefore)
			if asBefore {
				links = append(links, &ipld.Link{Name: name, Cid: pl.Cid, Size: pl.Size})
				estimated += len(name) + pl.Cid.ByteLen()
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		// Keep only the link: holding child nodes would keep up to 1 MiB of
		// leaf data per small file alive until the folder is done.
		l, err := ipld.MakeLink(nd)
		if err != nil {
			return nil, err
		}
		l.Name = name
		links = append(links, l)
		// boxo's estimate: name bytes plus CID bytes per link.
		estimated += len(name) + l.Cid.ByteLen()
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	var nd ipld.Node
	if estimated < uio.HAMTShardingSize { // boxo shards at >= the threshold
		pn := ft.EmptyDirNode()
		if err := pn.SetCidBuilder(im.prefix); err != nil {
			return nil, err
		}
		for _, l := range links {
			if err := pn.AddRawLink(l.Name, l); err != nil {
				return nil, err
			}
		}
		nd = pn
	} else {
		shard, err := hamt.NewShard(run.ds, HAMTFanout)
		if err != nil {
			return nil, err
		}
		shard.SetCidBuilder(im.prefix)
		for _, l := range links {
			if err := shard.SetLink(ctx, l.Name, l); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		if nd, err = shard.Node(); err != nil { // also adds the shard nodes
			return nil, err
		}
	}
	if err := run.ds.Add(ctx, nd); err != nil {
		return nil, err
	}
	return nd, nil
}

// prevLinks are, with Reuse, the entries of the earlier version's folder
// at where, by name; nil when there is none (or it cannot be read: its
// files are then read again).
func (im *Importer) prevLinks(ctx context.Context, run *importRun, where string) map[string]*ipld.Link {
	c, ok := run.prevDirs[where]
	if !ok {
		return nil
	}
	dir, err := openDir(ctx, readDAG{im.bs}, c)
	if err != nil {
		return nil
	}
	links, err := dir.Links(ctx)
	if err != nil {
		return nil
	}
	out := make(map[string]*ipld.Link, len(links))
	for _, l := range links {
		out[l.Name] = l
	}
	return out
}

// unchanged reports whether node, a regular file read from disk, is the
// file prev of the earlier version (Reuse): the same size, and no change
// since that version was read. It returns the file's size.
func (im *Importer) unchanged(ctx context.Context, node files.Node, prev cid.Cid) (uint64, bool) {
	if _, link := node.(*files.Symlink); link {
		return 0, false
	}
	fi, ok := node.(files.FileInfo)
	if !ok {
		return 0, false
	}
	st := fi.Stat()
	if st == nil || !st.Mode().IsRegular() {
		return 0, false
	}
	before := im.reuse.Since.Add(-im.margin)
	if !st.ModTime().Before(before) || !changeTime(st).Before(before) {
		return 0, false
	}
	rd := readDAG{im.bs}
	e, err := childInfo(ctx, rd, prev)
	if err != nil || e.Type != TypeFile || e.Size != uint64(st.Size()) || !im.whole(ctx, rd, prev) {
		return 0, false
	}
	return e.Size, true
}

// wholeEntry reports whether c is a file (a folder, if dir) whose every
// block is in the store.
func (im *Importer) wholeEntry(ctx context.Context, c cid.Cid, dir bool) bool {
	rd := readDAG{im.bs}
	e, err := childInfo(ctx, rd, c)
	want := TypeFile
	if dir {
		want = TypeDir
	}
	return err == nil && e.Type == want && im.whole(ctx, rd, c)
}

// whole reports whether every block of the file c is in the store (an
// interrupted gc can leave a root without its leaves): what is linked
// from the earlier version must be there, as what is read would be.
// Leaves are looked up, not read.
func (im *Importer) whole(ctx context.Context, rd readDAG, c cid.Cid) bool {
	if c.Prefix().Codec == cid.Raw {
		ok, err := im.bs.Has(ctx, c)
		return err == nil && ok
	}
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return false
	}
	for _, l := range nd.Links() {
		if !im.whole(ctx, rd, l.Cid) {
			return false
		}
	}
	return true
}

// add counts n more content bytes, as if read.
func (run *importRun) add(n int64) {
	run.total += n
	if run.progress != nil {
		run.progress(run.total)
	}
}

// pathReader is a file's reader that also says where the file is.
type pathReader struct {
	io.Reader
	files.FileInfo
}

// countingReader reports progress and stops reading once ctx ends, so a
// cancelled import of a large file stops within one chunk.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	run *importRun
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.run.add(int64(n))
	}
	if err != nil && err != io.EOF && c.ctx.Err() == nil {
		err = readError{err}
	}
	return n, err
}

// readError is a file's own read failing (a range another program
// locked, a permission taken away while reading), not the store's.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }
