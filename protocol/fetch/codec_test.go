package fetch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/protocol"
)

func rawCID(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	h, err := mh.Sum(data, mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

func manyCIDs(t testing.TB, n int) []cid.Cid {
	out := make([]cid.Cid, n)
	for i := range out {
		out[i] = rawCID(t, binary.AppendUvarint(nil, uint64(i)))
	}
	return out
}

// TestCodecPipe sends every frame type across net.Pipe, in both directions
// at once, and checks what arrives.
func TestCodecPipe(t *testing.T) {
	big := detBytes(1, MaxBlockSize)
	bigCID := rawCID(t, big)
	cids := manyCIDs(t, MaxRequestCIDs)
	send := func(w *Writer) error {
		steps := []func() error{
			func() error { return w.WriteRequest(cids) },
			func() error { return w.WriteBlock(bigCID, big) },
			func() error { return w.WriteBlock(cids[0], nil) },
			func() error { return w.WriteNotFound(cids[1]) },
			func() error { return w.WriteError(protocol.CodeUnavailable, "busy") },
			w.WriteEnd,
			w.Flush,
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	}
	check := func(r *Reader) error {
		want := []Message{
			{Type: MsgRequest, CIDs: cids},
			{Type: MsgBlock, Cid: bigCID, Data: big},
			{Type: MsgBlock, Cid: cids[0]},
			{Type: MsgNotFound, Cid: cids[1]},
			{Type: MsgError, Code: protocol.CodeUnavailable, Text: "busy"},
			{Type: MsgEnd},
		}
		for _, w := range want {
			m, err := r.Next()
			if err != nil {
				return err
			}
			if !sameMessage(m, w) {
				return errors.New("message " + w.Type.String() + " differs")
			}
		}
		return nil
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errs := make(chan error, 4)
	go func() { errs <- send(NewWriter(a, 256<<10)) }()
	go func() { errs <- send(NewWriter(b, 0)) }()
	go func() { errs <- check(NewReader(a, 0)) }()
	go func() {
		// The fetcher's reader: block bytes land in buffers of their own.
		r := NewReader(b, 64<<10)
		r.Alloc(getBody)
		errs <- check(r)
	}()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func sameMessage(a, b Message) bool {
	if a.Type != b.Type || len(a.CIDs) != len(b.CIDs) || !bytes.Equal(a.Data, b.Data) ||
		a.Code != b.Code || a.Text != b.Text || a.Cid.Defined() != b.Cid.Defined() ||
		(a.Cid.Defined() && !a.Cid.Equals(b.Cid)) {
		return false
	}
	for i := range a.CIDs {
		if !a.CIDs[i].Equals(b.CIDs[i]) {
			return false
		}
	}
	return true
}

func TestCodecWriterRefusesOversize(t *testing.T) {
	w := NewWriter(io.Discard, 0)
	c := rawCID(t, []byte("x"))
	tests := []struct {
		name string
		err  error
	}{
		{"block over MaxBlockSize", w.WriteBlock(c, make([]byte, MaxBlockSize+1))},
		{"too many CIDs", w.WriteRequest(manyCIDs(t, MaxRequestCIDs+1))},
		{"empty request", w.WriteRequest(nil)},
		{"undefined CID", w.WriteNotFound(cid.Undef)},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// frame builds a raw frame with a declared length (which may lie).
func frame(length uint64, t MsgType, body []byte) []byte {
	b := binary.AppendUvarint(nil, length)
	b = append(b, byte(t))
	return append(b, body...)
}

func TestCodecRejectsBadInput(t *testing.T) {
	c := rawCID(t, []byte("x"))
	cidField := append(binary.AppendUvarint(nil, uint64(c.ByteLen())), c.Bytes()...)
	var valid bytes.Buffer
	w := NewWriter(&valid, 0)
	_ = w.WriteBlock(c, []byte("hello"))
	_ = w.Flush()

	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, io.EOF},
		{"huge declared frame", frame(1<<40, MsgBlock, nil), ErrTooLarge},
		{"frame over max", frame(maxFrame+1, MsgBlock, nil), ErrTooLarge},
		{"request body over its bound", frame(maxRequestBody+2, MsgRequest, nil), ErrTooLarge},
		{"not-found over its bound", frame(maxCIDField+2, MsgNotFound, nil), ErrTooLarge},
		{"end with a body", frame(2, MsgEnd, []byte{0}), ErrTooLarge},
		{"zero length", []byte{0}, ErrMalformed},
		{"unknown type", frame(1, 99, nil), ErrMalformed},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), ErrMalformed},
		{"truncated length", []byte{0x80}, io.ErrUnexpectedEOF},
		{"truncated type", binary.AppendUvarint(nil, 5), io.ErrUnexpectedEOF},
		{"truncated body", valid.Bytes()[:valid.Len()-1], io.ErrUnexpectedEOF},
		{"request count lies", frame(3, MsgRequest, []byte{100, 1}), ErrMalformed},
		{"request count over max", frame(3, MsgRequest, binary.AppendUvarint(nil, MaxRequestCIDs+1)), ErrTooLarge},
		{"request trailing bytes", frame(uint64(2+len(cidField)+1), MsgRequest, append(append([]byte{1}, cidField...), 7)), ErrMalformed},
		{"garbage CID", frame(5, MsgNotFound, []byte{3, 0xde, 0xad, 0xbe}), ErrMalformed},
		{"zero-length CID", frame(2, MsgNotFound, []byte{0}), ErrMalformed},
		{"error text lies", frame(4, MsgError, []byte{1, 50, 'a'}), ErrMalformed},
		{"error without code", frame(1, MsgError, nil), ErrMalformed},
		{"block with garbage CID", frame(5, MsgBlock, []byte{3, 0xde, 0xad, 0xbe}), ErrMalformed},
		{"block CID past the frame", frame(3, MsgBlock, cidField[:2]), ErrMalformed},
		{"block over MaxBlockSize", frame(uint64(1+len(cidField)+MaxBlockSize+1), MsgBlock, append(cidField, make([]byte, MaxBlockSize+1)...)), ErrTooLarge},
	}
	// Block frames take another path with an Alloc: both must refuse alike.
	for _, alloc := range []func(int) []byte{nil, getBody} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/alloc %v", tt.name, alloc != nil), func(t *testing.T) {
				r := NewReader(bytes.NewReader(tt.in), 0)
				r.Alloc(alloc)
				_, err := r.Next()
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// TestCodecOversizeNotAllocated checks the bound is applied before the body
// is read: a huge declared frame fails without touching what follows.
func TestCodecOversizeNotAllocated(t *testing.T) {
	in := io.MultiReader(bytes.NewReader(frame(maxFrame+1, MsgBlock, nil)), neverReader{})
	if _, err := NewReader(in, 0).Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
}

// neverReader fails the test by blocking forever if it is ever read.
type neverReader struct{}

func (neverReader) Read([]byte) (int, error) { select {} }

func FuzzDecode(f *testing.F) {
	c := rawCID(f, []byte("seed"))
	var seed bytes.Buffer
	w := NewWriter(&seed, 0)
	_ = w.WriteRequest([]cid.Cid{c, c})
	_ = w.WriteBlock(c, []byte("seed"))
	_ = w.WriteNotFound(c)
	_ = w.WriteError(protocol.CodeInvalid, "bad")
	_ = w.WriteEnd()
	_ = w.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(frame(3, MsgRequest, []byte{100, 1}))
	f.Add(frame(5, MsgNotFound, []byte{3, 0xde, 0xad, 0xbe}))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 0)
		ra := NewReader(bytes.NewReader(in), 0) // the fetcher's: block bytes apart
		ra.Alloc(getBody)
		for range 64 {
			m, err := r.Next()
			ma, erra := ra.Next()
			if (err == nil) != (erra == nil) || (err == nil && !sameMessage(m, ma)) {
				t.Fatalf("with and without Alloc: %v / %v", err, erra)
			}
			if err != nil {
				return
			}
			// Whatever decodes must re-encode to something that decodes
			// to the same message.
			var buf bytes.Buffer
			w := NewWriter(&buf, 0)
			var werr error
			switch m.Type {
			case MsgRequest:
				if len(m.CIDs) == 0 {
					continue // decodable but never written: a request names a CID
				}
				werr = w.WriteRequest(m.CIDs)
			case MsgBlock:
				werr = w.WriteBlock(m.Cid, m.Data)
			case MsgNotFound:
				werr = w.WriteNotFound(m.Cid)
			case MsgEnd:
				werr = w.WriteEnd()
			case MsgError:
				werr = w.WriteError(m.Code, m.Text)
			}
			if werr != nil {
				t.Fatalf("re-encode %s: %v", m.Type, werr)
			}
			_ = w.Flush()
			m2, err := NewReader(&buf, 0).Next()
			if err != nil || !sameMessage(m, m2) {
				t.Fatalf("round trip of %s: %v", m.Type, err)
			}
		}
	})
}
