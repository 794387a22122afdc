package fetch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol"
)

// MsgType is the type byte of a frame. Values are part of the wire format.
type MsgType byte

// Frame types of /kith/fetch/1.0.0.
const (
	MsgRequest  MsgType = 1 // requester -> server: CIDs wanted, in order
	MsgBlock    MsgType = 2 // server -> requester: a CID and its bytes
	MsgNotFound MsgType = 3 // server -> requester: the server lacks a CID
	MsgEnd      MsgType = 4 // server -> requester: the answer is complete
	MsgError    MsgType = 5 // server -> requester: the request failed
)

// String names the frame type for logs and errors.
func (t MsgType) String() string {
	switch t {
	case MsgRequest:
		return "request"
	case MsgBlock:
		return "block"
	case MsgNotFound:
		return "not-found"
	case MsgEnd:
		return "end"
	case MsgError:
		return "error"
	default:
		return fmt.Sprintf("type %d", byte(t))
	}
}

// Bounds of the wire format. A frame over its bound is refused before
// anything is allocated for it.
const (
	// MaxBlockSize is the largest block the protocol carries: twice the
	// 1 MiB IPIP-499 chunk, which leaves room for other importers' layouts.
	MaxBlockSize = 2 << 20
	// MaxRequestCIDs is the most CIDs one Request may name.
	MaxRequestCIDs = 4096
	// MaxCIDLen bounds one binary CID (a CIDv1 with a 512-bit digest is ~70).
	MaxCIDLen = 128
	// MaxErrorText bounds the text of an Error frame.
	MaxErrorText = 256

	maxCIDField     = binary.MaxVarintLen16 + MaxCIDLen // uvarint length + CID
	maxRequestBody  = binary.MaxVarintLen16 + MaxRequestCIDs*maxCIDField
	maxBlockBody    = maxCIDField + MaxBlockSize
	maxErrorBody    = 1 + binary.MaxVarintLen16 + MaxErrorText
	maxFrame        = 1 + maxBlockBody // the largest frame of any type
	frameHeaderSize = binary.MaxVarintLen32 + 1
)

// ErrMalformed is wrapped by every decoding error caused by the bytes
// received (as opposed to I/O errors of the underlying reader).
var ErrMalformed = errors.New("malformed fetch message")

// ErrTooLarge is wrapped when a frame or a field is over the protocol's
// bounds, on either side.
var ErrTooLarge = errors.New("fetch message too large")

// Message is one decoded frame. Only the fields of its Type are set.
type Message struct {
	Type MsgType
	// CIDs are the wanted blocks of a MsgRequest, in order.
	CIDs []cid.Cid
	// Cid names the block of a MsgBlock or MsgNotFound.
	Cid cid.Cid
	// Data is the block's bytes of a MsgBlock. It is owned by the caller
	// (a fresh allocation per frame, or from the Reader's Alloc), so it can
	// become a stored block.
	Data []byte
	// body is Data as Alloc returned it (nil without an Alloc), for the
	// caller to give back.
	body []byte
	// Code and Text describe a MsgError. Text is untrusted.
	Code protocol.ErrorCode
	Text string
}

// maxBody is the largest payload (after the type byte) of each frame type.
func maxBody(t MsgType) (int, bool) {
	switch t {
	case MsgRequest:
		return maxRequestBody, true
	case MsgBlock:
		return maxBlockBody, true
	case MsgNotFound:
		return maxCIDField, true
	case MsgEnd:
		return 0, true
	case MsgError:
		return maxErrorBody, true
	default:
		return 0, false
	}
}

// Reader decodes frames from an io.Reader. It is not safe for concurrent
// use; it never closes the underlying reader.
type Reader struct {
	br     *bufio.Reader
	expect []MsgType
	hook   FrameHook
	alloc  func(n int) []byte
}

// A FrameHook sees each frame's type and body length once its header is
// read, before anything is allocated for the body. An error refuses the
// frame (Next returns it); otherwise done is called once the body has been
// read, or failed to be. Servers reserve the body's memory from the
// resource manager in it; fetchers also start the frame's deadline.
type FrameHook func(t MsgType, bodyLen int) (done func(), err error)

// Expect makes Next refuse, at its header, any frame whose type is not one
// of types: a server expects only requests, and a 2 MiB Block frame sent
// in their place is refused before its body is read. No types: any.
func (r *Reader) Expect(types ...MsgType) { r.expect = types }

// Hook installs h (nil: none).
func (r *Reader) Hook(h FrameHook) { r.hook = h }

// Alloc makes Next read the bytes of each Block frame's block into a
// buffer of exactly their length from f (nil: a fresh allocation for the
// whole frame), so that a caller can reuse them; Message.body is then the
// buffer f returned.
func (r *Reader) Alloc(f func(n int) []byte) { r.alloc = f }

// NewReader returns a Reader buffering r with a buffer of size bytes
// (at least 4 KiB). Large frame bodies are read straight into their own
// allocation, so the buffer only needs to cover headers and small frames.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, max(size, 4096))}
}

