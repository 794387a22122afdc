package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol"
)

const (
	// requestTimeout bounds how long a new stream may take to deliver its
	// Request; a peer that opens streams and says nothing must not hold
	// handlers.
	requestTimeout = 10 * time.Second
	// blockWriteTimeout bounds the write of one block, so a requester that
	// stops reading (a full flow-control window) cannot pin a handler.
	blockWriteTimeout = 30 * time.Second
	// serverWriteBuffer is the response buffer: large enough that small
	// blocks and NotFound frames go out in few transport writes.
	serverWriteBuffer = 256 << 10
)

// Server answers /kith/fetch/1.0.0 requests from a blockstore. It serves
// whatever the store returns without verifying it (the requester verifies,
// and a store is trusted by its owner).
//
// Each stream is handled in the goroutine libp2p starts for it; the store
// must be safe for concurrent use.
type Server struct {
	h       host.Host
	bs      blockstore.Blockstore
	limiter *rate.Limiter
	metrics *Metrics
	served  ServeObserver

	ctx    context.Context // cancelled by Close: ends waits on the store and the limiter
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	streams map[network.Stream]struct{}
	wg      sync.WaitGroup
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithUploadLimit caps the bytes per second the server sends, over all its
// streams and peers together (one token bucket). bytesPerSecond <= 0 means
// no limit (the default). Blocks are paced whole, so bursts reach up to one
// maximal block.
func WithUploadLimit(bytesPerSecond int64) ServerOption {
	return WithUploadLimiter(NewUploadLimiter(bytesPerSecond))
}

// WithUploadLimiter paces what the server sends with l, a bucket that other
// servers (Bitswap's) may share so that one cap covers all uploads; nil
// means no limit. Build it with NewUploadLimiter; SetUploadLimit changes
// it while it is in use.
func WithUploadLimiter(l *rate.Limiter) ServerOption {
	return func(s *Server) { s.limiter = l }
}

// NewUploadLimiter returns a token bucket of bytesPerSecond (no limit when
// bytesPerSecond <= 0) whose burst holds one maximal block with its
// framing.
func NewUploadLimiter(bytesPerSecond int64) *rate.Limiter {
	l := rate.NewLimiter(unlimited, MaxBlockSize+frameHeaderSize+maxCIDField)
	SetUploadLimit(l, bytesPerSecond)
	return l
}

// SetUploadLimit changes an upload limiter's rate (bytesPerSecond <= 0:
// no limit) from now on.
func SetUploadLimit(l *rate.Limiter, bytesPerSecond int64) {
	l.SetLimit(limitOf(bytesPerSecond))
}

// unlimited is the rate of a limiter set to no limit. Not rate.Inf: a
// limiter moved from rate.Inf to a finite rate within one clock tick
// computes its tokens as 0 * Inf, NaN, and then never makes anyone wait.
const unlimited = rate.Limit(math.MaxFloat64)

// limitOf is bytesPerSecond as a limiter's rate: <= 0 is no limit.
func limitOf(bytesPerSecond int64) rate.Limit {
	if bytesPerSecond <= 0 {
		return unlimited
	}
	return rate.Limit(bytesPerSecond)
}

// LimitOf is a limiter's rate in bytes per second, 0 for none.
func LimitOf(l *rate.Limiter) int64 {
	if l == nil || l.Limit() == unlimited {
		return 0
	}
	return int64(l.Limit())
}

// WithServerMetrics records blocks and bytes served in m (nil: no metrics).
func WithServerMetrics(m *Metrics) ServerOption {
	return func(s *Server) { s.metrics = m }
}

// ServeObserver is told of every block a server sent, and to whom. It is
// called on the serving goroutine, so it must be quick (a local lookup at
// most, never a wait on the network); the block's bytes are the server's
// buffer, valid only during the call: fn must neither change nor keep them.
type ServeObserver func(to peer.ID, b blocks.Block)

// WithServeObserver calls fn for every block the server sends (nil: no
// one is told), so the node can show who downloads what.
func WithServeObserver(fn ServeObserver) ServerOption {
	return func(s *Server) { s.served = fn }
}

// NewServer registers the fetch protocol handler on h, serving blocks from
// bs, and returns the running Server. Call Close to unregister it.
func NewServer(h host.Host, bs blockstore.Blockstore, opts ...ServerOption) *Server {
	s := &Server{h: h, bs: bs, streams: make(map[network.Stream]struct{})}
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(ID, s.handle)
	return s
}

// Close removes the stream handler, resets the streams being served and
// waits until every handler has returned. It is safe to call more than once.
func (s *Server) Close() error {
	s.h.RemoveStreamHandler(ID)
	s.mu.Lock()
	s.closed = true
	for str := range s.streams {
		_ = str.Reset()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) handle(str network.Stream) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = str.Reset()
		return
	}
	s.streams[str] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, str)
		s.mu.Unlock()
		s.wg.Done()
	}()

	if err := s.serve(str); err != nil {
		_ = str.Reset()
		return
	}
	_ = str.Close()
}

