package fetch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
)

// lane is one long-lived stream to a peer carrying pipelined requests: the
// runPeer goroutine writes requests, the lane's reader goroutine consumes
// the answers in order. The server answers requests on a stream one after
// another, so answers come back in the order asked.
type lane struct {
	r       *run
	p       *peerState
	s       network.Stream
	w       *Writer
	mu      sync.Mutex
	pending []laneBatch // sent, not yet fully answered, oldest first
	wake    chan struct{}
	closed  bool // no more sends: the reader stops once pending drains
	done    chan struct{}
	stop    func() bool
	resetOK chan struct{}
	// paced is how long the reader was held back by the download limit
	// (nanoseconds): time the frame deadline does not count against the
	// peer.
	paced atomic.Int64
}

type laneBatch struct {
	b    *batch
	sent time.Time
}

// openLane opens a stream to p and starts its reader.
func (r *run) openLane(p *peerState) (*lane, error) {
	octx, cancel := context.WithTimeout(p.ctx, openTimeout)
	s, err := r.f.h.NewStream(octx, p.id, ID)
	cancel()
	if err != nil {
		return nil, dropf(dropStream, "open stream: %v", err)
	}
	// The connection of the newest lane decides (a peer reached through a
	// relay first may move to a direct connection, over another transport).
	p.noLaneProbe.Store(windowsFollowRTT(s.Conn().ConnState().Transport))
	l := &lane{r: r, p: p, s: s, w: NewWriter(s, 0), wake: make(chan struct{}, 1), done: make(chan struct{}), resetOK: make(chan struct{})}
	// Reads carry no deadline (mocknet streams have none): resetting the
	// stream is how a drop, the stall watchdog or the end of the fetch
	// interrupts the reader.
	l.stop = context.AfterFunc(p.ctx, func() {
		defer close(l.resetOK)
		_ = s.Reset()
	})
	r.wg.Go(l.read)
	return l, nil
}

// queued is the number of batches sent on l and not yet answered.
func (l *lane) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// send writes b's request on the lane and queues b for the reader.
func (l *lane) send(b *batch) error {
	cids := make([]cid.Cid, len(b.wants))
	for i, w := range b.wants {
		cids[i] = w.c
	}
	l.mu.Lock()
	l.pending = append(l.pending, laneBatch{b: b, sent: time.Now()})
	l.mu.Unlock()
	l.signal()
	if err := l.w.WriteRequest(cids); err != nil {
		return dropf(dropStream, "send request: %v", err)
	}
	if err := l.w.Flush(); err != nil {
		return dropf(dropStream, "send request: %v", err)
	}
	return nil
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// read consumes answers until the lane is finished and drained, or fails.
// Every batch it takes off pending is ended, answered or not.
func (l *lane) read() {
	defer close(l.done)
	rd := NewReader(activityReader{l.s, l.p, l.r.f.download, &l.paced}, readBuffer)
	rd.Expect(MsgBlock, MsgNotFound, MsgEnd, MsgError)
	rd.Hook(l.frameHook)
	if l.r.reuse {
		rd.Alloc(getBody)
	}
	var failed error
	for {
		l.mu.Lock()
		if len(l.pending) == 0 {
			closed := l.closed
			l.mu.Unlock()
			if closed {
				break
			}
			select {
			case <-l.wake:
				continue
			case <-l.p.ctx.Done():
				failed = l.p.ctx.Err()
			}
			break
		}
		lb := l.pending[0]
		l.mu.Unlock()
		var err error
		if failed == nil {
			err = l.r.readAnswer(l.p, lb.b, rd, lb.sent)
		}
		l.r.sched.batchEnd(lb.b)
		l.mu.Lock()
		l.pending = l.pending[1:]
		l.mu.Unlock()
		if err != nil && failed == nil {
			failed = err
			var de *dropError
			if errors.As(err, &de) && l.p.ctx.Err() == nil {
				l.r.sched.drop(l.p, de.kind, de.msg)
			}
		}
	}
	// End whatever is left (after a failure) so its wants are requeued.
	l.mu.Lock()
	rest := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, lb := range rest {
		l.r.sched.batchEnd(lb.b)
	}
	if failed == nil {
		_ = l.s.Close()
	} else {
		_ = l.s.Reset()
	}
}

// finish stops sending on the lane and waits for its reader to end.
func (l *lane) finish() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	_ = l.s.CloseWrite()
	l.signal()
	<-l.done
	if !l.stop() {
		<-l.resetOK
	}
}
