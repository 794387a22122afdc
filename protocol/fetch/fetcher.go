package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/blockstore"
)

// Providers finds peers that may hold a DAG. FindProviders returns a channel
// that delivers candidates over time and is closed by the implementation
// when its sources are exhausted or ctx ends; the implementation must stop
// sending once ctx is done (Fetch stops reading then). Candidates may repeat
// and may include peers that turn out not to have the content.
type Providers interface {
	FindProviders(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo
}

// ProvidersFunc adapts a function to the Providers interface.
type ProvidersFunc func(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo

// FindProviders calls f.
func (f ProvidersFunc) FindProviders(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo {
	return f(ctx, c)
}

// StaticProviders returns Providers that yield ais and then close.
func StaticProviders(ais ...peer.AddrInfo) Providers {
	return ProvidersFunc(func(context.Context, cid.Cid) <-chan peer.AddrInfo {
		ch := make(chan peer.AddrInfo, len(ais))
		for _, ai := range ais {
			ch <- ai
		}
		close(ch)
		return ch
	})
}

// PeerStats is what one peer (or protocol) delivered in a fetch (first
// copies only).
type PeerStats struct {
	Blocks int
	Bytes  int64
	Peers  int // in Result.PerProtocol only
}

// Result describes one Fetch call. Counts cover only blocks moved by this
// call, not those found already in the local store.
type Result struct {
	// Blocks and Bytes count verified blocks received and stored (on
	// error: received and handed to the store).
	Blocks int
	Bytes  int64
	// Duplicates counts blocks that arrived after another copy did (endgame
	// re-requests); they are dropped, never stored twice.
	Duplicates int
	// PerPeer is what each peer delivered.
	PerPeer map[peer.ID]PeerStats
	// PerProtocol is what each protocol carried (kith peers over
	// /kith/fetch, IPFS peers over Bitswap); Peers counts the peers that
	// delivered at least one block over it.
	PerProtocol map[Protocol]PeerStats
	// Dropped names the peers this fetch stopped using because they lied
	// (a block that does not match its CID), stalled, broke the protocol or
	// could not be reached, with a one-line reason. Peers that simply do not
	// have the content are not listed.
	Dropped map[peer.ID]string
}

// Fetcher fetches whole DAGs from peers into a local blockstore over
// /kith/fetch/1.0.0, and over Bitswap from peers that speak only that
// (see WithBitswap). A Fetcher holds only settings; concurrent Fetch calls
// are independent (they may fetch the same blocks twice if their DAGs
// overlap, and the store keeps one copy).
type Fetcher struct {
	h            host.Host
	bs           blockstore.Blockstore
	bitswap      Bitswap
	metrics      *Metrics
	stallTimeout time.Duration
	connectLimit int
	connect      func(context.Context, peer.AddrInfo) error // dials a provider
	download     *rate.Limiter                              // paces what is received (WithDownloadLimiter)
	// leafLimit and backlogLimit replace maxWantedLeaves and
	// maxWalkBacklog when set, and walkHook sees the walker after each
	// walk step: tests only.
	leafLimit    int
	backlogLimit int
	walkHook     func(*walker)
}

func (f *Fetcher) wantedLeavesLimit() int {
	if f.leafLimit > 0 {
		return f.leafLimit
	}
	return maxWantedLeaves
}

func (f *Fetcher) walkBacklogLimit() int {
	if f.backlogLimit > 0 {
		return f.backlogLimit
	}
	return maxWalkBacklog
}

// FetcherOption configures a Fetcher.
type FetcherOption func(*Fetcher)

// WithFetcherMetrics records fetched blocks, duplicates, dropped peers and
// fetch durations in m (nil: no metrics).
func WithFetcherMetrics(m *Metrics) FetcherOption {
	return func(f *Fetcher) { f.metrics = m }
}

// WithStallTimeout sets how long a peer with requests outstanding may send
// no bytes at all before it is dropped (default 5 s; it is stretched for
// peers measured to be slow, so one block's transfer time never counts as a
// stall).
func WithStallTimeout(d time.Duration) FetcherOption {
	return func(f *Fetcher) {
		if d > 0 {
			f.stallTimeout = d
		}
	}
}

// WithConnect sets how a provider is dialled (default: h.Connect). The
// caller may wait there for more than a connection, e.g. for the hole punch
// that follows a relayed one: a limited connection carries no fetch. It is
// bounded by connectTimeout.
func WithConnect(connect func(context.Context, peer.AddrInfo) error) FetcherOption {
	return func(f *Fetcher) { f.connect = connect }
}

// NewFetcher returns a Fetcher that dials peers with h and stores into bs.
// It registers nothing on h; serving is Server's job.
func NewFetcher(h host.Host, bs blockstore.Blockstore, opts ...FetcherOption) *Fetcher {
	f := &Fetcher{h: h, bs: bs, stallTimeout: 5 * time.Second, connectLimit: 8, connect: h.Connect}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Fetch makes the whole DAG under root present in the local store.
//
// Blocks already in the store are not fetched, and the walk continues
// through dag-pb blocks found locally, so calling Fetch again after an
// interruption moves only what is missing (resume). Missing blocks are asked
// from the peers providers yields (connected with bounded concurrency); each
// block is verified against its CID before it is stored, peers that send a
// wrong block, stall or break the protocol are dropped and their requests
// given to others. If no usable provider has some block, Fetch fails with an
// error wrapping blockstore.ErrNotFound (a *blockstore.NotFoundError naming
// that CID). Only raw and dag-pb links are followed; blocks of other codecs
// are fetched but treated as leaves.
//
// progress, if not nil, is called about ten times a second from one
// goroutine (never concurrently) and once more before Fetch returns; it must
// not block for long. Cancelling ctx stops the fetch: blocks already
// verified are still stored, so a later call resumes from them.
//
// When Fetch returns nil every block is stored (of those asked, with
// OnlyFiles), and synced if the store is a blockstore.Syncer; the caller
// pins root afterwards. opts narrow one Fetch. The Result is returned
// on error too. No goroutine started by Fetch outlives the call.
func (f *Fetcher) Fetch(ctx context.Context, root cid.Cid, providers Providers, progress func(Progress), opts ...FetchOption) (Result, error) {
	start := time.Now()
	defer func() { f.metrics.fetchDone(time.Since(start)) }()

	fctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	netCtx, stopNet := context.WithCancel(fctx)
	defer stopNet()

	r := &run{f: f, root: root, ctx: fctx, fail: fail, net: netCtx}
	for _, o := range opts {
		o(r)
	}
	if pc, ok := f.bs.(blockstore.PutCopier); ok {
		r.reuse = pc.PutCopies()
	}
	r.sched = newScheduler(r)
	r.walk = newWalker(r)
	r.store = newStoreWriter(f.bs, fail)
	storeDone := make(chan struct{})
	go func() {
		defer close(storeDone)
		// Blocks already verified are stored even when the fetch is
		// cancelled: that is what makes the next call resume from them.
		r.store.run(context.WithoutCancel(fctx))
	}()

	r.wg.Go(func() { r.walk.run(netCtx) })
	r.wg.Go(func() { r.tick(netCtx, progress) })
	r.wg.Go(func() { r.findPeers(netCtx, providers) })

	select {
	case <-r.sched.done:
	case <-fctx.Done():
	}
	stopNet()
	r.wg.Wait()
	close(r.store.in)
	<-storeDone

	err := context.Cause(fctx)
	if err == nil {
		if s, ok := f.bs.(blockstore.Syncer); ok {
			if serr := s.Sync(ctx); serr != nil {
				err = fmt.Errorf("sync store: %w", serr)
			}
		}
	}
	res := r.sched.result()
	if progress != nil {
		progress(r.sched.snapshot(time.Now()))
	}
	if err != nil {
		return res, fmt.Errorf("fetch %s: %w", root, err)
	}
	return res, nil
}

// run is the state of one Fetch call.
type run struct {
	f    *Fetcher
	root cid.Cid
	// ctx ends when the caller cancels or the fetch fails (fail sets the
	// cause); net additionally ends when the fetch completes, stopping all
	// network work while the store writer drains.
	ctx   context.Context
	fail  context.CancelCauseFunc
	net   context.Context
	sched *scheduler
	walk  *walker
	store *storeWriter
	// reuse: lanes read large blocks into pooled buffers, given back once
	// stored (the store copies what it keeps; see bodies.go).
	reuse bool
	// wg tracks every goroutine of the run except the store writer.
	wg sync.WaitGroup
	// files, when set (OnlyFiles), names the files fetched whole; inFile
	// holds the dag-pb blocks below those (walker goroutine only).
	files  func(cid.Cid) bool
	inFile map[string]struct{}
}
