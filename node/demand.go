package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/path"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// demandTimeout bounds one on-demand fetch: how long a read waits for a
// block nobody turns out to have.
const demandTimeout = 30 * time.Second

// demandStore is the repo as the gateway reads it: a block that is not
// here is fetched when it is read, from the node's BlockSources (which
// verify it), and stored unpinned: once no read holds it (requestHolds),
// it is the downloads' cache that fetch.cache_max bounds (demandReads).
// Concurrent reads of one missing block share one fetch. It implements
// blockstore.Blockstore for reading (writes go to the repo as they are)
// and dag.Prefetcher.
type demandStore struct {
	blockstore.Blockstore // the repo
	gcl                   *blockstore.GCLocker
	sources               []BlockSource
	fetched               prometheus.Counter
	reads                 demandReads // what reads fetched, for the downloads' cache

	mu      sync.Mutex
	pending map[cid.Cid]*pendingBlock
}

var _ dag.Prefetcher = (*demandStore)(nil)

// pendingBlock is a block being fetched; done is closed once blk or err
// is set. retry is set when the fetch ended because the reader that
// started it went away, so another reader should fetch it itself.
type pendingBlock struct {
	done  chan struct{}
	blk   blocks.Block
	err   error
	retry bool
}

func newDemandStore(repo blockstore.Blockstore, gcl *blockstore.GCLocker, reg prometheus.Registerer, sources ...BlockSource) *demandStore {
	d := &demandStore{Blockstore: repo, gcl: gcl, sources: sources, pending: map[cid.Cid]*pendingBlock{},
		fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "kith", Subsystem: "gateway", Name: "blocks_fetched_total",
			Help: "Blocks the gateway fetched from peers on demand (unpinned cache).",
		})}
	if reg != nil {
		reg.MustRegister(d.fetched)
	}
	return d
}

// Get returns block c from the repo, or fetches it. A block nobody has
// within demandTimeout is a miss matching blockstore.ErrNotFound; a read
// with patience (kith cat) asks again while it lasts (readPatience).
func (d *demandStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	holdsFrom(ctx).holdRoot(d.gcl, rootHint(ctx))
	patience := patienceFrom(ctx)
	b, err := d.Blockstore.Get(ctx, c)
	if !errors.Is(err, blockstore.ErrNotFound) {
		if err == nil {
			patience.got(false)
		}
		return b, err
	}
	for {
		p := d.start(ctx, []cid.Cid{c})[0]
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.retry && ctx.Err() == nil {
			continue
		}
		if p.err == nil {
			patience.got(true)
		} else if errors.Is(p.err, blockstore.ErrNotFound) && patience.again(ctx) {
			continue
		}
		return p.blk, p.err
	}
}

// GetSize is Get's size: reading a block's size is reading the block.
func (d *demandStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	n, err := d.Blockstore.GetSize(ctx, c)
	if !errors.Is(err, blockstore.ErrNotFound) {
		return n, err
	}
	b, err := d.Get(ctx, c)
	if err != nil {
		return 0, err
	}
	return len(b.RawData()), nil
}

// Prefetch starts fetching the blocks of cids the repo lacks, in one
// request, and returns at once.
func (d *demandStore) Prefetch(ctx context.Context, cids []cid.Cid) {
	holdsFrom(ctx).holdRoot(d.gcl, rootHint(ctx))
	var missing []cid.Cid
	for _, c := range cids {
		if ok, err := d.Blockstore.Has(ctx, c); err == nil && !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		d.start(ctx, missing)
	}
}

// start returns the pending fetch of each of cids, starting one request
// for those nobody is fetching yet.
func (d *demandStore) start(ctx context.Context, cids []cid.Cid) []*pendingBlock {
	out := make([]*pendingBlock, len(cids))
	var mine []cid.Cid
	d.mu.Lock()
	for i, c := range cids {
		p, ok := d.pending[c]
		if !ok {
			p = &pendingBlock{done: make(chan struct{})}
			d.pending[c] = p
			mine = append(mine, c)
		}
		out[i] = p
	}
	d.mu.Unlock()
	if len(mine) > 0 {
		go d.fetch(ctx, mine)
	}
	return out
}

// sourceHeadStart is how long a source has the blocks to itself before the
// next source is asked too. kith peers that hold a DAG answer within a
// round trip; when none does, kithSource goes on to search the DHT, which
// can take many seconds, and an IPFS peer that is already connected should
// not wait for that.
const sourceHeadStart = 300 * time.Millisecond

