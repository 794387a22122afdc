package fetch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	merkledagpb "github.com/ipfs/boxo/ipld/merkledag/pb"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"google.golang.org/protobuf/proto"

	"github.com/kith-p2p/kith/blockstore"
)

// walkItem is a dag-pb block whose links are to be walked; data nil means
// it is in the local store. Each item holds one of the scheduler's open
// counts until it is walked.
type walkItem struct {
	c    cid.Cid
	data []byte
}

// link is one decoded dag-pb link.
type link struct {
	c     cid.Cid
	tsize uint64
}

// maxWantedLeaves bounds the leaves wanted and not yet received at once:
// the walker waits before it expands another dag-pb block while that many
// are. A want costs ~200 bytes (the want, its CID, the scheduler's map and
// queue), so a wide DAG walked all at once (100,000 small files in 1,000
// folders) held 20 MB of them, while a folder block waiting in the walker
// costs ~45 bytes per link. The peers' windows need far fewer: a few MiB
// of blocks each.
const maxWantedLeaves = 16 << 10

// maxWalkBacklog bounds the dag-pb blocks received and waiting for the
// walker: the scheduler asks for more only while fewer wait, and at most a
// quarter of that many in one batch. The walker waits for leaves
// (maxWantedLeaves) while the folder blocks keep coming: 1,000 folders of
// 100 files each waited there, 4.6 MB, and 10 times the folders 10 times
// that. A folder not asked for yet costs ~200 bytes.
const maxWalkBacklog = 256

// walker walks the DAG breadth-first in one goroutine: it decodes dag-pb
// blocks (fetched or local), checks which children the store already has,
// and hands the missing ones to the scheduler. Checking the store here, not
// in the stream readers, keeps store lookups off the receive path.
type walker struct {
	r     *run
	mu    sync.Mutex
	q     []walkItem
	wake  chan struct{}
	limit int // maxWantedLeaves, unless a test set another
	// seen holds the dag-pb blocks met, so that a repeated subtree is
	// walked once (a DAG that links one node twice at every level would
	// otherwise take exponential time). Leaves need no such set, which
	// would grow with the DAG: a repeated leaf still wanted is one want
	// (the scheduler keys wants by CID), and one already stored is found
	// in the store. Walker goroutine only.
	seen map[string]struct{}
}

func newWalker(r *run) *walker {
	return &walker{r: r, wake: make(chan struct{}, 1), limit: r.f.wantedLeavesLimit(), seen: make(map[string]struct{})}
}

// backlog is how many received blocks wait to be walked.
func (wk *walker) backlog() int {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	return len(wk.q)
}

// push queues a fetched dag-pb block for walking. Safe for concurrent use.
func (wk *walker) push(it walkItem) {
	wk.mu.Lock()
	wk.q = append(wk.q, it)
	wk.mu.Unlock()
	select {
	case wk.wake <- struct{}{}:
	default:
	}
}

func (wk *walker) pop() (walkItem, bool) {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	if len(wk.q) == 0 {
		return walkItem{}, false
	}
	it := wk.q[0]
	wk.q[0] = walkItem{}
	wk.q = wk.q[1:]
	return it, true
}