// Next reads and decodes one frame. At a clean end of input (no byte of a
// new frame read) it returns io.EOF; a frame cut short gives
// io.ErrUnexpectedEOF; bytes that are not a valid frame give an error
// wrapping ErrMalformed or ErrTooLarge. Next never panics on any input.
func (r *Reader) Next() (Message, error) {
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Message{}, err
		}
		return Message{}, fmt.Errorf("frame length: %w: %v", ErrMalformed, err)
	}
	if n == 0 {
		return Message{}, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	if n > maxFrame {
		return Message{}, fmt.Errorf("%w: frame of %d bytes (limit %d)", ErrTooLarge, n, maxFrame)
	}
	tb, err := r.br.ReadByte()
	if err != nil {
		return Message{}, unexpected(err)
	}
	t := MsgType(tb)
	limit, ok := maxBody(t)
	if !ok {
		return Message{}, fmt.Errorf("%w: unknown frame %s", ErrMalformed, t)
	}
	if len(r.expect) > 0 && !slices.Contains(r.expect, t) {
		return Message{}, fmt.Errorf("%w: unexpected %s frame", ErrMalformed, t)
	}
	bodyLen := int(n - 1)
	if bodyLen > limit {
		return Message{}, fmt.Errorf("%w: %s frame of %d bytes (limit %d)", ErrTooLarge, t, bodyLen, limit)
	}
	if r.hook != nil {
		done, err := r.hook(t, bodyLen)
		if err != nil {
			return Message{}, err
		}
		defer done()
	}
	if t == MsgBlock && r.alloc != nil {
		return r.readBlock(bodyLen)
	}
	body := make([]byte, bodyLen)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return Message{}, unexpected(err)
	}
	m, err := decodeBody(t, body)
	if err != nil {
		return Message{}, fmt.Errorf("%s frame: %w", t, err)
	}
	return m, nil
}

// readBlock reads the body of a Block frame of bodyLen bytes for a Reader
// with an Alloc: the CID from the buffer, then the block's bytes straight
// into a buffer of their own from Alloc, so that they start where the
// buffer starts (the fetcher's come aligned for the store's direct writes).
func (r *Reader) readBlock(bodyLen int) (Message, error) {
	head, err := r.br.Peek(min(bodyLen, maxCIDField))
	if err != nil {
		return Message{}, unexpected(err)
	}
	c, rest, err := readCID(head)
	if err != nil {
		return Message{}, fmt.Errorf("%s frame: %w", MsgBlock, err)
	}
	k := len(head) - len(rest)
	n := bodyLen - k
	if n > MaxBlockSize {
		return Message{}, fmt.Errorf("%s frame: %w: block of %d bytes", MsgBlock, ErrTooLarge, n)
	}
	if _, err := r.br.Discard(k); err != nil {
		return Message{}, unexpected(err)
	}
	data := r.alloc(n)
	if _, err := io.ReadFull(r.br, data); err != nil {
		return Message{}, unexpected(err)
	}
	return Message{Type: MsgBlock, Cid: c, Data: data, body: data}, nil
}

// unexpected turns a clean EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func decodeBody(t MsgType, body []byte) (Message, error) {
	m := Message{Type: t}
	switch t {
	case MsgRequest:
		count, k := binary.Uvarint(body)
		if k <= 0 {
			return m, fmt.Errorf("%w: bad CID count", ErrMalformed)
		}
		if count > MaxRequestCIDs {
			return m, fmt.Errorf("%w: %d CIDs (limit %d)", ErrTooLarge, count, MaxRequestCIDs)
		}
		body = body[k:]
		// Each CID takes at least two bytes, so count is also bounded by
		// the body actually received before allocating for it.
		if count > uint64(len(body)/2) {
			return m, fmt.Errorf("%w: %d CIDs in %d bytes", ErrMalformed, count, len(body))
		}
		m.CIDs = make([]cid.Cid, 0, count)
		for i := uint64(0); i < count; i++ {
			c, rest, err := readCID(body)
			if err != nil {
				return m, fmt.Errorf("CID %d: %w", i, err)
			}
			m.CIDs = append(m.CIDs, c)
			body = rest
		}
	case MsgBlock:
		c, rest, err := readCID(body)
		if err != nil {
			return m, err
		}
		m.Cid, m.Data = c, rest
		if len(m.Data) > MaxBlockSize {
			return m, fmt.Errorf("%w: block of %d bytes", ErrTooLarge, len(m.Data))
		}
		return m, nil
	case MsgNotFound:
		c, rest, err := readCID(body)
		if err != nil {
			return m, err
		}
		m.Cid, body = c, rest
	case MsgEnd:
	case MsgError:
		if len(body) < 1 {
			return m, fmt.Errorf("%w: no error code", ErrMalformed)
		}
		m.Code = protocol.ErrorCode(body[0])
		l, k := binary.Uvarint(body[1:])
		if k <= 0 || l > MaxErrorText || l > uint64(len(body)-1-k) {
			return m, fmt.Errorf("%w: bad error text length", ErrMalformed)
		}
		start := 1 + k
		m.Text = string(body[start : start+int(l)])
		body = body[start+int(l):]
	}
	if len(body) != 0 {
		return m, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(body))
	}
	return m, nil
}

