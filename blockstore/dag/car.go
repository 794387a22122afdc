package dag

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/verifcid"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"

	"github.com/kith-p2p/kith/blockstore"
)

// ErrBadBlock matches (with errors.Is) the error ImportCAR returns for a
// block whose bytes do not hash to its CID.
var ErrBadBlock = errors.New("block does not match its CID")

// ExportCAR writes the DAG under root to w as a CARv1 whose only root is
// root. Every block appears once, in depth-first pre-order following links
// in the order they are stored (the same order on every run, so two exports
// of one DAG are identical byte for byte). A missing block aborts the export
// with an error matching blockstore.ErrNotFound; w then holds a truncated CAR.
func ExportCAR(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	// writerOnly hides any io.WriterAt on w (an *os.File, say): go-car would
	// otherwise write at absolute offsets, wrong for stdout or an appended file.
	car, err := storage.NewWritable(writerOnly{bw}, []cid.Cid{root},
		carv2.WriteAsCarV1(true),
		carv2.StoreIdentityCIDs(true), // export exactly what the DAG links to
	)
	if err != nil {
		return err
	}
	seen := make(map[string]struct{})
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[c.KeyString()]; ok {
			continue
		}
		seen[c.KeyString()] = struct{}{}
		blk, err := bs.Get(ctx, c)
		if err != nil {
			return fmt.Errorf("exporting %s: %w", root, err)
		}
		if err := car.Put(ctx, c.KeyString(), blk.RawData()); err != nil {
			return fmt.Errorf("writing CAR: %w", err)
		}
		links, err := blockstore.Links(blk)
		if err != nil {
			return fmt.Errorf("exporting %s: %w", root, err)
		}
		// Push in reverse so the first link is visited first.
		for i := len(links) - 1; i >= 0; i-- {
			stack = append(stack, links[i])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing CAR: %w", err)
	}
	return nil
}

type writerOnly struct{ w io.Writer }

func (o writerOnly) Write(p []byte) (int, error) { return o.w.Write(p) }

// MaxCARRoots bounds the roots a CAR may name: a CAR file shares a few
// DAGs, and each root may become a pin announced in the DHT.
const MaxCARRoots = 1000

// Bounds of what a CAR may declare. go-car allocates the length a header or
// section declares before reading it, so they are also what a CAR that
// lies about a length makes us allocate (its defaults are 32 MiB and
// 8 MiB, for four bytes of input).
const (
	// maxCARHeader holds MaxCARRoots roots of the longest CIDs verifcid
	// accepts (a 128-byte digest).
	maxCARHeader = 256 << 10
	// maxCARSection is a CID and a block of 2 MiB, the largest block kith
	// (protocol/fetch.MaxBlockSize) and Bitswap carry.
	maxCARSection = 2<<20 + 1<<10
)

// ErrWeakHash means a CID uses a hash kith does not trust (md5, sha1, a
// truncated digest, ...): its blocks could be forged.
var ErrWeakHash = errors.New("uses a hash that is too weak or too short to trust")

// CheckCID refuses CIDs whose hash boxo's verifcid rejects: where a CID
// enters kith (a CAR, the API, a DAG's links), a block named with a weak
// hash could be replaced by another with the same name.
func CheckCID(c cid.Cid) error {
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
		return fmt.Errorf("%w (%v)", ErrWeakHash, err)
	}
	return nil
}

// ImportCAR reads a CARv1 or CARv2 from r and stores its blocks. A CAR is
// untrusted input, so every block is hashed and compared with its CID; the
// first mismatch (or unreadable section) stops the import with an error that
// names the CID and matches ErrBadBlock, and neither that block nor any
// later one is stored. Blocks from earlier batches may already be stored by
// then; they are valid, merely unreferenced, and GC reclaims them. It returns
// the CAR's roots and the number of distinct blocks stored; it does not
// check that the blocks form complete DAGs under the roots. When it returns
// without error every block is in bs, and on disk if bs is a
// blockstore.Syncer.
func ImportCAR(ctx context.Context, bs blockstore.Blockstore, r io.Reader) (roots []cid.Cid, blocks int, err error) {
	// Trusted only in the sense that we verify below ourselves, once,
	// with an error that names the block.
	br, err := carv2.NewBlockReader(bufio.NewReaderSize(r, 1<<20), carv2.WithTrustedCAR(true),
		carv2.MaxAllowedHeaderSize(maxCARHeader), carv2.MaxAllowedSectionSize(maxCARSection))
	if err != nil {
		return nil, 0, fmt.Errorf("not a CAR file, or one cut short (its header does not read: %w)", err)
	}
	if len(br.Roots) > MaxCARRoots {
		return nil, 0, fmt.Errorf("the CAR names %d roots, more than the %d kith imports: %w", len(br.Roots), MaxCARRoots, ErrBadBlock)
	}
	for _, root := range br.Roots {
		if err := CheckCID(root); err != nil {
			return nil, 0, fmt.Errorf("CAR root %s: %w", root, err)
		}
	}
	ds := newDAGService(ctx, bs)
	for {
		blk, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ds.abort()
			return nil, 0, fmt.Errorf("reading CAR block %d: %w", ds.blockCount()+1, err)
		}
		c := blk.Cid()
		if err := CheckCID(c); err != nil {
			ds.abort()
			return nil, 0, fmt.Errorf("block %s: %w", c, err)
		}
		sum, err := c.Prefix().Sum(blk.RawData())
		if err != nil {
			ds.abort()
			return nil, 0, fmt.Errorf("block %s: %w: %v", c, ErrBadBlock, err)
		}
		if !sum.Equals(c) {
			ds.abort()
			return nil, 0, fmt.Errorf("block %s: %w (content hashes to %s)", c, ErrBadBlock, sum)
		}
		if err := ds.addBlock(blk); err != nil {
			ds.abort()
			return nil, 0, err
		}
	}
	if err := ds.close(); err != nil {
		return nil, 0, err
	}
	if s, ok := bs.(blockstore.Syncer); ok {
		if err := s.Sync(ctx); err != nil {
			return nil, 0, fmt.Errorf("syncing blockstore: %w", err)
		}
	}
	return br.Roots, ds.blockCount(), nil
}
