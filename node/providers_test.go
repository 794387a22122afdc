package node

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/dht/delegated/indextest"
)

// TestProvidersFromDelegatedRouter: content an IPFS node announced only
// to an indexer, as pinning services and storage providers do (never in
// the DHT), is found through a delegated router and fetched over Bitswap;
// a provider the router names without an address is found in the DHT; a
// CID nobody has says the router was asked too.
func TestProvidersFromDelegatedRouter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bitswap := []string{"transport-bitswap"}

	t.Run("with addresses", func(t *testing.T) {
		data := randomData(3<<20 + 17)
		ipfs, root := bitswapPeer(t, data)
		var index indextest.Index
		index.Announce(root, ipfs.ID(), bitswap, ipfs.Addrs()...)
		router := index.Serve(t)
		n := newNodeAt(t, t.TempDir(), func(c *Config) { c.DHT.DelegatedRouters = []string{router} })

		provs, err := n.FindProviders(ctx, root, 5)
		if err != nil || len(provs) != 1 || provs[0].ID != ipfs.ID().String() || len(provs[0].Addrs) == 0 {
			t.Fatalf("providers %+v (%v), want the IPFS node with its addresses", provs, err)
		}
		got, res := getBytes(t, n, root)
		if !bytes.Equal(got, data) || res.Fetched.Peers != 1 {
			t.Fatalf("fetched %d bytes from %d peers, want the file from the IPFS node", len(got), res.Fetched.Peers)
		}
		for _, ua := range index.Asked() {
			if !strings.HasPrefix(ua, "kith/") {
				t.Errorf("the router was asked by %q, want kith/VERSION", ua)
			}
		}

		// Nobody has it: the sentence names where the node looked.
		missing := blocks.NewBlock(randomData(64)).Cid()
		_, err = n.Get(ctx, missing.String(), filepath.Join(t.TempDir(), "x"), nil, nil)
		u, _ := url.Parse(router)
		if !errors.Is(err, blockstore.ErrNotFound) || !strings.Contains(err.Error(), "the DHT and "+u.Host+" name nobody else") {
			t.Fatalf("get of content nobody has: %v", err)
		}
	})

	t.Run("named without an address", func(t *testing.T) {
		data := randomData(1<<20 + 5)
		ipfs, root := bitswapPeer(t, data)
		var index indextest.Index
		index.Announce(root, ipfs.ID(), bitswap) // no address: the DHT knows where it is
		router := index.Serve(t)
		dhtPeer := newLocalNode(t)
		if err := ipfs.Connect(ctx, dhtPeer.Host().Peerstore().PeerInfo(dhtPeer.Host().ID())); err != nil {
			t.Fatal(err)
		}
		n := newNodeAt(t, t.TempDir(), func(c *Config) { c.DHT.DelegatedRouters = []string{router} })
		connect(t, n, dhtPeer.Host())
		waitFor(t, 30*time.Second, "the node to have the DHT peer in its routing table", func() bool {
			return n.dht.RoutingTableSize() > 0
		})
		got, res := getBytes(t, n, root)
		if !bytes.Equal(got, data) || res.Fetched.Peers != 1 {
			t.Fatalf("fetched %d bytes from %d peers, want the file from the IPFS node", len(got), res.Fetched.Peers)
		}
	})
}