func (wk *walker) run(ctx context.Context) {
	// The root is classified like a link of an imaginary parent; the
	// scheduler starts with one open count for this step.
	if err := wk.classify(ctx, []link{{c: wk.r.root}}); err != nil {
		wk.r.fail(err)
		return
	}
	wk.r.sched.release(1)
	for {
		if !wk.waitRoom(ctx) {
			return
		}
		it, ok := wk.pop()
		if !ok {
			select {
			case <-wk.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := wk.visit(ctx, it); err != nil {
			if ctx.Err() == nil {
				wk.r.fail(err)
			}
			return
		}
	}
}

// waitRoom returns once fewer than wk.limit leaves are wanted (after a
// wait, once fewer than half that are), false if ctx ended first.
func (wk *walker) waitRoom(ctx context.Context) bool {
	room := wk.r.sched.walkRoom(wk.limit)
	if room == nil {
		return true
	}
	select {
	case <-room:
		return true
	case <-ctx.Done():
		return false
	}
}

// visit walks one dag-pb block.
func (wk *walker) visit(ctx context.Context, it walkItem) error {
	data := it.data
	if data == nil {
		blk, err := wk.r.f.bs.Get(ctx, it.c)
		if err != nil {
			return fmt.Errorf("read local %s: %w", it.c, err)
		}
		data = blk.RawData()
	}
	links, unixfs, err := decodeNode(it.c, data)
	if err != nil {
		return err
	}
	if wk.r.files != nil {
		links = wk.within(it.c, unixfs, links)
	}
	if it.c.Equals(wk.r.root) {
		// Tsize is the cumulative size of a link's blocks, so this is the
		// byte size of the whole DAG for DAGs written by standard importers.
		total := int64(len(data))
		for _, l := range links {
			total += int64(l.tsize)
		}
		wk.r.sched.setTotal(total)
	}
	if err := wk.classify(ctx, links); err != nil {
		return err
	}
	if hook := wk.r.f.walkHook; hook != nil {
		hook(wk)
	}
	wk.r.sched.release(1)
	return nil
}

// classify checks each new link against the local store: missing blocks
// become wants, local dag-pb blocks are queued for walking, local leaves are
// counted as already had.
func (wk *walker) classify(ctx context.Context, links []link) error {
	var missing []*want
	var nLocal int
	var have int64
	for _, l := range links {
		inner := l.c.Type() == cid.DagProtobuf
		if inner {
			k := l.c.KeyString()
			if _, ok := wk.r.inFile[k]; ok {
				// OnlyFiles: met as a block of a file fetched whole, it
				// is walked again if it was met before as a file that is
				// not (a file equal to the start of another).
				k += "/f"
			}
			if _, ok := wk.seen[k]; ok {
				continue // a repeated subtree (identical files or folders)
			}
			wk.seen[k] = struct{}{}
		}
		if l.c.Prefix().MhType == mh.IDENTITY {
			// The bytes are inside the CID: nothing to fetch or store.
			if inner {
				dm, err := mh.Decode(l.c.Hash())
				if err != nil {
					return fmt.Errorf("identity CID %s: %w", l.c, err)
				}
				wk.push(walkItem{c: l.c, data: dm.Digest})
				nLocal++
			}
			continue
		}
		size, err := wk.r.f.bs.GetSize(ctx, l.c)
		if err == nil {
			have += int64(size)
			if inner {
				wk.push(walkItem{c: l.c})
				nLocal++
			}
			continue
		}
		if !errors.Is(err, blockstore.ErrNotFound) {
			return fmt.Errorf("check local %s: %w", l.c, err)
		}
		est := int64(l.tsize)
		if est <= 0 {
			est = leafSizeGuess
		}
		if inner {
			est = min(est, innerSizeGuess)
		}
		missing = append(missing, &want{c: l.c, size: est, inner: inner})
	}
	wk.r.sched.add(missing, nLocal, have)
	return nil
}

// decodeNode reads the links and the data (UnixFS's) of a dag-pb block.
// The block was verified (or came from the local store), so a decoding
// failure means the DAG itself is broken and the fetch cannot complete.
func decodeNode(c cid.Cid, data []byte) ([]link, []byte, error) {
	var nd merkledagpb.PBNode
	if err := proto.Unmarshal(data, &nd); err != nil {
		return nil, nil, fmt.Errorf("decode dag-pb %s: %w", c, err)
	}
	out := make([]link, len(nd.Links))
	for i, l := range nd.Links {
		lc, err := cid.Cast(l.GetHash())
		if err != nil {
			return nil, nil, fmt.Errorf("decode dag-pb %s: link %d: %w", c, i, err)
		}
		out[i] = link{c: lc, tsize: l.GetTsize()}
	}
	return out, nd.GetData(), nil
}
