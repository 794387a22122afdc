package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/protocol"
)

const (
	// Batch sizes: start at initBatchBytes, then about 100 ms of the peer's
	// measured rate, within [minBatchBytes, maxBatchBytes]. Small-block
	// batches stop at maxBatchBlocks CIDs.
	minBatchBytes  = 1 << 20
	initBatchBytes = 2 << 20
	maxBatchBytes  = 8 << 20
	maxBatchBlocks = 512
	// maxWindow caps the bytes requested from one peer and not yet received.
	maxWindow = 256 << 20
	// openTimeout bounds opening one stream (protocol negotiation included).
	openTimeout = 10 * time.Second
	// readBuffer is the response reader's buffer; blocks bigger than it are
	// read straight into their own allocation.
	readBuffer = 64 << 10
)

// peerState is one provider in one fetch. Fields below the atomics are
// guarded by scheduler.mu.
type peerState struct {
	id     peer.ID
	proto  Protocol        // how blocks are asked of it
	ctx    context.Context // cancelled when the peer is dropped, retired or the fetch ends
	cancel context.CancelFunc
	// bitswap is set for a Bitswap peer: its wants and their replies.
	bitswap *bitswapPeer

	lastActivity atomic.Int64 // unix nanoseconds of the last byte received
	received     atomic.Int64 // bytes received on all its streams
	// noLaneProbe: its newest lane runs over QUIC, whose windows follow
	// the RTT by themselves (see lanes.go).
	noLaneProbe atomic.Bool

	batches      []*batch // in flight, oldest first
	inflight     int64    // estimated bytes requested and not yet answered
	wants        int      // blocks requested and not yet answered
	dropped      bool
	retired      bool    // answered NotFound to a whole batch: lacks the content
	rate         float64 // bytes per second, smoothed; decays while it sends nothing
	sendRate     float64 // rate as of the last tick it sent something: the stall watchdog's
	minRTT       time.Duration
	lastReceived int64
	lastDelivery time.Time
	rewanted     int64 // Bitswap: lastActivity when its wants were last asked again
	started      time.Time
	probe        laneProbe // how many lanes (see lanes.go)
}

func newPeerState(parent context.Context, id peer.ID, proto Protocol) *peerState {
	p := &peerState{id: id, proto: proto, started: time.Now()}
	p.ctx, p.cancel = context.WithCancel(parent)
	p.touch(time.Now())
	return p
}

func (p *peerState) gone() bool { return p.dropped || p.retired }

func (p *peerState) touch(t time.Time) { p.lastActivity.Store(t.UnixNano()) }

// batchBytes is the size of p's next batch: ~100 ms of its rate, so a batch
// finishes quickly enough to rebalance between peers yet amortises the
// per-stream cost.
func (p *peerState) batchBytes() int64 {
	if p.rate <= 0 {
		return initBatchBytes
	}
	b := min(max(int64(p.rate/10), minBatchBytes), maxBatchBytes)
	if l := p.laneCount(); l > lanesPerPeer {
		// More lanes than the default: small enough batches to give each
		// lane one (see lanes.go).
		b = max(min(b, p.window()/int64(l)), minBatchBytes)
	}
	return b
}

// batchBlocks is how many CIDs p's next batch may name: a Bitswap peer
// keeps at most bitswapMaxWants on its wantlist.
func (p *peerState) batchBlocks() int {
	if p.proto.wantlisted() {
		return min(maxBatchBlocks, bitswapMaxWants-p.wants)
	}
	return maxBatchBlocks
}

// window is how many bytes p may have in flight: three times its measured
// bandwidth-delay product (so the window can grow ~3x per round trip until
// the link is full), never less than two batches (so there is no gap
// between batches) and never more than maxWindow.
func (p *peerState) window() int64 {
	w := int64(2 * initBatchBytes)
	if p.rate > 0 {
		w = 2 * min(max(int64(p.rate/10), minBatchBytes), maxBatchBytes)
		rtt := max(p.minRTT, time.Millisecond)
		w = max(w, int64(3*p.rate*rtt.Seconds()))
	}
	if l := p.laneCount(); l > lanesPerPeer {
		w = max(w, int64(l)*minBatchBytes)
	}
	return min(w, maxWindow)
}

// runPeer issues batches to p while its window has room, until p is gone
// or the fetch ends. Batches go out on a few long-lived streams (lanes),
// pipelined: a lane writes the next request while answers to earlier ones
// are still arriving. Long-lived streams matter at internet latency: a new
// yamux stream starts with a 256 KiB receive window that doubles per round
// trip, so one stream per batch never got past a few MiB per round trip
// (measured through a 50 ms proxy: 18 MB/s with a stream per batch).
func (r *run) runPeer(p *peerState) {
	var lanes []*lane
	defer func() {
		for _, l := range lanes {
			l.finish()
		}
	}()
	r.feed(p, func(b *batch) error {
		l, err := r.pickLane(p, &lanes)
		if err == nil {
			err = l.send(b)
		}
		if err != nil {
			r.sched.batchEnd(b)
		}
		return err
	})
}

// feed hands p its batches through send while its window has room, until
// p is gone or the fetch ends; a send that fails drops p.
func (r *run) feed(p *peerState, send func(*batch) error) {
	for {
		b, wait := r.sched.next(p)
		if b != nil {
			if err := send(b); err != nil {
				if p.ctx.Err() == nil {
					r.sched.drop(p, dropStream, err.Error())
				}
				return
			}
			continue
		}
		if wait == nil {
			return
		}
		select {
		case <-wait:
		case <-p.ctx.Done():
			return
		}
	}
}

