package fetch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

// TestFetchedCodec: a notice crosses net.Pipe whole; a length over the
// bound is refused before the CID is read, and bytes that are no CID are
// malformed.
func TestFetchedCodec(t *testing.T) {
	root := testRoot(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _ = WriteFetched(a, root) }()
	got, err := ReadFetched(b)
	if err != nil || !got.Equals(root) {
		t.Fatalf("ReadFetched = %s, %v; want %s", got, err, root)
	}

	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"too long", binary.AppendUvarint(nil, MaxCIDLen+1), ErrTooLarge},
		{"empty", binary.AppendUvarint(nil, 0), ErrTooLarge},
		{"not a CID", append(binary.AppendUvarint(nil, 3), 0xff, 0xff, 0xff), ErrMalformed},
	} {
		if _, err := ReadFetched(bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: ReadFetched: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := ReadFetched(bytes.NewReader(binary.AppendUvarint(nil, 34))); err == nil {
		t.Error("ReadFetched took a notice cut short")
	}
}

// TestTellFetched: a peer serving the protocol hears the notice, and the
// teller returns once it has; a peer that does not serve it, or one not
// connected (the teller never dials), is an error.
func TestTellFetched(t *testing.T) {
	a, b, c := newLoopbackHost(t), newLoopbackHost(t), newLoopbackHost(t)
	type notice struct {
		from peer.ID
		root cid.Cid
	}
	heard := make(chan notice, 1)
	stop := HandleFetched(b, func(from peer.ID, root cid.Cid) { heard <- notice{from, root} })
	defer stop()
	ctx := testCtx(t, 10*time.Second)
	for _, p := range []host.Host{b, c} {
		if err := a.Connect(ctx, addrInfo(p)); err != nil {
			t.Fatal(err)
		}
	}
	root := testRoot(t)
	if err := TellFetched(ctx, a, b.ID(), root); err != nil {
		t.Fatalf("TellFetched: %v", err)
	}
	select {
	case n := <-heard:
		if n.from != a.ID() || !n.root.Equals(root) {
			t.Errorf("heard %s from %s, want %s from %s", n.root, n.from, root, a.ID())
		}
	default:
		t.Fatal("TellFetched returned before the peer heard it")
	}
	if err := TellFetched(ctx, a, c.ID(), root); err == nil {
		t.Error("TellFetched to a peer that does not serve the protocol succeeded")
	}
	stop()
	if err := a.Network().ClosePeer(b.ID()); err != nil {
		t.Fatal(err)
	}
	HandleFetched(b, func(peer.ID, cid.Cid) { t.Error("a peer not connected was told") })
	defer b.RemoveStreamHandler(FetchedID)
	if err := TellFetched(ctx, a, b.ID(), root); err == nil {
		t.Error("TellFetched dialled a peer not connected")
	}
}

func testRoot(tb testing.TB) cid.Cid {
	hash, err := mh.Sum([]byte("a root"), mh.SHA2_256, -1)
	if err != nil {
		tb.Fatal(err)
	}
	return cid.NewCidV1(cid.DagProtobuf, hash)
}