// serve answers the requests of str, one after another, until the
// requester closes its side. A requester may pipeline requests on one
// stream (it keeps long-lived streams, whose flow-control windows have grown)
// or send one and close. A nil error means every answer was written in full
// (or an Error frame was) and the stream should be closed.
func (s *Server) serve(str network.Stream) error {
	rd := NewReader(str, 4096)
	// Only requests come this way; a request's body is reserved from the
	// stream's resource scope (its peer's and /kith/fetch's limits) before
	// it is allocated, so peers that send headers and hold their bodies
	// back cannot make the daemon allocate beyond those limits.
	rd.Expect(MsgRequest)
	rd.Hook(reserveBody(str))
	// The response buffer is made once there is something to answer.
	lazy := &lazyWriter{str: str}
	for first := true; ; first = false {
		// The first request must come promptly; later ones may follow
		// whenever the requester has more work for this peer.
		timeout := requestTimeout
		if !first {
			timeout = idleLaneTimeout
		}
		_ = str.SetReadDeadline(time.Now().Add(timeout))
		req, err := rd.Next()
		_ = str.SetReadDeadline(time.Time{})
		if !first && errors.Is(err, io.EOF) {
			return nil
		}
		w := lazy.w
		if w == nil && err != nil {
			w = NewWriter(str, 0) // an Error frame needs no big buffer
		} else if w == nil {
			w = lazy.get()
		}
		if err := s.answer(str, w, req, err); err != nil {
			return err
		}
		if req.Type != MsgRequest {
			return nil // an Error frame was sent
		}
	}
}

// answer writes the answer to one request (or the Error frame for a bad one).
func (s *Server) answer(str network.Stream, w *Writer, req Message, err error) error {
	if err != nil {
		if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
			return writeError(str, w, protocol.CodeInvalid, err.Error())
		}
		return fmt.Errorf("read request: %w", err)
	}
	if req.Type != MsgRequest {
		return writeError(str, w, protocol.CodeInvalid, "expected a request, got "+req.Type.String())
	}
	for _, c := range req.CIDs {
		data, pooled, err := s.read(c)
		// Any store failure is answered as NotFound: the requester then asks
		// another provider, which is the useful reaction to a local disk
		// error too.
		if err != nil || len(data) > MaxBlockSize {
			if s.ctx.Err() != nil {
				return s.ctx.Err()
			}
			_ = str.SetWriteDeadline(time.Now().Add(blockWriteTimeout))
			if err := w.WriteNotFound(c); err != nil {
				return err
			}
			continue
		}
		if s.limiter != nil {
			if err := s.limiter.WaitN(s.ctx, len(data)+frameHeaderSize+maxCIDField); err != nil {
				return err
			}
		}
		_ = str.SetWriteDeadline(time.Now().Add(blockWriteTimeout))
		if err := w.WriteBlock(c, data); err != nil {
			// The transport may still hold data: it does not go back
			// to the pool.
			return err
		}
		s.metrics.served(len(data))
		if s.served != nil {
			if blk, err := blocks.NewBlockWithCid(data, c); err == nil {
				s.served(str.Conn().RemotePeer(), blk)
			}
		}
		if pooled {
			// Written: the transport copied what it still has to send.
			putBody(data)
		}
	}
	_ = str.SetWriteDeadline(time.Now().Add(blockWriteTimeout))
	if err := w.WriteEnd(); err != nil {
		return err
	}
	return w.Flush()
}

// read returns c's bytes. A store that reads into buffers it is given
// (blockstore.BlockReader) gets them from the body pools (pooled is then
// true), and the caller gives them back with putBody once they are
// written: serving a GiB of large blocks then makes no GiB of garbage.
func (s *Server) read(c cid.Cid) (data []byte, pooled bool, err error) {
	if r, ok := s.bs.(blockstore.BlockReader); ok {
		data, err = r.ReadBlock(s.ctx, c, getBody)
		return data, err == nil, err
	}
	blk, err := s.bs.Get(s.ctx, c)
	if err != nil {
		return nil, false, err
	}
	return blk.RawData(), false, nil
}

// lazyWriter makes the stream's response Writer on first use: a stream
// that never gets as far as a request costs no buffer.
type lazyWriter struct {
	str network.Stream
	w   *Writer
}

func (l *lazyWriter) get() *Writer {
	if l.w == nil {
		l.w = NewWriter(l.str, serverWriteBuffer)
	}
	return l.w
}

// ErrNoMemory is wrapped when the resource manager refuses the memory for
// a frame's body: the peer (or all peers of /kith/fetch together) has as
// many bodies in flight as the limits allow.
var ErrNoMemory = errors.New("fetch: over the memory limit for frames")

// reserveBody returns a FrameHook that reserves each body's bytes from
// str's resource scope while it is read.
func reserveBody(str network.Stream) FrameHook {
	return func(t MsgType, n int) (func(), error) {
		if n == 0 {
			return func() {}, nil
		}
		sc := str.Scope()
		if err := sc.ReserveMemory(n, network.ReservationPriorityAlways); err != nil {
			return nil, fmt.Errorf("%w: %s frame of %d bytes: %v", ErrNoMemory, t, n, err)
		}
		return func() { sc.ReleaseMemory(n) }, nil
	}
}

// idleLaneTimeout bounds how long a stream may sit between requests.
const idleLaneTimeout = 2 * time.Minute

func writeError(str network.Stream, w *Writer, code protocol.ErrorCode, text string) error {
	_ = str.SetWriteDeadline(time.Now().Add(blockWriteTimeout))
	if err := w.WriteError(code, text); err != nil {
		return err
	}
	return w.Flush()
}
