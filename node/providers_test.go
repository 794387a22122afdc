package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/dht/delegated/indextest"
	"github.com/kith-p2p/kith/protocol/trustless"
	"github.com/kith-p2p/kith/protocol/trustless/gatewaytest"
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
		if d, err := n.Doctor(ctx); err != nil || !strings.HasPrefix(d.Routers, router+" (providers): answered ") {
			t.Errorf("the doctor's routers: %q (%v), want %s answered", d.Routers, err, router)
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

// trustlessGateway is an HTTP provider holding data as a file
// (gatewaytest) over TLS and HTTP/2 on loopback. It returns the file's
// root, the gateway's HTTPS multiaddr, and how a node must ask it
// (trusting its certificate, at a loopback address).
func trustlessGateway(t *testing.T, data []byte) (cid.Cid, ma.Multiaddr, *trustless.Options) {
	t.Helper()
	h, root := gatewaytest.Handler(t, data)
	srv, pool := gatewaytest.ServeTLS(t, h)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	return root, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/tls/http", port)), &trustless.Options{RootCAs: pool, AllowPrivate: true}
}

// TestFetchFromHTTPProvider: content a pinning service serves from a
// trustless gateway and announced to an indexer only is fetched over
// HTTPS, each block checked, and read from it as well (cat); a node that
// asks only hosts on the internet
// (a daemon) does not ask it on loopback, and says why; with
// fetch.http_providers off it is not asked.
func TestFetchFromHTTPProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := randomData(5<<20 + 321)
	root, addr, trust := trustlessGateway(t, data)
	provider := testPeerID(t)
	var index indextest.Index
	index.Announce(root, provider, []string{"transport-ipfs-gateway-http"}, addr)
	router := index.Serve(t)

	n := newNodeAt(t, t.TempDir(), func(c *Config) {
		c.DHT.DelegatedRouters = []string{router}
		c.Fetch.httpTrust = trust
	})
	got, res := getBytes(t, n, root)
	if !bytes.Equal(got, data) {
		t.Fatalf("fetched %d bytes that differ from the provider's file", len(got))
	}
	if h := res.Fetched.Protocols["http"]; h.Peers != 1 || h.Bytes != res.Fetched.Bytes || res.Fetched.Bytes == 0 {
		t.Fatalf("fetched %+v, want it all over HTTP from one provider", res.Fetched)
	}

	// A read (kith cat, the gateway) streams from it too.
	reader := newNodeAt(t, t.TempDir(), func(c *Config) {
		c.DHT.DelegatedRouters = []string{router}
		c.Fetch.httpTrust = trust
	})
	rc, err := reader.Cat(ctx, root, 1<<20, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	part, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(part, data[1<<20:3<<20]) {
		t.Fatalf("cat of 2 MiB from the HTTP provider: %d bytes that differ (%v)", len(part), err)
	}

	// A node as a daemon runs: it asks only hosts on the internet, so not
	// this one on loopback, and says so.
	daemonLike := newNodeAt(t, t.TempDir(), func(c *Config) { c.DHT.DelegatedRouters = []string{router} })
	_, err = daemonLike.Get(ctx, root.String(), filepath.Join(t.TempDir(), "x"), nil, nil)
	if !errors.Is(err, blockstore.ErrNotFound) || !strings.Contains(err.Error(), "none of them could be asked (HTTP provider 127.0.0.1:") ||
		!strings.Contains(err.Error(), "127.0.0.1 is not a public address") {
		t.Fatalf("get from a provider on loopback, by a node that asks the internet only: %v", err)
	}

	off := newNodeAt(t, t.TempDir(), func(c *Config) {
		c.DHT.DelegatedRouters = []string{router}
		c.Fetch.httpTrust = trust
		c.Fetch.HTTPProviders = false
	})
	if _, err := off.Get(ctx, root.String(), filepath.Join(t.TempDir(), "y"), nil, nil); !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("get with fetch.http_providers off: %v, want not found", err)
	}
}

// testPeerID is a new peer ID of nobody's.
func testPeerID(t testing.TB) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRoutersHow(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	st := []delegated.Status{
		{URL: "https://cid.contact", Answered: now.Add(-90 * time.Second)},
		{URL: "https://a.example", Answered: now.Add(-time.Hour), Failed: now.Add(-5 * time.Second), Err: errors.New("no such host")},
		{URL: "https://b.example"},
		{URL: "https://c.example", Answered: now.Add(-2*time.Hour - 20*time.Second), Failed: now.Add(-3 * time.Hour), Err: errors.New("503")},
	}
	names := []delegated.Status{{URL: "https://delegated-ipfs.dev", Answered: now.Add(-time.Second)}}
	want := "https://cid.contact (providers): answered 1m30s ago; https://a.example (providers): failed 5s ago (no such host); " +
		"https://b.example (providers): not asked yet; https://c.example (providers): answered 2h0m0s ago; https://delegated-ipfs.dev (names): answered 1s ago"
	if got := routersHow(st, names, now); got != want {
		t.Errorf("routersHow:\n got %q\nwant %q", got, want)
	}
	if got := routersHow(nil, nil, now); got != "" {
		t.Errorf("routersHow of no router: %q", got)
	}
}
