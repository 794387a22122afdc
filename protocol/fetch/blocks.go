package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/protocol"
)

// ErrHashMismatch is wrapped by FetchBlocks' error when a peer sends bytes
// that do not hash to the CID they were sent under.
var ErrHashMismatch = errors.New("block does not match its CID")

// FetchBlocks asks peer p, on a stream of its own, for cids (at most
// MaxRequestCIDs) and calls got with each block the peer sends, verified
// against its CID, as soon as it has arrived, in the order asked; blocks
// the peer lacks are skipped. It returns how many blocks got received.
//
// It is the single-request counterpart of Fetch, for reading a DAG a few
// blocks at a time (a seek into a file) instead of whole, and it stores
// nothing: the caller decides where verified blocks go. got is called from
// the calling goroutine and must not block for long.
//
// An error means this peer could not be asked or misbehaved, and the
// caller should ask another: bytes that do not match their CID wrap
// ErrHashMismatch, other violations of the protocol ErrMalformed. A peer
// that sends nothing for the Fetcher's stall timeout is given up on. Blocks
// handed to got before an error are good.
func (f *Fetcher) FetchBlocks(ctx context.Context, p peer.ID, cids []cid.Cid, got func(blocks.Block)) (int, error) {
	if len(cids) == 0 {
		return 0, nil
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	s, err := f.h.NewStream(octx, p, ID)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("fetch blocks from %s: open stream: %w", p, err)
	}
	// Resetting the stream is what interrupts a read: on cancellation, and
	// when the peer stalls (mocknet streams have no read deadlines).
	stall := time.AfterFunc(f.stallTimeout, func() { _ = s.Reset() })
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	n, err := f.requestBlocks(ctx, s, stall, cids, got)
	stall.Stop()
	stop()
	if err != nil {
		_ = s.Reset()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return n, fmt.Errorf("fetch blocks from %s: %w", p, err)
	}
	_ = s.Close()
	return n, nil
}

// requestBlocks writes one request on s and reads its answer.
func (f *Fetcher) requestBlocks(ctx context.Context, s network.Stream, stall *time.Timer, cids []cid.Cid, got func(blocks.Block)) (int, error) {
	w := NewWriter(s, 0)
	if err := w.WriteRequest(cids); err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("send request: %w", err)
	}
	_ = s.CloseWrite()
	rd := NewReader(stallReader{ctx: ctx, r: s, t: stall, d: f.stallTimeout, pace: f.download}, readBuffer)
	n := 0
	for _, c := range cids {
		m, err := rd.Next()
		if err != nil {
			return n, answerError(err)
		}
		switch {
		case m.Type == MsgNotFound && m.Cid.Equals(c):
		case m.Type == MsgBlock && m.Cid.Equals(c):
			if err := verify(c, m.Data); err != nil {
				return n, fmt.Errorf("%w: %v", ErrHashMismatch, err)
			}
			blk, err := blocks.NewBlockWithCid(m.Data, c)
			if err != nil {
				return n, err
			}
			f.metrics.fetched(len(m.Data))
			got(blk)
			n++
		case m.Type == MsgError:
			return n, &protocol.RemoteError{Code: m.Code, Message: m.Text}
		default:
			return n, fmt.Errorf("%w: %s frame for %s, expected an answer for %s", ErrMalformed, m.Type, m.Cid, c)
		}
	}
	m, err := rd.Next()
	if err != nil {
		return n, answerError(err)
	}
	if m.Type != MsgEnd {
		return n, fmt.Errorf("%w: expected end, got %s frame", ErrMalformed, m.Type)
	}
	return n, nil
}

func answerError(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read answer: %w", err)
}

// stallReader pushes the stall timer back whenever bytes arrive.
type stallReader struct {
	ctx  context.Context
	r    io.Reader
	t    *time.Timer
	d    time.Duration
	pace *rate.Limiter // the download limit, or nil
}

func (s stallReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if n > 0 {
		s.t.Reset(s.d)
		pace(s.ctx, s.pace, n, func(time.Duration) { s.t.Reset(s.d) })
	}
	return n, err
}
