//go:build linux

package internet_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/dht/delegated/indextest"
	"github.com/kith-p2p/kith/protocol/trustless/gatewaytest"
	"github.com/kith-p2p/kith/web/api"
)

// TestFromAStorageProvider: a Kubo node on the internet that is in no
// DHT, as a storage provider or pinning service that announces what it
// holds to an indexer only, holds a file; an indexer on the internet
// (the Delegated Routing V1 HTTP API, as IPNI's cid.contact serves it)
// says so. A kith laptop behind a NAT whose delegated router is that
// indexer lists the provider (`kith dht findprovs`) and gets the file
// from it over Bitswap.
func TestFromAStorageProvider(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 1, false)
	sp := netlab.StartKubo(t, lab.PublicHost("storage"), netlab.KuboConfig{NoDHT: true})
	data := make([]byte, 3<<20+99)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "dataset.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	root := kuboMust(t, sp, "add", "-Q", "--cid-version=1", file)

	c, err := cid.Decode(root)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.Decode(sp.PeerID)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []ma.Multiaddr
	for _, s := range sp.Addrs {
		a, _ := peer.SplitAddr(ma.StringCast(s))
		addrs = append(addrs, a)
	}
	var index indextest.Index
	index.Announce(c, id, []string{"transport-bitswap"}, addrs...)
	router := lab.ServeHTTP(index.Handler())

	home := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone})
	cfg := laptopConfig(pub.boot)
	cfg["dht"].(map[string]any)["delegated_routers"] = []string{router}
	b := startKith(t, "laptop-B", home.Laptop("b"), cfg)

	if out, err := b.run("dht", "findprovs", root); err != nil || !strings.Contains(out, sp.PeerID) {
		t.Fatalf("findprovs through the indexer: %q, %v; want %s", out, err, sp.PeerID)
	}
	out := filepath.Join(b.files, "dataset.bin")
	var res api.GetResult
	if err := b.runJSON(&res, "get", root, "-o", out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatalf("the copy differs from the storage provider's file (%d of %d bytes)", len(got), len(data))
	}
	if bs := res.Fetched.Protocols["bitswap"]; bs.Bytes == 0 || bs.Peers != 1 {
		t.Fatalf("fetched %+v, want it all over Bitswap from the storage provider", res.Fetched)
	}
	for _, ua := range index.Asked() {
		if !strings.HasPrefix(ua, "kith/") {
			t.Errorf("the indexer was asked by %q, want kith/VERSION", ua)
		}
	}
}

// TestFromAnHTTPProvider: a pinning service's trustless gateway on the
// internet (HTTPS, HTTP/2, a certificate of its own, which the laptop's
// SSL_CERT_FILE trusts as a real one would be trusted) holds a file and
// is announced to the indexer only, as an HTTP provider. The kith laptop
// behind a NAT gets the file from it over HTTPS, each block checked.
func TestFromAnHTTPProvider(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 1, false)
	data := make([]byte, 5<<20+7)
	rand.Read(data)
	handler, root := gatewaytest.Handler(t, data)
	addr, certFile := lab.ServeHTTPS(lab.PublicHost("pinning"), handler)
	_, pubKey, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	var index indextest.Index
	index.Announce(root, id, []string{"transport-ipfs-gateway-http"}, ma.StringCast(addr))
	router := lab.ServeHTTP(index.Handler())

	home := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone})
	cfg := laptopConfig(pub.boot)
	cfg["dht"].(map[string]any)["delegated_routers"] = []string{router}
	b := startKithEnv(t, "laptop-B", home.Laptop("b"), cfg, []string{"SSL_CERT_FILE=" + certFile})

	out := filepath.Join(b.files, "dataset.bin")
	var res api.GetResult
	if err := b.runJSON(&res, "get", root.String(), "-o", out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatalf("the copy differs from the provider's file (%d of %d bytes)", len(got), len(data))
	}
	if h := res.Fetched.Protocols["http"]; h.Peers != 1 || h.Bytes != res.Fetched.Bytes {
		t.Fatalf("fetched %+v, want it all over HTTPS from the pinning service", res.Fetched)
	}
	if text, err := b.run("get", root.String(), "-o", filepath.Join(b.files, "again.bin")); err != nil || !strings.Contains(text, "saved") {
		t.Fatalf("a second get (from the repo): %q, %v", text, err)
	}
}

// TestNamesThroughARouter: a kith laptop behind a NAT publishes its name;
// the record goes into the DHT and to a delegated router on the internet
// (names.delegated_routers, as delegated-ipfs.dev). A second laptop that
// knows no DHT peer at all (no bootstrap peers) resolves the name through
// the router alone.
func TestNamesThroughARouter(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 1, false)
	var index indextest.Index
	router := lab.ServeHTTP(index.Handler())
	withRouter := func(boot []string) config {
		cfg := laptopConfig(boot)
		cfg["names"] = map[string]any{"delegated_routers": []string{router}}
		return cfg
	}
	a := startKith(t, "laptop-A", lab.HomeRouter("home-a", netlab.RouterConfig{NAT: netlab.Cone}).Laptop("a"), withRouter(pub.boot))
	b := startKith(t, "laptop-B", lab.HomeRouter("home-b", netlab.RouterConfig{NAT: netlab.Cone}).Laptop("b"), withRouter([]string{}))

	added, _ := a.addFile(64 << 10)
	var rec api.NameRecord
	start := time.Now()
	if err := a.runJSON(&rec, "name", "publish", added.Cid); err != nil {
		t.Fatal(err)
	}
	t.Logf("A's publish took %v", time.Since(start).Round(time.Millisecond))
	name, err := ipns.NameFromString(rec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := index.Record(name); !ok {
		t.Fatal("the router holds no record of A's name")
	}
	start = time.Now()
	out, err := b.run("name", "resolve", rec.Name)
	t.Logf("B's lookup took %v", time.Since(start).Round(time.Millisecond))
	if err != nil || strings.TrimSpace(out) != "/ipfs/"+added.Cid {
		t.Fatalf("B, with no DHT peer, resolved A's name to %q (%v), want /ipfs/%s", out, err, added.Cid)
	}
	if d := b.doctor(); !strings.Contains(d.Routers, router+" (names): answered") {
		t.Errorf("B's doctor on its routers: %q", d.Routers)
	}
}
