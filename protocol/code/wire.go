package code

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pprotocol "github.com/libp2p/go-libp2p/core/protocol"
)

// ID is the protocol by which a getter asks a sender for the ticket a code
// stands for.
const ID libp2pprotocol.ID = "/kith/code/1.0.0"

// Bounds of the wire format.
const (
	ProofLen  = sha256Len
	MaxTicket = 4096
	sha256Len = 32
	spotLen   = sha256Len
	// timeout bounds one question, both ways.
	timeout = 10 * time.Second
)

// Answer statuses.
const (
	StatusOK      byte = 0
	StatusUnknown byte = 1 // no open code here has that proof
)

// ErrUnknown is the answer of a peer that has no open code with that
// proof: not the sender, or the code was mistyped or closed.
var ErrUnknown = errors.New("the peer has no open code that matches")

// ErrMalformed is a message that breaks the format.
var ErrMalformed = errors.New("malformed code message")

// WriteAnswer writes the answer: the ticket, or, when it is "", unknown.
func WriteAnswer(w io.Writer, ticket string) error {
	if ticket == "" {
		_, err := w.Write([]byte{StatusUnknown})
		return err
	}
	if len(ticket) > MaxTicket {
		return fmt.Errorf("answer with a ticket of %d bytes: over %d", len(ticket), MaxTicket)
	}
	b := binary.AppendUvarint([]byte{StatusOK}, uint64(len(ticket)))
	_, err := w.Write(append(b, ticket...))
	return err
}

// ReadAnswer reads an answer: the ticket, or ErrUnknown.
func ReadAnswer(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	st, err := br.ReadByte()
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	switch st {
	case StatusUnknown:
		return "", ErrUnknown
	case StatusOK:
	default:
		return "", fmt.Errorf("read the answer: status %d: %w", st, ErrMalformed)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if n == 0 || n > MaxTicket {
		return "", fmt.Errorf("read the answer: a ticket of %d bytes: %w", n, ErrMalformed)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	return string(b), nil
}

// Ask asks p, over a connection open already, for the ticket the code of
// keys k stands for.
func Ask(ctx context.Context, h host.Host, p peer.ID, k Keys) (string, error) {
	return AskQuestion(ctx, h, p, k.Question(h.ID(), p))
}

// AskQuestion is Ask with the question made already.
func AskQuestion(ctx context.Context, h host.Host, p peer.ID, q Question) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// A relayed connection will do (a question and a ticket are far
	// below a relay's limits): the ticket then names the sender's
	// addresses for the get, hole punching or not.
	s, err := h.NewStream(network.WithAllowLimitedConn(network.WithNoDial(ctx, "ask for a code's ticket"), "ask for a code's ticket"), p, ID)
	if err != nil {
		return "", fmt.Errorf("ask %s: %w", p, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if _, err := s.Write(append(q.Spot[:], q.Proof[:]...)); err != nil {
		_ = s.Reset()
		return "", fmt.Errorf("ask %s: %w", p, err)
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return "", fmt.Errorf("ask %s: %w", p, err)
	}
	t, err := ReadAnswer(s)
	if err != nil {
		_ = s.Reset()
		return "", fmt.Errorf("ask %s: %w", p, err)
	}
	_ = s.Close()
	return t, nil
}

// Serve answers ID on h: answer is given each question and the peer it
// came from, and returns the ticket, or "" (unknown). stop removes the
// handler.
func Serve(h host.Host, answer func(from peer.ID, q Question) string) (stop func()) {
	h.SetStreamHandler(ID, func(s network.Stream) {
		_ = s.SetDeadline(time.Now().Add(timeout))
		var q Question
		if _, err := io.ReadFull(s, q.Spot[:]); err != nil {
			_ = s.Reset()
			return
		}
		if _, err := io.ReadFull(s, q.Proof[:]); err != nil {
			_ = s.Reset()
			return
		}
		if err := WriteAnswer(s, answer(s.Conn().RemotePeer(), q)); err != nil {
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
	return func() { h.RemoveStreamHandler(ID) }
}
