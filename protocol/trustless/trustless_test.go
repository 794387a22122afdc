package trustless

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gateway is a trustless gateway for tests: its blocks by CID, over TLS
// and HTTP/2 on loopback, with ways to misbehave.
type gateway struct {
	mu      sync.Mutex
	blocks  map[string][]byte
	lie     map[string]bool          // sends other bytes under these CIDs
	busy    map[string]int           // answers 503 (Retry-After: 1) this many times first
	hold    map[string]chan struct{} // answers only once closed
	asked   map[string]int
	noProbe bool
	agents  map[string]bool
}

func newGateway() *gateway {
	return &gateway{blocks: map[string][]byte{}, lie: map[string]bool{}, busy: map[string]int{},
		hold: map[string]chan struct{}{}, asked: map[string]int{}, agents: map[string]bool{}}
}

func (g *gateway) add(t *testing.T, n int) []blocks.Block {
	t.Helper()
	var out []blocks.Block
	for range n {
		data := make([]byte, 1000+len(g.blocks))
		rand.Read(data)
		b := blocks.NewBlock(data)
		g.blocks[b.Cid().String()] = data
		out = append(out, b)
	}
	return out
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/ipfs/")
	if !ok || r.URL.Query().Get("format") != "raw" || r.Header.Get("Accept") != "application/vnd.ipld.raw" {
		http.Error(w, "not a block request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.asked[id]++
	g.agents[r.UserAgent()] = true
	busy := g.busy[id] > 0
	if busy {
		g.busy[id]--
	}
	hold := g.hold[id]
	data, have := g.blocks[id]
	lie := g.lie[id]
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case id == probeCID && !g.noProbe:
		w.Header().Set("Content-Type", "application/vnd.ipld.raw")
	case busy:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case !have:
		http.Error(w, "ipld: could not find node", http.StatusInternalServerError)
	default:
		if lie {
			data = append([]byte("not this: "), data...)
		}
		w.Header().Set("Content-Type", "application/vnd.ipld.raw")
		w.Write(data)
	}
}

// serve runs g and returns its base URL and a Client that trusts it.
func (g *gateway) serve(t *testing.T, http2 bool) (*url.URL, *Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(g)
	srv.EnableHTTP2 = http2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := New(Options{UserAgent: "kith/test", RootCAs: pool, AllowPrivate: true})
	t.Cleanup(c.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u, c
}

// replies collects a wantlist's answers.
type replies struct {
	mu       sync.Mutex
	blocks   map[cid.Cid][]byte
	dontHave map[cid.Cid]bool
	gone     error
	changed  chan struct{}
}

func newReplies() *replies {
	return &replies{blocks: map[cid.Cid][]byte{}, dontHave: map[cid.Cid]bool{}, changed: make(chan struct{}, 1)}
}

func (r *replies) note() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *replies) Block(c cid.Cid, data []byte) {
	r.mu.Lock()
	r.blocks[c] = data
	r.mu.Unlock()
	r.note()
}

func (r *replies) DontHave(c cid.Cid) {
	r.mu.Lock()
	r.dontHave[c] = true
	r.mu.Unlock()
	r.note()
}

func (r *replies) Gone(err error) {
	r.mu.Lock()
	r.gone = err
	r.mu.Unlock()
	r.note()
}

// wait waits until cond holds of the replies, for at most 10 s.
func (r *replies) wait(t *testing.T, what string, cond func(*replies) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestPublicOnly: what a Client that asks public hosts dials.
func TestPublicOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"203.0.113.9:443", false}, // documentation range
		{"8.8.8.8:443", true},
		{"[2606:4700::1111]:443", true},
		{"127.0.0.1:443", false},
		{"192.168.1.1:443", false},
		{"100.64.0.1:443", false},
		{"[::1]:443", false},
		{"[fe80::1%eth0]:443", false},
		{"[::ffff:10.0.0.1]:443", false},
		{"not an address", false},
	} {
		if err := publicOnly("tcp", tc.addr, nil); (err == nil) != tc.ok {
			t.Errorf("publicOnly(%s) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"/dns4/gw.example.org/tcp/443/https", "https://gw.example.org"},
		{"/dns/gw.example.org/https", "https://gw.example.org"},
		{"/ip4/203.0.113.9/tcp/8443/tls/http", "https://203.0.113.9:8443"},
		{"/ip6/2001:db8::1/tcp/443/tls/http", "https://[2001:db8::1]"},
		{"/dns/gw.example.org/tcp/443/tls/sni/gw.example.org/http", "https://gw.example.org"},
		{"/ip4/203.0.113.9/tcp/80/http", ""},      // plain HTTP: not used
		{"/ip4/203.0.113.9/udp/4001/quic-v1", ""}, // libp2p
		{"/ip4/203.0.113.9/tcp/4001", ""},         // libp2p
		{"/ip4/203.0.113.9/tcp/443/tls/http/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT", "https://203.0.113.9"},
	} {
		a := ma.StringCast(tc.addr)
		u, ok := Endpoint([]ma.Multiaddr{a})
		got := ""
		if ok {
			got = u.String()
		}
		if got != tc.want {
			t.Errorf("Endpoint(%s) = %q, want %q", tc.addr, got, tc.want)
		}
		if IsHTTP(a) != strings.Contains(tc.addr, "http") {
			t.Errorf("IsHTTP(%s) = %v", tc.addr, IsHTTP(a))
		}
	}
}

// TestProbe: a trustless gateway over HTTP/2 passes; one that does not
// serve the probe path, one over HTTP/1.1, and one at a loopback address
// (for a Client that asks public hosts only) do not.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	good := newGateway()
	u, c := good.serve(t, true)
	if err := c.Probe(ctx, u); err != nil {
		t.Fatalf("probe of a trustless gateway: %v", err)
	}
	if !good.agents["kith/test"] {
		t.Errorf("requests' User-Agents %v, want kith/test", good.agents)
	}

	bad := newGateway()
	bad.noProbe = true
	u, c = bad.serve(t, true)
	if err := c.Probe(ctx, u); err == nil || !strings.Contains(err.Error(), "not a trustless gateway") {
		t.Errorf("probe of a server that does not serve it: %v", err)
	}

	u, c = newGateway().serve(t, false)
	if err := c.Probe(ctx, u); err == nil || !strings.Contains(err.Error(), "not HTTP/2") {
		t.Errorf("probe over HTTP/1.1: %v", err)
	}

	u, _ = newGateway().serve(t, true)
	public := New(Options{})
	defer public.Close()
	if err := public.Probe(ctx, u); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("probe of a loopback server by a public-only client: %v", err)
	}
}

