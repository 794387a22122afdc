package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// newLocalNode starts a node on a fresh repo with the loopback profile.
func newLocalNode(t *testing.T) *Node {
	t.Helper()
	return newNodeAt(t, t.TempDir(), func(c *Config) {
		c.DHT.ReprovideInterval = Duration(time.Minute)
	})
}

// p2pAddr is a multiaddr other nodes can dial n at.
func p2pAddr(t *testing.T, h host.Host) string {
	t.Helper()
	for _, a := range h.Addrs() {
		return a.String() + "/p2p/" + h.ID().String()
	}
	t.Fatal("host has no address")
	return ""
}

func connect(t *testing.T, from *Node, to host.Host) {
	t.Helper()
	if _, err := from.Connect(context.Background(), p2pAddr(t, to)); err != nil {
		t.Fatal(err)
	}
}

// addData adds data as a file on n and returns its root.
func addData(t testing.TB, n *Node, data []byte) cid.Cid {
	t.Helper()
	res, err := n.Add(context.Background(), "data.bin", files.NewBytesFile(data), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cid.MustParse(res.Cid)
}

func randomData(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// getBytes fetches root on n into a temp file and returns its bytes.
func getBytes(t *testing.T, n *Node, root cid.Cid) ([]byte, api.GetResult) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	res, err := n.Get(context.Background(), root.String(), out, nil, nil)
	if err != nil {
		t.Fatalf("get %s: %v", root, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, res
}

func TestFetchFromOneSeeder(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	data := randomData(9<<20 + 123)
	root := addData(t, a, data)
	connect(t, b, a.Host())
	got, res := getBytes(t, b, root)
	if !bytes.Equal(got, data) {
		t.Fatal("fetched bytes differ")
	}
	if res.Fetched.Peers != 1 || res.Fetched.Blocks != 11 {
		t.Fatalf("fetch stats %+v, want 11 blocks from 1 peer", res.Fetched)
	}
	// Everything is local now: a second get fetches nothing.
	_, res = getBytes(t, b, root)
	if res.Fetched.Blocks != 0 {
		t.Fatalf("second get fetched %d blocks", res.Fetched.Blocks)
	}
}

// lyingStore serves wrong bytes for every raw leaf.
type lyingStore struct{ blockstore.Blockstore }

func (l lyingStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := l.Blockstore.Get(ctx, c)
	if err != nil || c.Prefix().Codec != cid.Raw {
		return b, err
	}
	bad := append([]byte(nil), b.RawData()...)
	bad[0] ^= 0xff
	return blocks.NewBlockWithCid(bad, c)
}

// TestFetchFromThreeSeedersAndALiar runs five hosts: three honest seeders,
// a liar serving corrupted leaves through the real fetch protocol, and the
// requester. The fetch completes from the honest three, the liar is dropped.
func TestFetchFromThreeSeedersAndALiar(t *testing.T) {
	seeders := []*Node{newLocalNode(t), newLocalNode(t), newLocalNode(t)}
	d := newLocalNode(t)
	data := randomData(48 << 20)
	var root cid.Cid
	for _, s := range seeders {
		root = addData(t, s, data)
	}
	// The liar: a libp2p host on loopback serving the same DAG from a store
	// that flips a byte in every leaf.
	liarStore := blockstore.NewMemStore()
	var car bytes.Buffer
	if err := seeders[0].ExportCAR(context.Background(), root, &car); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dag.ImportCAR(context.Background(), liarStore, &car); err != nil {
		t.Fatal(err)
	}
	liar, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { liar.Close() })
	srv := fetch.NewServer(liar, lyingStore{liarStore})
	t.Cleanup(func() { srv.Close() })

	connect(t, d, liar)
	for _, s := range seeders {
		connect(t, d, s.Host())
	}
	got, res := getBytes(t, d, root)
	if !bytes.Equal(got, data) {
		t.Fatal("fetched bytes differ")
	}
	if res.Fetched.Peers < 3 {
		t.Fatalf("served by %d peers, want the 3 honest seeders to share the work: %+v", res.Fetched.Peers, res.Fetched)
	}
	if res.Fetched.Dropped != 1 {
		t.Fatalf("dropped %d peers, want the liar dropped: %+v", res.Fetched.Dropped, res.Fetched)
	}
}

func TestResumeAfterInterruptedGet(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	data := randomData(64 << 20)
	root := addData(t, a, data)
	connect(t, b, a.Host())

	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(t.TempDir(), "out")
	_, err := b.Get(ctx, root.String(), out, nil, func(p api.Progress) {
		if p.Phase == "fetch" && p.Bytes >= int64(len(data))/2 {
			cancel()
		}
	})
	cancel()
	if err == nil {
		t.Fatal("interrupted get succeeded")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("interrupted get left %s behind: %v", out, err)
	}
	// The resumed get says how much was here already (the CLI's
	// "resuming: ... already here").
	log := newProgressLog()
	out, done := startGet(t, b, root, log)
	o := awaitGet(t, done)
	if o.err != nil {
		t.Fatal(o.err)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("resumed get wrote different bytes (%v)", err)
	}
	if o.res.Fetched.Bytes > int64(len(data))*3/4 {
		t.Fatalf("resumed get fetched %d of %d bytes again", o.res.Fetched.Bytes, len(data))
	}
	var have int64
	for _, p := range log.all() {
		if p.Phase == "fetch" {
			have = max(have, p.Have)
		}
	}
	if have < int64(len(data))/4 {
		t.Fatalf("the resumed get said %d bytes were here, want about %d", have, len(data)/2)
	}
}

// TestDHTDiscoveryWithoutDirectConnection is the chain A-B-C: C only knows
// B, yet finds A through the DHT and fetches A's content.
func TestDHTDiscoveryWithoutDirectConnection(t *testing.T) {
	a, b, c := newLocalNode(t), newLocalNode(t), newLocalNode(t)
	connect(t, a, b.Host())
	connect(t, c, b.Host())
	data := randomData(3 << 20)
	root := addData(t, a, data) // provided to the DHT in the background

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		provs, err := c.FindProviders(ctx, root, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(provs) > 0 && provs[0].ID == a.Host().ID().String() {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("C never found A as a provider through the DHT")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.Host().Network().Connectedness(a.Host().ID()) == 1 {
		t.Log("C already connected to A")
	}
	got, res := getBytes(t, c, root)
	if !bytes.Equal(got, data) || res.Fetched.Blocks == 0 {
		t.Fatalf("fetch through DHT discovery: %+v", res.Fetched)
	}
}

func TestGetUnknownContentSaysWhy(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	missing := cid.MustParse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := b.Get(ctx, missing.String(), filepath.Join(t.TempDir(), "x"), nil, nil)
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("get of content nobody has: %v", err)
	}
}

// TestMetricsEndpoint checks /metrics is served, to the token only unless
// the config opens it, and counts a transfer on both sides.
func TestMetricsEndpoint(t *testing.T) {
	a := newLocalNode(t)
	b := newLocalNodeWith(t, func(c *Config) { c.API.MetricsWithoutToken = true })
	root := addData(t, a, randomData(2<<20))
	connect(t, b, a.Host())
	getBytes(t, b, root)
	resp, err := http.Get("http://" + a.APIAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %s, want 401", resp.Status)
	}
	scrape := func(n *Node) string {
		req, _ := http.NewRequest(http.MethodGet, "http://"+n.APIAddr()+"/metrics", nil)
		if n == a {
			req.Header.Set(api.TokenHeader, "Bearer "+n.Token())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: %s: %s", resp.Status, body)
		}
		return string(body)
	}
	for _, want := range []string{"kith_fetch_blocks_fetched_total 3", "kith_fetch_duration_seconds_count 1", "kith_p2p_connected_peers 1", `kith_p2p_protocol_bytes_total{direction="in",protocol="/kith/fetch/1.0.0"}`} {
		if m := scrape(b); !strings.Contains(m, want) {
			t.Errorf("requester metrics lack %q", want)
		}
	}
	if m := scrape(a); !strings.Contains(m, "kith_fetch_blocks_served_total 3") {
		t.Errorf("seeder metrics lack blocks served")
	}
}

// TestPrivateContentIsNotAnnounced: content added private is not found
// through the DHT, while content added after it, announced, is; and
// pin add with private set makes a pin private or announced again.
func TestPrivateContentIsNotAnnounced(t *testing.T) {
	a, b, c := newLocalNode(t), newLocalNode(t), newLocalNode(t)
	connect(t, a, b.Host())
	connect(t, c, b.Host())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The private add comes first: had it been announced, it would have
	// been before the public one.
	res, err := a.Add(ctx, "secret.bin", files.NewBytesFile(randomData(64<<10)), api.AddOptions{Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := cid.MustParse(res.Cid)
	public := addData(t, a, randomData(64<<10))
	found := func(root cid.Cid, within time.Duration) bool {
		fctx, fcancel := context.WithTimeout(ctx, within)
		defer fcancel()
		provs, _ := c.FindProviders(fctx, root, 1)
		return len(provs) > 0 && provs[0].ID == a.Host().ID().String()
	}
	waitFor(t, time.Minute, "C to find A as the public content's provider", func() bool { return found(public, 5*time.Second) })
	if found(secret, 5*time.Second) {
		t.Fatal("C found A as a provider of content added private")
	}

	pinned := func(root cid.Cid) blockstore.Pin {
		t.Helper()
		p, err := a.store.GetPin(ctx, root, blockstore.OwnerUser)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, step := range []struct {
		what    string
		private *bool
		want    bool
	}{
		{"pin add --private of announced content", new(true), true},
		{"pin add without --private", nil, true},
		{"pin add --private=false", new(false), false},
	} {
		if _, err := a.PinAdd(ctx, public, api.PinOptions{Private: step.private}, nil); err != nil {
			t.Fatal(err)
		}
		if got := pinned(public).Private; got != step.want {
			t.Errorf("after %s: private = %v, want %v", step.what, got, step.want)
		}
	}
}

// TestAddAgainKeepsPrivate: adding content again with private makes its
// pin private; adding it again without leaves it private (only pin add
// with private false announces it).
func TestAddAgainKeepsPrivate(t *testing.T) {
	n := newLocalNode(t)
	ctx := context.Background()
	data := randomData(20 << 10)
	add := func(private bool) api.AddResult {
		t.Helper()
		res, err := n.Add(ctx, "notes.bin", files.NewBytesFile(data), api.AddOptions{Private: private}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := n.store.GetPin(ctx, cid.MustParse(res.Cid), blockstore.OwnerUser)
		if err != nil || p.Private != res.Private {
			t.Fatalf("the pin %+v (%v) and the result (private %v) disagree", p, err, res.Private)
		}
		return res
	}
	for i, step := range []struct {
		private, want bool
	}{{false, false}, {true, true}, {false, true}} {
		if got := add(step.private).Private; got != step.want {
			t.Errorf("add %d (private %v): private = %v, want %v", i+1, step.private, got, step.want)
		}
	}
}
