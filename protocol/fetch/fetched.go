package fetch

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pprotocol "github.com/libp2p/go-libp2p/core/protocol"
)

// FetchedID is the protocol by which a requester tells a peer that served
// it that a fetch finished: it holds all it asked for under a root. It
// lets a sender say "your friend has it all" rather than guess from a
// quiet connection (the fetch protocol itself never says when a requester
// is done: it may ask again at any time).
//
// One notice per stream: the requester writes uvarint(length) | binary CID
// (at most MaxCIDLen bytes) and closes its write side; the server reads
// it, closes the stream, and takes it as the peer's word (nothing is
// verified: it only informs). A peer that does not speak the protocol is
// simply not told.
const FetchedID libp2pprotocol.ID = "/kith/fetched/1.0.0"

// fetchedTimeout bounds a notice, both ways: the server's wait for it, and
// a requester's open, write and wait for the server's close.
const fetchedTimeout = 5 * time.Second

// WriteFetched writes the notice that root was fetched.
func WriteFetched(w io.Writer, root cid.Cid) error {
	b := root.Bytes()
	if len(b) > MaxCIDLen {
		return fmt.Errorf("write fetched notice: CID of %d bytes: %w", len(b), ErrTooLarge)
	}
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen16+len(b)), uint64(len(b)))
	_, err := w.Write(append(buf, b...))
	return err
}

// ReadFetched reads one notice, refusing a length over MaxCIDLen before
// it reads the CID.
func ReadFetched(r io.Reader) (cid.Cid, error) {
	br := bufio.NewReaderSize(r, binary.MaxVarintLen16+MaxCIDLen)
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return cid.Undef, fmt.Errorf("read fetched notice: %w", err)
	}
	if n == 0 || n > MaxCIDLen {
		return cid.Undef, fmt.Errorf("read fetched notice: CID of %d bytes: %w", n, ErrTooLarge)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return cid.Undef, fmt.Errorf("read fetched notice: %w", err)
	}
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("read fetched notice: %w: %w", err, ErrMalformed)
	}
	return c, nil
}

// TellFetched tells p, over a connection open already (it never dials),
// that this host's fetch of root finished, and returns once p has read
// it (or fetchedTimeout passed).
func TellFetched(ctx context.Context, h host.Host, p peer.ID, root cid.Cid) error {
	ctx, cancel := context.WithTimeout(ctx, fetchedTimeout)
	defer cancel()
	s, err := h.NewStream(network.WithNoDial(ctx, "tell a peer a fetch finished"), p, FetchedID)
	if err != nil {
		return fmt.Errorf("tell %s the fetch of %s finished: %w", p, root, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if err := WriteFetched(s, root); err != nil {
		_ = s.Reset()
		return fmt.Errorf("tell %s the fetch of %s finished: %w", p, root, err)
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return fmt.Errorf("tell %s the fetch of %s finished: %w", p, root, err)
	}
	// The server closes the stream once it has read the notice: its EOF
	// says the notice arrived.
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		_ = s.Reset()
		if err == nil {
			err = errors.New("the peer answered a notice that takes no answer")
		}
		return fmt.Errorf("tell %s the fetch of %s finished: %w", p, root, err)
	}
	return s.Close()
}

// HandleFetched serves FetchedID on h, calling fn with each notice (on
// the stream's goroutine: fn must not block for long). stop removes the
// handler.
func HandleFetched(h host.Host, fn func(from peer.ID, root cid.Cid)) (stop func()) {
	h.SetStreamHandler(FetchedID, func(s network.Stream) {
		_ = s.SetDeadline(time.Now().Add(fetchedTimeout))
		c, err := ReadFetched(s)
		if err != nil {
			_ = s.Reset()
			return
		}
		fn(s.Conn().RemotePeer(), c)
		_ = s.Close()
	})
	return func() { h.RemoveStreamHandler(FetchedID) }
}
