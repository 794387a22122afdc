package dht

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait in these tests; generous for -race on a
// loaded machine, never reached when things work.
const testTimeout = 30 * time.Second

// shortReprovide is the reprovide interval of tests that watch reprovides.
const shortReprovide = time.Second

type node struct {
	h host.Host
	d *DHT
}

func (n *node) info() peer.AddrInfo { return peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()} }

// newHost starts a libp2p host listening on loopback only; it is closed
// when the test ends (after the DHT, as cleanups run in reverse order).
func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatalf("new host: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// kithProtocol is the protocol of the closed, single DHT these tests run.
const kithProtocol = KithPrefix + "/kad/1.0.0"

// newNode starts a host and a single (not dual: loopback addresses are
// neither public nor LAN to kad-dht's filters) kith DHT in server mode:
// loopback hosts are never "publicly reachable", so ModeAuto would leave
// every node a client.
func newNode(t *testing.T, opts ...Option) *node {
	t.Helper()
	h := newHost(t)
	base := []Option{WithMode(ModeServer), WithDual(false), WithProtocolPrefix(KithPrefix)}
	d, err := New(context.Background(), h, append(base, opts...)...)
	if err != nil {
		t.Fatalf("new dht: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close dht: %v", err)
		}
	})
	return &node{h: h, d: d}
}

func bootstrapPeers(ns ...*node) Option {
	var ais []peer.AddrInfo
	for _, n := range ns {
		ais = append(ais, n.info())
	}
	return WithBootstrapPeers(ais)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func bootstrap(t *testing.T, ctx context.Context, ns ...*node) {
	t.Helper()
	for _, n := range ns {
		if err := n.d.Bootstrap(ctx); err != nil {
			t.Fatalf("bootstrap %s: %v", n.h.ID(), err)
		}
	}
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", testTimeout, what)
		}
		<-tick.C
	}
}

func testCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// findProvider runs one FindProviders lookup and reports whether want was
// among the results, with the addresses it came with.
func findProvider(ctx context.Context, d *DHT, c cid.Cid, want peer.ID) (peer.AddrInfo, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var found peer.AddrInfo
	ok := false
	for ai := range d.FindProviders(ctx, c, 0) {
		if ai.ID == want {
			found, ok = ai, true
		}
	}
	return found, ok
}

// storedProvider reports whether n's provider store holds a record saying
// that p provides c: the state a provide or reprovide leaves on a DHT server.
func storedProvider(t *testing.T, n *node, c cid.Cid, p peer.ID) bool {
	t.Helper()
	provs, err := n.d.wan.ProviderStore().GetProviders(context.Background(), c.Hash())
	if err != nil {
		t.Fatalf("read provider store of %s: %v", n.h.ID(), err)
	}
	return slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == p })
}

// addrsSubset reports whether every address in got is one of h's listen
// addresses, i.e. the lookup returned real addresses of h.
func addrsSubset(got []ma.Multiaddr, h host.Host) bool {
	for _, a := range got {
		if !slices.ContainsFunc(h.Addrs(), a.Equal) {
			return false
		}
	}
	return len(got) > 0
}

// addProviderCounter counts ADD_PROVIDER requests a DHT server receives,
// per sender and key, to observe (re)provides from the outside.
type addProviderCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func newAddProviderCounter() *addProviderCounter {
	return &addProviderCounter{n: make(map[string]int)}
}

func (c *addProviderCounter) option() Option {
	return withKadOptions(kaddht.OnRequestHook(func(_ context.Context, s network.Stream, req *pb.Message) {
		if req.GetType() != pb.Message_ADD_PROVIDER {
			return
		}
		c.mu.Lock()
		c.n[string(s.Conn().RemotePeer())+string(req.GetKey())]++
		c.mu.Unlock()
	}))
}

func (c *addProviderCounter) count(from peer.ID, k cid.Cid) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[string(from)+string(k.Hash())]
}
