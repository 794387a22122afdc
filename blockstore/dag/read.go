package dag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// Entry types.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
)

var (
	// ErrIsDir is returned when a file operation meets a folder.
	ErrIsDir = errors.New("is a folder, not a file")
	// ErrNotDir is returned when a folder operation meets a file.
	ErrNotDir = errors.New("is a file, not a folder")
	// ErrIsSymlink is returned when a file operation meets a symbolic link.
	ErrIsSymlink = errors.New("is a symbolic link")
	// ErrUnsupported is returned for UnixFS nodes kith does not handle
	// (metadata nodes, non-UnixFS dag-pb).
	ErrUnsupported = errors.New("unsupported UnixFS node")
)

// Entry describes a file or folder in a DAG.
type Entry struct {
	// Name is the entry's name inside its folder; empty for Stat's result.
	Name string `json:"name,omitempty"`
	// Cid is the entry's root block.
	Cid cid.Cid `json:"cid"`
	// Type is TypeFile, TypeDir or TypeSymlink.
	Type string `json:"type"`
	// Size is the content size in bytes; see Stat and Ls for folders. A
	// symbolic link's is its target's length (as `ls -l` says), and it
	// counts for nothing in a folder's size.
	Size uint64 `json:"size"`
	// Target is a symbolic link's target, as it was written on disk.
	Target string `json:"target,omitempty"`
}

// Stat describes the file or folder at c. A folder's Size is the sum of the
// lengths of every file below it (the same number Add reports), which means
// reading every folder node and every file's root block, but no file data.
// Missing blocks give errors matching blockstore.ErrNotFound.
func Stat(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) (Entry, error) {
	rd := readDAG{bs}
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return Entry{}, err
	}
	typ, size, err := nodeInfo(nd)
	if err != nil {
		return Entry{}, err
	}
	if typ == TypeDir {
		if size, err = treeSize(ctx, rd, nd); err != nil {
			return Entry{}, err
		}
	}
	return Entry{Cid: c, Type: typ, Size: size, Target: linkTarget(nd)}, nil
}

