package dag

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/ipfs/boxo/filestore/posinfo"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// Batch limits for the import writer. One PutMany per ~8 MiB (or per 256
// small blocks) amortises the store's per-transaction cost without holding
// much in memory; a queue of 3 batches lets hashing run ahead of the disk
// while bounding memory to roughly 4 batches (~32 MiB).
const (
	batchMaxBytes  = 8 << 20
	batchMaxBlocks = 256
	batchQueue     = 3
)

// writeReq is one unit of work for the writer goroutine: a batch of blocks
// to store, or (with done set) a barrier closed once every earlier batch has
// been handled.
type writeReq struct {
	blocks []blocks.Block
	done   chan struct{}
}

// dagService is the ipld.DAGService boxo's importer and directory code write
// through. Nodes are snapshotted into blocks, grouped into batches and stored
// by a single writer goroutine with PutMany, so SHA-256 hashing in the caller
// overlaps with store writes. Get reads back from the store, first draining
// pending batches when the block was added but may not be written yet.
type dagService struct {
	bs    blockstore.Blockstore
	ctx   context.Context
	queue chan writeReq
	done  chan struct{} // closed when the writer goroutine exits

	mu        sync.Mutex
	seen      map[string]struct{} // CIDs added during this import; boxo re-adds nodes (HAMT Swap/Link), and identical content repeats
	noCopy    bool                // leaves read from files go as blockstore.FileBlocks (WithNoCopy)
	batch     []blocks.Block
	batchSize int
	count     int
	err       error // first writer error; sticky
}

var _ ipld.DAGService = (*dagService)(nil)

// newDAGService starts the writer goroutine; call close to flush and stop it.
func newDAGService(ctx context.Context, bs blockstore.Blockstore) *dagService {
	d := &dagService{
		bs:    bs,
		ctx:   ctx,
		queue: make(chan writeReq, batchQueue),
		done:  make(chan struct{}),
		seen:  make(map[string]struct{}),
	}
	go d.writer()
	return d
}

func (d *dagService) writer() {
	defer close(d.done)
	for req := range d.queue {
		if req.done != nil {
			close(req.done)
			continue
		}
		// After a failure keep draining (without writing) so senders never
		// block on a dead writer; the sticky error is reported by every call.
		if d.failed() != nil {
			continue
		}
		if err := d.bs.PutMany(d.ctx, req.blocks); err != nil {
			d.mu.Lock()
			if d.err == nil {
				d.err = fmt.Errorf("storing blocks: %w", err)
			}
			d.mu.Unlock()
		}
	}
}

