package dag

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// ErrNotRawLeaves is FileLeaves' answer for a file whose bytes are not all
// in raw leaves (bytes kept inside dag-pb nodes, as older IPFS profiles
// do): no leaf of it can be kept as where it is in a file.
var ErrNotRawLeaves = errors.New("file bytes are not all in raw leaves")

// FileLeaves calls fn, in order, with each raw leaf of the file at c and
// where its bytes are in the file (offset, size), reading only the file's
// inner nodes, never a leaf: their sizes are the inner nodes' (a file of
// one leaf asks the store its size).
func FileLeaves(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, fn func(leaf cid.Cid, off int64, size int) error) error {
	return FileLeavesOf(ctx, bs, c, -1, fn)
}

// FileLeavesOf is FileLeaves for a file of size bytes (-1: not known):
// a file of one leaf is that leaf whole, whatever the store can say of it
// (it may keep it as where it was in a file that moved).
func FileLeavesOf(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, size int64, fn func(leaf cid.Cid, off int64, size int) error) error {
	if c.Prefix().Codec == cid.Raw && size >= 0 && size <= 1<<31 {
		return fn(c, 0, int(size))
	}
	var off int64
	var walk func(c cid.Cid, size int) error
	walk = func(c cid.Cid, n int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Prefix().Codec == cid.Raw {
			if n < 0 {
				var err error
				if n, err = bs.GetSize(ctx, c); err != nil {
					return err
				}
			}
			if err := fn(c, off, n); err != nil {
				return err
			}
			off += int64(n)
			return nil
		}
		b, err := bs.Get(ctx, c)
		if err != nil {
			return err
		}
		pn, err := merkledag.DecodeProtobuf(b.RawData())
		if err != nil {
			return fmt.Errorf("file node %s: %w", c, err)
		}
		fsn, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return fmt.Errorf("file node %s: %w", c, err)
		}
		if fsn.Type() != ft.TFile && fsn.Type() != ft.TRaw {
			return fmt.Errorf("%s: %w", c, ErrIsDir)
		}
		if len(fsn.Data()) > 0 {
			return ErrNotRawLeaves
		}
		sizes := fsn.BlockSizes()
		for i, l := range pn.Links() {
			n := -1
			if len(sizes) == len(pn.Links()) && sizes[i] <= 1<<31 {
				n = int(sizes[i])
			}
			if err := walk(l.Cid, n); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c, -1)
}