// fetch asks the sources for what is still missing and completes the
// pending blocks of cids. The sources are asked in order, each one
// sourceHeadStart after the one before it (or as soon as that one
// returned), and work side by side; a block is kept from whichever source
// delivers it first. A source that returned while an earlier one was still
// looking is asked once more when that one is done: the earlier one may
// have connected peers it can ask (kithSource connects the providers the
// DHT names; those that are IPFS nodes are bitswapSource's).
func (d *demandStore) fetch(ctx context.Context, cids []cid.Cid) {
	fctx, cancel := context.WithTimeout(ctx, demandTimeout)
	defer cancel()
	holds := holdsFrom(ctx)
	root := rootHint(ctx)

	var mu sync.Mutex // serialises deliveries from all sources
	left := map[cid.Cid]bool{}
	for _, c := range cids {
		left[c] = true
	}
	var storeErr error
	missing := func() []cid.Cid {
		mu.Lock()
		defer mu.Unlock()
		want := make([]cid.Cid, 0, len(left))
		for _, c := range cids {
			if left[c] {
				want = append(want, c)
			}
		}
		return want
	}
	got := func(b blocks.Block) {
		mu.Lock()
		defer mu.Unlock()
		if !left[b.Cid()] {
			return // another source delivered it first
		}
		// Hold before storing, so a GC that is sweeping keeps it for as
		// long as the response needs it.
		holds.hold(d.gcl, b.Cid())
		if err := d.Blockstore.Put(context.WithoutCancel(ctx), b); err != nil {
			storeErr = err
		} else {
			d.fetched.Inc()
			d.reads.add(root, int64(len(b.RawData())))
		}
		delete(left, b.Cid())
		d.complete(b.Cid(), b, nil, false)
		if len(left) == 0 {
			cancel() // the other sources can stop
		}
	}

	var wg sync.WaitGroup
	prev := make(chan struct{})
	close(prev) // the first source waits for nobody
	for i, src := range d.sources {
		before, done := prev, make(chan struct{})
		wg.Go(func() {
			defer close(done)
			askSource(fctx, i > 0, before, func(want []cid.Cid) {
				src.FetchBlocks(fctx, root, want, got)
			}, missing)
		})
		prev = done
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for c := range left {
		switch {
		case ctx.Err() != nil:
			d.complete(c, nil, ctx.Err(), true)
		case storeErr != nil:
			d.complete(c, nil, fmt.Errorf("keep block %s fetched from a peer: %w", c, storeErr), false)
		default:
			d.complete(c, nil, &blockMissError{cid: c}, false)
		}
	}
}

// askSource runs one source of fetch: after prev is done or, if wait,
// sourceHeadStart has passed, it asks for what is still missing; if prev
// was still running then, it asks once more after prev is done.
func askSource(ctx context.Context, wait bool, prev <-chan struct{}, ask func([]cid.Cid), missing func() []cid.Cid) {
	if wait {
		t := time.NewTimer(sourceHeadStart)
		defer t.Stop()
		select {
		case <-prev:
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
	for turn := 0; turn < 2; turn++ {
		want := missing()
		if len(want) == 0 || ctx.Err() != nil {
			return
		}
		select {
		case <-prev:
			ask(want)
			return // everyone before had their say: no second turn needed
		default:
		}
		ask(want)
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
}

func (d *demandStore) complete(c cid.Cid, b blocks.Block, err error, retry bool) {
	d.mu.Lock()
	p := d.pending[c]
	delete(d.pending, c)
	d.mu.Unlock()
	if p != nil {
		p.blk, p.err, p.retry = b, err, retry
		close(p.done)
	}
}

// blockMissError is a block that no peer had. It matches
// blockstore.ErrNotFound, and go-ipld-format's ErrNotFound, which boxo's
// gateway answers with 404.
type blockMissError struct{ cid cid.Cid }

func (e *blockMissError) Error() string {
	return fmt.Sprintf("block %s is neither in this repo nor with any peer that answered: ask someone who has it to come online", e.cid)
}

func (e *blockMissError) Is(target error) bool {
	if _, ok := target.(ipld.ErrNotFound); ok {
		return true
	}
	return target == blockstore.ErrNotFound
}

// rootHintKey carries the root of the DAG a read belongs to, for finding
// who holds it (see rootHint).
type rootHintKey struct{}

// withRootHint says that reads under ctx are of the DAG under root.
func withRootHint(ctx context.Context, root cid.Cid) context.Context {
	return context.WithValue(ctx, rootHintKey{}, root)
}

// rootHint is the root set with withRootHint, else that of the gateway
// request's content path, else cid.Undef.
func rootHint(ctx context.Context) cid.Cid {
	if c, ok := ctx.Value(rootHintKey{}).(cid.Cid); ok {
		return c
	}
	if p, ok := ctx.Value(gateway.ContentPathKey).(path.Path); ok {
		if ip, err := path.NewImmutablePath(p); err == nil {
			return ip.RootCid()
		}
	}
	return cid.Undef
}
