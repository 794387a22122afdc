package dag

import (
	"context"
	"fmt"
	"io"
	"path"

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
	db, err := params.New(chunker.NewSizeSplitter(&countingReader{ctx: ctx, r: f, run: run}, im.chunkSize))
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
	it := d.Entries()
	for it.Next() {
		name := it.Name()
		childWhere := path.Join(where, name)
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if _, dup := names[name]; dup {
			return nil, fmt.Errorf("%s: duplicate entry name %q", where, name)
		}
		names[name] = struct{}{}
		child := it.Node()
		nd, err := im.addNode(ctx, run, child, childWhere)
		child.Close()
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
		c.run.total += int64(n)
		if c.run.progress != nil {
			c.run.progress(c.run.total)
		}
	}
	return n, err
}
