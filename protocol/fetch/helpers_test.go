package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// detBytes returns n deterministic pseudo-random bytes.
func detBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = io.ReadFull(rand.NewChaCha8(s), b)
	return b
}

// addFile imports data into bs as a UnixFS file and returns its root.
func addFile(tb testing.TB, bs blockstore.Blockstore, data []byte) cid.Cid {
	tb.Helper()
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile(data), nil)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return res.Root
}

// addFolders imports nDirs folders of nFiles files each (sizes from
// sizeOf(i)) into bs and returns the root.
func addFolders(tb testing.TB, bs blockstore.Blockstore, nDirs, nFiles int, sizeOf func(i int) int) cid.Cid {
	tb.Helper()
	dirs := make(map[string]files.Node, nDirs)
	i := 0
	for d := range nDirs {
		fs := make(map[string]files.Node, nFiles)
		for f := range nFiles {
			fs[fmt.Sprintf("file-%04d", f)] = files.NewBytesFile(detBytes(uint64(i+1000), sizeOf(i)))
			i++
		}
		dirs[fmt.Sprintf("dir-%03d", d)] = files.NewMapDirectory(fs)
	}
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewMapDirectory(dirs), nil)
	if err != nil {
		tb.Fatalf("import folders: %v", err)
	}
	return res.Root
}

// dagBlocks lists every block reachable from root in bs, and their bytes.
func dagBlocks(tb testing.TB, bs blockstore.Blockstore, root cid.Cid) (map[cid.Cid]bool, int64) {
	tb.Helper()
	seen := map[cid.Cid]bool{}
	var size int64
	queue := []cid.Cid{root}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[c] {
			continue
		}
		seen[c] = true
		b, err := bs.Get(context.Background(), c)
		if err != nil {
			tb.Fatalf("walk %s: %v", c, err)
		}
		size += int64(len(b.RawData()))
		links, err := blockstore.Links(b)
		if err != nil {
			tb.Fatalf("links of %s: %v", c, err)
		}
		queue = append(queue, links...)
	}
	return seen, size
}

// checkFile reads root back from bs and compares it with want.
func checkFile(tb testing.TB, bs blockstore.Blockstore, root cid.Cid, want []byte) {
	tb.Helper()
	r, _, err := dag.Open(context.Background(), bs, root)
	if err != nil {
		tb.Fatalf("open fetched file: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read fetched file: %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Fatalf("fetched file differs: %d bytes, want %d", len(got), len(want))
	}
}

// newMocknet returns a mocknet of n linked (not connected) hosts, closed
// when the test ends.
func newMocknet(tb testing.TB, n int) (mocknet.Mocknet, []host.Host) {
	tb.Helper()
	mn := mocknet.New()
	tb.Cleanup(func() { _ = mn.Close() })
	hosts := make([]host.Host, n)
	for i := range hosts {
		h, err := mn.GenPeer()
		if err != nil {
			tb.Fatal(err)
		}
		hosts[i] = h
	}
	if err := mn.LinkAll(); err != nil {
		tb.Fatal(err)
	}
	return mn, hosts
}

// setLink changes the options of the link between a and b.
func setLink(tb testing.TB, mn mocknet.Mocknet, a, b host.Host, o mocknet.LinkOptions) {
	tb.Helper()
	links := mn.LinksBetweenPeers(a.ID(), b.ID())
	if len(links) == 0 {
		tb.Fatalf("no link between %s and %s", a.ID(), b.ID())
	}
	for _, l := range links {
		l.SetOptions(o)
	}
}

// serve runs a Server on h until the test ends.
func serve(tb testing.TB, h host.Host, bs blockstore.Blockstore, opts ...ServerOption) *Server {
	tb.Helper()
	s := NewServer(h, bs, opts...)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func addrInfo(h host.Host) peer.AddrInfo {
	return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
}

func infos(hs ...host.Host) Providers {
	ais := make([]peer.AddrInfo, len(hs))
	for i, h := range hs {
		ais[i] = addrInfo(h)
	}
	return StaticProviders(ais...)
}

func testCtx(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// lyingStore serves corrupted bytes (one flipped bit) for every raw block,
// and closes asked when it first does.
type lyingStore struct {
	blockstore.Blockstore
	once  sync.Once
	asked chan struct{}
}

func newLyingStore(bs blockstore.Blockstore) *lyingStore {
	return &lyingStore{Blockstore: bs, asked: make(chan struct{})}
}

func (l *lyingStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := l.Blockstore.Get(ctx, c)
	if err != nil || c.Type() != cid.Raw || len(b.RawData()) == 0 {
		return b, err
	}
	l.once.Do(func() { close(l.asked) })
	data := append([]byte(nil), b.RawData()...)
	data[len(data)/2] ^= 1
	return blocks.NewBlockWithCid(data, c)
}

// stallStore blocks every Get until the context ends, after signalling
// asked once: a server that reads the request and never answers.
type stallStore struct {
	blockstore.Blockstore
	once  sync.Once
	asked chan struct{}
}

func newStallStore(bs blockstore.Blockstore) *stallStore {
	return &stallStore{Blockstore: bs, asked: make(chan struct{})}
}

func (s *stallStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	s.once.Do(func() { close(s.asked) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// identified connects from to to and waits until from's peerstore lists
// /kith/fetch for to. A host that has just started serving may answer the
// first identify with the protocols it had before (identify updates its
// snapshot in the background) and correct them by a push a moment later;
// a fetch that began in between would take the server for a peer that
// speaks neither protocol (seen about once in 120 runs under load).
func identified(tb testing.TB, from, to host.Host) {
	tb.Helper()
	ctx := testCtx(tb, 10*time.Second)
	if err := from.Connect(ctx, addrInfo(to)); err != nil {
		tb.Fatal(err)
	}
	for {
		if ok, _ := from.Peerstore().SupportsProtocols(to.ID(), ID); len(ok) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("%s never listed %s in its identify", to.ID(), ID)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