// Ls lists the folder at c, sorted by name; basic and HAMT-sharded folders
// alike. A file's Size is its exact length (from its root block). A
// sub-folder's Size is the Tsize recorded in the link: the bytes of all
// blocks under it, slightly more than its content, because summing the real
// content would read the whole subtree; call Stat for the exact figure.
func Ls(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) ([]Entry, error) {
	rd := readDAG{bs}
	dir, err := openDir(ctx, rd, c)
	if err != nil {
		return nil, err
	}
	var out []Entry
	err = dir.ForEachLink(ctx, func(l *ipld.Link) error {
		e, err := childInfo(ctx, rd, l.Cid)
		if err != nil {
			return fmt.Errorf("%s: %w", l.Name, err)
		}
		if e.Type == TypeDir {
			e.Size = l.Size
		}
		e.Name = l.Name
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// HAMT folders enumerate in hash order; sort so output is stable.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FirstName is the name of the folder at c's first entry, by name ("" for
// an empty folder). It reads the folder's own nodes, none of its entries;
// a file is ErrNotDir.
func FirstName(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) (string, error) {
	dir, err := openDir(ctx, readDAG{bs}, c)
	if err != nil {
		return "", err
	}
	first, seen := "", false
	err = dir.ForEachLink(ctx, func(l *ipld.Link) error {
		if !seen || l.Name < first {
			first, seen = l.Name, true
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return first, nil
}

// StatRoot describes c from its own block alone, for content that may not
// be here: a file's Size is exact; a folder's is the sum of its links'
// sizes, the bytes of every block below it (slightly more than its
// content, as Ls reports sub-folders).
func StatRoot(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) (Entry, error) {
	nd, err := readDAG{bs}.Get(ctx, c)
	if err != nil {
		return Entry{}, err
	}
	typ, size, err := nodeInfo(nd)
	if err != nil {
		return Entry{}, err
	}
	if typ == TypeDir {
		for _, l := range nd.Links() {
			size += l.Size
		}
	}
	return Entry{Cid: c, Type: typ, Size: size, Target: linkTarget(nd)}, nil
}

// LsLinks lists the folder at c as Ls does, except that a raw file's Size
// is its link's: the folder's nodes and its dag-pb children's root blocks
// are read, the raw files (whole small files) are not. It is made for a
// store that fetches from peers; when that store is a Prefetcher, the
// dag-pb children are asked for in one request.
func LsLinks(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) ([]Entry, error) {
	rd := readDAG{bs}
	dir, err := openDir(ctx, rd, c)
	if err != nil {
		return nil, err
	}
	links, err := dir.Links(ctx)
	if err != nil {
		return nil, err
	}
	if pf, ok := bs.(Prefetcher); ok {
		var nodes []cid.Cid
		for _, l := range links {
			if l.Cid.Type() == cid.DagProtobuf {
				nodes = append(nodes, l.Cid)
			}
		}
		if len(nodes) > 0 {
			pf.Prefetch(ctx, nodes)
		}
	}
	out := make([]Entry, 0, len(links))
	for _, l := range links {
		e := Entry{Name: l.Name, Cid: l.Cid, Type: TypeFile, Size: l.Size}
		if l.Cid.Type() != cid.Raw {
			nd, err := rd.Get(ctx, l.Cid)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.Name, err)
			}
			var size uint64
			if e.Type, size, err = nodeInfo(nd); err != nil {
				return nil, fmt.Errorf("%s: %w", l.Name, err)
			}
			if e.Type != TypeDir {
				e.Size = size
			}
			e.Target = linkTarget(nd)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Open returns a streaming, seekable reader over the file at c and its
// length. Blocks are fetched from bs as reading proceeds; a missing one
// surfaces from Read as an error matching blockstore.ErrNotFound. ctx bounds
// the reader's whole life, not just the call. The caller closes the reader.
func Open(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) (io.ReadSeekCloser, uint64, error) {
	rd := readDAG{bs}
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	typ, _, err := nodeInfo(nd)
	if err != nil {
		return nil, 0, err
	}
	switch typ {
	case TypeDir:
		return nil, 0, fmt.Errorf("%s: %w", c, ErrIsDir)
	case TypeSymlink:
		return nil, 0, fmt.Errorf("%s: %w (to %s)", c, ErrIsSymlink, linkTarget(nd))
	}
	r, err := uio.NewDagReader(ctx, nd, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", c, err)
	}
	return r, r.Size(), nil
}

// nodeInfo classifies a decoded node. For files it returns the content
// length; for folders the size is 0 (callers decide how to size folders).
func nodeInfo(nd ipld.Node) (string, uint64, error) {
	switch n := nd.(type) {
	case *merkledag.RawNode:
		return TypeFile, uint64(len(n.RawData())), nil
	case *merkledag.ProtoNode:
		fs, err := ft.FSNodeFromBytes(n.Data())
		if err != nil {
			return "", 0, fmt.Errorf("%s: not a UnixFS node: %w", nd.Cid(), err)
		}
		switch fs.Type() {
		case ft.TFile, ft.TRaw:
			return TypeFile, fs.FileSize(), nil
		case ft.TDirectory, ft.THAMTShard:
			return TypeDir, 0, nil
		case ft.TSymlink:
			if len(n.Links()) > 0 {
				return "", 0, fmt.Errorf("%s: %w (a symbolic link with links)", nd.Cid(), ErrUnsupported)
			}
			return TypeSymlink, uint64(len(fs.Data())), nil
		default:
			return "", 0, fmt.Errorf("%s: %w (type %s)", nd.Cid(), ErrUnsupported, fs.Type())
		}
	default:
		return "", 0, fmt.Errorf("%s: %w", nd.Cid(), ErrUnsupported)
	}
}

// linkTarget is the target of the symbolic link nd, "" for any other node.
func linkTarget(nd ipld.Node) string {
	pn, ok := nd.(*merkledag.ProtoNode)
	if !ok {
		return ""
	}
	fs, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil || fs.Type() != ft.TSymlink {
		return ""
	}
	return string(fs.Data())
}

// childInfo describes the node at c (type, size, a link's target; not
// its name), skipping the block read for raw leaves, whose length is their
// block size.
func childInfo(ctx context.Context, rd readDAG, c cid.Cid) (Entry, error) {
	if c.Prefix().Codec == cid.Raw {
		n, err := rd.bs.GetSize(ctx, c)
		if err != nil {
			return Entry{}, err
		}
		return Entry{Cid: c, Type: TypeFile, Size: uint64(n)}, nil
	}
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return Entry{}, err
	}
	typ, size, err := nodeInfo(nd)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Cid: c, Type: typ, Size: size, Target: linkTarget(nd)}, nil
}

// openDir loads the folder at c, basic or HAMT.
func openDir(ctx context.Context, rd readDAG, c cid.Cid) (uio.Directory, error) {
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return dirFromNode(rd, nd)
}

func dirFromNode(rd readDAG, nd ipld.Node) (uio.Directory, error) {
	typ, _, err := nodeInfo(nd)
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeSymlink:
		return nil, fmt.Errorf("%s: %w (to %s)", nd.Cid(), ErrIsSymlink, linkTarget(nd))
	case TypeFile:
		return nil, fmt.Errorf("%s: %w", nd.Cid(), ErrNotDir)
	}
	dir, err := uio.NewDirectoryFromNode(rd, nd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nd.Cid(), err)
	}
	return dir, nil
}

// treeSize sums the content length of every file below the folder nd.
func treeSize(ctx context.Context, rd readDAG, nd ipld.Node) (uint64, error) {
	dir, err := dirFromNode(rd, nd)
	if err != nil {
		return 0, err
	}
	var total uint64
	err = dir.ForEachLink(ctx, func(l *ipld.Link) error {
		if l.Cid.Prefix().Codec == cid.Raw {
			n, err := rd.bs.GetSize(ctx, l.Cid)
			total += uint64(n)
			return err
		}
		child, err := rd.Get(ctx, l.Cid)
		if err != nil {
			return err
		}
		typ, size, err := nodeInfo(child)
		if err != nil {
			return err
		}
		switch typ {
		case TypeDir:
			size, err = treeSize(ctx, rd, child)
			if err != nil {
				return err
			}
		case TypeSymlink:
			size = 0 // a link is not content
		}
		total += size
		return nil
	})
	return total, err
}