func (d *dagService) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// send hands req to the writer, blocking while the queue is full: that
// back-pressure is what bounds memory when the store is slower than hashing.
func (d *dagService) send(req writeReq) error {
	if err := d.failed(); err != nil {
		return err
	}
	select {
	case d.queue <- req:
		return nil
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
}

// Add implements ipld.DAGService. The node's bytes and CID are copied into a
// block right away because boxo keeps mutating directory ProtoNodes after
// adding them.
func (d *dagService) Add(_ context.Context, n ipld.Node) error {
	blk, err := blocks.NewBlockWithCid(n.RawData(), n.Cid())
	if err != nil {
		return err
	}
	if fn, ok := n.(*posinfo.FilestoreNode); ok && d.noCopy && fn.PosInfo != nil {
		ref := blockstore.FileRef{Path: fn.PosInfo.FullPath, Off: int64(fn.PosInfo.Offset), Size: len(blk.RawData())}
		if st := fn.PosInfo.Stat; st != nil {
			// As the file was when its reading began: a change since
			// then makes the block not there (see FileRef).
			ref.FileSize, ref.ModTime = st.Size(), st.ModTime().UnixNano()
		}
		if ref.Size >= blockstore.FileRefMin && filepath.IsAbs(ref.Path) {
			return d.addBlock(blockstore.FileBlock{Block: blk, Ref: ref})
		}
	}
	return d.addBlock(blk)
}

// addBlock queues blk for writing unless it was already added.
func (d *dagService) addBlock(blk blocks.Block) error {
	key := blk.Cid().KeyString()
	d.mu.Lock()
	if d.err != nil {
		err := d.err
		d.mu.Unlock()
		return err
	}
	if _, dup := d.seen[key]; dup {
		d.mu.Unlock()
		return nil
	}
	d.seen[key] = struct{}{}
	d.count++
	d.batch = append(d.batch, blk)
	d.batchSize += len(blk.RawData())
	var full []blocks.Block
	if d.batchSize >= batchMaxBytes || len(d.batch) >= batchMaxBlocks {
		full = d.batch
		d.batch, d.batchSize = nil, 0
	}
	d.mu.Unlock()
	if full != nil {
		return d.send(writeReq{blocks: full})
	}
	return nil
}

// AddMany implements ipld.DAGService.
func (d *dagService) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		if err := d.Add(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// flush sends the partial batch to the writer.
func (d *dagService) flush() error {
	d.mu.Lock()
	b := d.batch
	d.batch, d.batchSize = nil, 0
	d.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	return d.send(writeReq{blocks: b})
}

// drain returns once every block added so far has been handed to the store.
func (d *dagService) drain() error {
	if err := d.flush(); err != nil {
		return err
	}
	barrier := make(chan struct{})
	if err := d.send(writeReq{done: barrier}); err != nil {
		return err
	}
	select {
	case <-barrier:
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
	return d.failed()
}

// close flushes what is left, stops the writer and returns its first error.
// It must be called exactly once, after the last Add.
func (d *dagService) close() error {
	ferr := d.flush()
	close(d.queue)
	<-d.done
	if err := d.failed(); err != nil {
		return err
	}
	return ferr
}

// abort stops the writer without storing the partial batch; batches already
// queued are still written. Used when the input turns out to be bad.
func (d *dagService) abort() {
	d.mu.Lock()
	d.batch, d.batchSize = nil, 0
	d.mu.Unlock()
	close(d.queue)
	<-d.done
}

// blockCount reports how many distinct blocks were added.
func (d *dagService) blockCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}

// Get implements ipld.DAGService by reading the store, so a node added
// earlier in this import is found once its batch is written.
func (d *dagService) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	b, err := d.bs.Get(ctx, c)
	if errors.Is(err, blockstore.ErrNotFound) {
		d.mu.Lock()
		_, added := d.seen[c.KeyString()]
		d.mu.Unlock()
		if added {
			if err := d.drain(); err != nil {
				return nil, err
			}
			b, err = d.bs.Get(ctx, c)
		}
	}
	if err != nil {
		return nil, err
	}
	return decodeNode(b)
}

// GetMany implements ipld.DAGService.
func (d *dagService) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	return getMany(ctx, d, cs)
}

// Remove implements ipld.DAGService as a no-op: an import never needs to
// delete, and a block may be shared with other DAGs; unreferenced blocks are
// garbage collection's job.
func (d *dagService) Remove(context.Context, cid.Cid) error { return nil }

// RemoveMany implements ipld.DAGService as a no-op (see Remove).
func (d *dagService) RemoveMany(context.Context, []cid.Cid) error { return nil }

// readDAG is the read-only ipld.DAGService used to read DAGs back.
type readDAG struct {
	bs blockstore.Blockstore
}

var _ ipld.DAGService = readDAG{}

var errReadOnly = errors.New("dag: read-only DAG service")

// Get implements ipld.NodeGetter. A missing block keeps the store's error,
// which matches blockstore.ErrNotFound.
func (r readDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	b, err := r.bs.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return decodeNode(b)
}

// GetMany implements ipld.NodeGetter.
func (r readDAG) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	return getMany(ctx, r, cs)
}

func (readDAG) Add(context.Context, ipld.Node) error        { return errReadOnly }
func (readDAG) AddMany(context.Context, []ipld.Node) error  { return errReadOnly }
func (readDAG) Remove(context.Context, cid.Cid) error       { return errReadOnly }
func (readDAG) RemoveMany(context.Context, []cid.Cid) error { return errReadOnly }

// getMany fetches sequentially: the store is local, so there is no latency to
// hide, and results in request order are easiest to reason about.
func getMany(ctx context.Context, g ipld.NodeGetter, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	go func() {
		defer close(out)
		for _, c := range cs {
			n, err := g.Get(ctx, c)
			select {
			case out <- &ipld.NodeOption{Node: n, Err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// decodeNode turns a stored block into the legacy ipld.Node boxo's UnixFS
// code works with. kith DAGs only contain dag-pb and raw blocks.
func decodeNode(b blocks.Block) (ipld.Node, error) {
	switch codec := b.Cid().Prefix().Codec; codec {
	case cid.DagProtobuf:
		n, err := merkledag.DecodeProtobufBlock(b)
		if err != nil {
			return nil, fmt.Errorf("decoding dag-pb block %s: %w", b.Cid(), err)
		}
		return n, nil
	case cid.Raw:
		return merkledag.DecodeRawBlock(b)
	default:
		return nil, fmt.Errorf("block %s: unsupported codec 0x%x (only dag-pb and raw are UnixFS)", b.Cid(), codec)
	}
}