// TestWantlist: more wants than workers all come, each checked; a block
// the gateway lacks is "not here"; a busy answer is asked again; a
// canceled want is not answered; wrong bytes end the wantlist.
func TestWantlist(t *testing.T) {
	g := newGateway()
	bs := g.add(t, 3*Workers)
	busy, held := bs[0].Cid(), bs[1].Cid()
	g.busy[busy.String()] = 1
	release := make(chan struct{})
	g.hold[held.String()] = release
	missing := blocks.NewBlock([]byte("nobody has this")).Cid()
	u, c := g.serve(t, true)

	r := newReplies()
	wl := c.Open(u, r)
	var cs []cid.Cid
	for _, b := range bs {
		cs = append(cs, b.Cid())
	}
	if err := wl.Want(append(cs, missing)); err != nil {
		t.Fatal(err)
	}
	wl.Cancel([]cid.Cid{held})
	close(release)
	r.wait(t, "every block and the DONT_HAVE", func(r *replies) bool { return len(r.blocks) == len(bs)-1 && r.dontHave[missing] })
	for _, b := range bs[2:] {
		if got := r.blocks[b.Cid()]; string(got) != string(b.RawData()) {
			t.Fatalf("block %s: %d bytes, want its own %d", b.Cid(), len(got), len(b.RawData()))
		}
	}
	if _, ok := r.blocks[busy]; !ok || g.asked[busy.String()] != 2 {
		t.Errorf("the block first answered busy: came %v, asked %d times (want twice)", ok, g.asked[busy.String()])
	}
	wl.Close()
	if _, ok := r.blocks[held]; ok || r.gone != nil {
		t.Errorf("a canceled want was answered (%v), or the wantlist is gone: %v", ok, r.gone)
	}
	if err := wl.Want(cs[:1]); err == nil {
		t.Error("a closed wantlist took a want")
	}

	liar := newGateway()
	lies := liar.add(t, 2)
	liar.lie[lies[1].Cid().String()] = true
	u, c = liar.serve(t, true)
	r = newReplies()
	wl = c.Open(u, r)
	defer wl.Close()
	if err := wl.Want([]cid.Cid{lies[1].Cid()}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "the liar to be gone", func(r *replies) bool { return r.gone != nil })
	if !strings.Contains(r.gone.Error(), "sent bytes that are not "+lies[1].Cid().String()) || len(r.blocks) != 0 {
		t.Errorf("after wrong bytes: gone %v, blocks %d", r.gone, len(r.blocks))
	}
	if err := wl.Want([]cid.Cid{lies[0].Cid()}); err == nil {
		t.Error("a gone wantlist took a want")
	}
}
