package dag

import (
	"context"
	"fmt"
	"os"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// HashFile is the CID the regular file at p would have if it were added
// (with the default settings, as `kith add` adds it), computed without
// storing a block: what a file on disk is compared by with a file of a
// DAG whose blocks are not here. progress, if not nil, is called with the
// bytes read so far.
func HashFile(ctx context.Context, p string, progress func(int64)) (cid.Cid, error) {
	f, err := os.Open(p)
	if err != nil {
		return cid.Undef, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return cid.Undef, err
	}
	if !st.Mode().IsRegular() {
		return cid.Undef, fmt.Errorf("hash %s: not a regular file", p)
	}
	res, err := NewImporter(discard{}).Add(ctx, files.NewReaderStatFile(f, st), progress)
	if err != nil {
		return cid.Undef, fmt.Errorf("hash %s: %w", p, err)
	}
	return res.Root, nil
}

// Hash imports node as an add would (with the default settings), storing
// no block: what its CID would be (Kubo's add --only-hash).
func Hash(ctx context.Context, node files.Node, progress func(int64)) (Result, error) {
	return NewImporter(discard{}).Add(ctx, node, progress)
}

// discard is a blockstore that keeps nothing: an import into it only
// computes CIDs.
type discard struct{}

func (discard) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return nil, blockstore.NotFound(c)
}
func (discard) Put(context.Context, blocks.Block) error            { return nil }
func (discard) PutMany(context.Context, []blocks.Block) error      { return nil }
func (discard) Has(context.Context, cid.Cid) (bool, error)         { return false, nil }
func (discard) Delete(context.Context, cid.Cid) error              { return nil }
func (discard) AllKeys(context.Context, func(cid.Cid) error) error { return nil }
func (discard) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	return 0, blockstore.NotFound(c)
}