// readCID reads a uvarint-length-prefixed binary CID from the front of b.
func readCID(b []byte) (cid.Cid, []byte, error) {
	l, k := binary.Uvarint(b)
	if k <= 0 {
		return cid.Undef, nil, fmt.Errorf("%w: bad CID length", ErrMalformed)
	}
	if l == 0 || l > MaxCIDLen || l > uint64(len(b)-k) {
		return cid.Undef, nil, fmt.Errorf("%w: CID length %d", ErrMalformed, l)
	}
	end := k + int(l)
	c, err := cid.Cast(b[k:end])
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, b[end:], nil
}

// Writer encodes frames to an io.Writer through a buffer. It is not safe for
// concurrent use; it never closes the underlying writer. Frames reach the
// writer when the buffer fills or on Flush.
type Writer struct {
	w   io.Writer
	bw  *bufio.Writer
	hdr []byte
}

// NewWriter returns a Writer buffering up to size bytes before writing to w.
func NewWriter(w io.Writer, size int) *Writer {
	return &Writer{w: w, bw: bufio.NewWriterSize(w, max(size, 4096)), hdr: make([]byte, 0, 2*frameHeaderSize+maxCIDField)}
}

// WriteRequest writes a Request for cids (1..MaxRequestCIDs of them).
func (w *Writer) WriteRequest(cids []cid.Cid) error {
	if len(cids) == 0 || len(cids) > MaxRequestCIDs {
		return fmt.Errorf("write request: %w: %d CIDs", ErrTooLarge, len(cids))
	}
	body := binary.AppendUvarint(make([]byte, 0, 64*len(cids)), uint64(len(cids)))
	for _, c := range cids {
		var err error
		if body, err = appendCID(body, c); err != nil {
			return fmt.Errorf("write request: %w", err)
		}
	}
	return w.frame(MsgRequest, body, nil)
}

// WriteBlock writes a Block frame carrying data under c. data is not
// retained after the call returns.
func (w *Writer) WriteBlock(c cid.Cid, data []byte) error {
	if len(data) > MaxBlockSize {
		return fmt.Errorf("write block %s: %w: %d bytes", c, ErrTooLarge, len(data))
	}
	head, err := appendCID(w.hdr[:0], c)
	if err != nil {
		return fmt.Errorf("write block: %w", err)
	}
	return w.frame(MsgBlock, head, data)
}

// WriteNotFound writes a NotFound frame for c.
func (w *Writer) WriteNotFound(c cid.Cid) error {
	body, err := appendCID(nil, c)
	if err != nil {
		return fmt.Errorf("write not-found: %w", err)
	}
	return w.frame(MsgNotFound, body, nil)
}

// WriteEnd writes the End frame that completes an answer.
func (w *Writer) WriteEnd() error { return w.frame(MsgEnd, nil, nil) }

// WriteError writes an Error frame. text is cut to MaxErrorText bytes.
func (w *Writer) WriteError(code protocol.ErrorCode, text string) error {
	if len(text) > MaxErrorText {
		text = text[:MaxErrorText]
	}
	body := append([]byte{byte(code)}, binary.AppendUvarint(nil, uint64(len(text)))...)
	return w.frame(MsgError, append(body, text...), nil)
}

// Flush writes any buffered frames to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// frame writes a frame whose payload is head followed by tail. A tail larger
// than the buffer (a block) goes to the underlying writer in one Write
// instead of being copied through the buffer in pieces: fewer, larger writes
// mean fewer transport frames per block.
func (w *Writer) frame(t MsgType, head, tail []byte) error {
	var hb [frameHeaderSize]byte
	h := binary.AppendUvarint(hb[:0], uint64(1+len(head)+len(tail)))
	h = append(h, byte(t))
	if _, err := w.bw.Write(h); err != nil {
		return err
	}
	if _, err := w.bw.Write(head); err != nil {
		return err
	}
	if len(tail) <= w.bw.Available() {
		_, err := w.bw.Write(tail)
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	_, err := w.w.Write(tail)
	return err
}

func appendCID(b []byte, c cid.Cid) ([]byte, error) {
	if !c.Defined() {
		return nil, fmt.Errorf("%w: undefined CID", ErrMalformed)
	}
	cb := c.Bytes()
	if len(cb) > MaxCIDLen {
		return nil, fmt.Errorf("%w: CID of %d bytes", ErrTooLarge, len(cb))
	}
	b = binary.AppendUvarint(b, uint64(len(cb)))
	return append(b, cb...), nil
}
