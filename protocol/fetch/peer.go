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
	ctx    context.Context // cancelled when the peer is dropped, retired or the fetch ends
	cancel context.CancelFunc

	lastActivity atomic.Int64 // unix nanoseconds of the last byte received
	received     atomic.Int64 // bytes received on all its streams

	batches      []*batch // in flight, oldest first
	inflight     int64    // estimated bytes requested and not yet answered
	dropped      bool
	retired      bool // answered NotFound to a whole batch: lacks the content
	rate         float64
	minRTT       time.Duration
	lastReceived int64
	lastDelivery time.Time
}

func newPeerState(id peer.ID, parent context.Context) *peerState {
	p := &peerState{id: id}
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
	return min(max(int64(p.rate/10), minBatchBytes), maxBatchBytes)
}

// window is how many bytes p may have in flight: three times its measured
// bandwidth-delay product (so the window can grow ~3x per round trip until
// the link is full), never less than two batches (so there is no gap
// between batches) and never more than maxWindow.
func (p *peerState) window() int64 {
	w := 2 * p.batchBytes()
	if p.rate > 0 {
		rtt := max(p.minRTT, time.Millisecond)
		w = max(w, int64(3*p.rate*rtt.Seconds()))
	}
	return min(w, maxWindow)
}

// runPeer issues batches to p while its window has room, until p is gone
// or the fetch ends. Runs in its own goroutine; each batch gets another.
func (r *run) runPeer(p *peerState) {
	for {
		b, wait := r.sched.next(p)
		if b != nil {
			r.wg.Go(func() { r.runBatch(p, b) })
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

// dropError is why a peer is dropped.
type dropError struct {
	kind dropKind
	msg  string
}

func (e *dropError) Error() string { return e.msg }

func dropf(kind dropKind, format string, args ...any) error {
	return &dropError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func (r *run) runBatch(p *peerState, b *batch) {
	defer r.sched.batchEnd(b)
	err := r.exchange(p, b)
	if err == nil || p.ctx.Err() != nil {
		return // success, or the peer or fetch was stopped anyway
	}
	var de *dropError
	if errors.As(err, &de) {
		r.sched.drop(p, de.kind, de.msg)
	}
}

// exchange sends b's request on a new stream and consumes the answer.
func (r *run) exchange(p *peerState, b *batch) error {
	octx, cancel := context.WithTimeout(p.ctx, openTimeout)
	s, err := r.f.h.NewStream(octx, p.id, ID)
	cancel()
	if err != nil {
		if p.ctx.Err() != nil {
			return nil
		}
		return dropf(dropStream, "open stream: %v", err)
	}
	// Reading blocks with no deadline (mocknet streams have none): resetting
	// the stream is how a drop, the stall watchdog or the end of the fetch
	// interrupts it. Wait for the reset so no goroutine outlives the fetch.
	resetDone := make(chan struct{})
	stop := context.AfterFunc(p.ctx, func() {
		defer close(resetDone)
		_ = s.Reset()
	})
	clean := false
	defer func() {
		if !stop() {
			<-resetDone
		} else if !clean {
			_ = s.Reset()
		}
	}()

	cids := make([]cid.Cid, len(b.wants))
	for i, w := range b.wants {
		cids[i] = w.c // immutable after creation: safe without the lock
	}
	w := NewWriter(s, 0)
	if err := w.WriteRequest(cids); err != nil {
		return dropf(dropStream, "send request: %v", err)
	}
	if err := w.Flush(); err != nil {
		return dropf(dropStream, "send request: %v", err)
	}
	_ = s.CloseWrite()
	sent := time.Now()

	rd := NewReader(activityReader{s, p}, readBuffer)
	for i, c := range cids {
		m, err := rd.Next()
		if err != nil {
			return readError(err, i, len(cids))
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
			if err := r.deliver(b, i, c, m.Data); err != nil {
				return nil // the fetch is ending
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
		if i+1 < len(cids) && r.sched.restDone(b) {
			return nil // endgame: the rest arrived from others; reset cancels it
		}
	}
	m, err := rd.Next()
	if err != nil {
		return readError(err, len(cids), len(cids))
	}
	if m.Type != MsgEnd {
		return dropf(dropProtocol, "expected end, got %s frame", m.Type)
	}
	clean = true
	_ = s.Close()
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
func (r *run) deliver(b *batch, i int, c cid.Cid, data []byte) error {
	if !r.sched.claim(b, i, len(data)) {
		return nil
	}
	blk, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		return err
	}
	select {
	case r.store.in <- blk:
	case <-r.ctx.Done():
		return r.ctx.Err()
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
	r io.Reader
	p *peerState
}

func (a activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.p.received.Add(int64(n))
		a.p.touch(time.Now())
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