// lanesPerPeer is how many pipelined streams a peer gets: more than one so
// a large block at the head of one lane does not hold up the others, few
// enough that each stream's flow-control window grows large.
const lanesPerPeer = 3

// pickLane returns the lane with the fewest batches waiting, opening a new
// one while there are fewer than the peer's lane count (lanesPerPeer, or
// more while the probe of lanes.go finds that more carry more).
func (r *run) pickLane(p *peerState, lanes *[]*lane) (*lane, error) {
	var best *lane
	for _, l := range *lanes {
		if best == nil || l.queued() < best.queued() {
			best = l
		}
	}
	r.sched.mu.Lock()
	n := p.laneCount()
	r.sched.mu.Unlock()
	if best != nil && (best.queued() == 0 || len(*lanes) >= n) {
		return best, nil
	}
	l, err := r.openLane(p)
	if err != nil {
		if best != nil {
			return best, nil
		}
		return nil, err
	}
	*lanes = append(*lanes, l)
	return l, nil
}

// dropError is why a peer is dropped.
type dropError struct {
	kind dropKind
	msg  string
}

func (e *dropError) Error() string { return e.msg }

func dropf(kind dropKind, format string, args ...any) error {
	return &dropError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// readAnswer consumes the answer to b's request from rd.
func (r *run) readAnswer(p *peerState, b *batch, rd *Reader, sent time.Time) error {
	for i, w := range b.wants {
		c := w.c // immutable after creation: safe without the lock
		m, err := rd.Next()
		if err != nil {
			return readError(err, i, len(b.wants))
		}
		if i == 0 {
			r.sched.sawRTT(p, time.Since(sent))
		}
		switch m.Type {
		case MsgBlock:
			if !m.Cid.Equals(c) {
				return dropf(dropProtocol, "sent block %s, expected %s", m.Cid, c)
			}
			if err := verify(c, m.Data); err != nil {
				return dropf(dropHashMismatch, "%v", err)
			}
			if err := r.deliver(b, i, c, m.Data, m.body); err != nil {
				return err // the fetch is ending
			}
		case MsgNotFound:
			if !m.Cid.Equals(c) {
				return dropf(dropProtocol, "not-found for %s, expected %s", m.Cid, c)
			}
			r.sched.notFound(b, i)
		case MsgError:
			return dropf(dropRemoteError, "%v", &protocol.RemoteError{Code: m.Code, Message: m.Text})
		default:
			return dropf(dropProtocol, "unexpected %s frame", m.Type)
		}
	}
	m, err := rd.Next()
	if err != nil {
		return readError(err, len(b.wants), len(b.wants))
	}
	if m.Type != MsgEnd {
		return dropf(dropProtocol, "expected end, got %s frame", m.Type)
	}
	return nil
}

func readError(err error, got, want int) error {
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge):
		return dropf(dropProtocol, "bad answer: %v", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return dropf(dropStream, "stream closed after %d of %d answers", got, want)
	default:
		return dropf(dropStream, "read answer: %v", err)
	}
}

// deliver hands a verified block to the store and the walker, unless
// another peer delivered it first. An error means the fetch is ending.
// body, when not nil, is the pooled buffer data lies in (see bodies.go):
// it goes back to its pool once the block is written, or at once if the
// block is not kept; a dag-pb node's stays with the walker.
func (r *run) deliver(b *batch, i int, c cid.Cid, data, body []byte) error {
	first, others := r.sched.claim(b, i, len(data))
	for _, q := range others {
		q.bitswap.withdraw(c)
	}
	if !first {
		if body != nil {
			putBody(body)
		}
		return nil
	}
	blk, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		return err
	}
	if c.Type() == cid.DagProtobuf {
		body = nil // the walker reads its links after the store has it
	}
	if err := r.store.queue(r.ctx, blk, body); err != nil {
		return err
	}
	r.f.metrics.fetched(len(data))
	if c.Type() == cid.DagProtobuf {
		r.walk.push(walkItem{c: c, data: data}) // its open count moves to the walker
	} else {
		r.sched.release(1)
	}
	return nil
}

// verify checks that data hashes to c: the trust boundary of kith. The
// store trusts whatever passes.
func verify(c cid.Cid, data []byte) error {
	sum, err := c.Prefix().Sum(data)
	if err != nil {
		return fmt.Errorf("hash block %s: %w", c, err)
	}
	if !bytes.Equal(sum.Hash(), c.Hash()) {
		return fmt.Errorf("block %s: bytes do not match the CID", c)
	}
	return nil
}

// activityReader feeds the stall watchdog and the rate estimate.
type activityReader struct {
	r     io.Reader
	p     *peerState
	pace  *rate.Limiter // the download limit, or nil
	paced *atomic.Int64 // adds up the time pace held the reader back
}

func (a activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.p.received.Add(int64(n))
		a.p.touch(time.Now())
		pace(a.p.ctx, a.pace, n, func(waited time.Duration) {
			a.paced.Add(int64(waited))
			a.p.touch(time.Now())
		})
	}
	return n, err
}

// sawRTT records the time to the first answer of a batch; the minimum is
// the round-trip estimate (later samples include queueing).
func (s *scheduler) sawRTT(p *peerState, d time.Duration) {
	s.mu.Lock()
	if p.minRTT == 0 || d < p.minRTT {
		p.minRTT = d
	}
	s.mu.Unlock()
}
