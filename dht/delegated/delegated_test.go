package delegated

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/dht/delegated/indextest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// boxo's routing client measures with OpenCensus, whose package
		// starts one process-wide worker when it loads, never stopped.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

func testCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

func testPeer(t *testing.T, n byte) peer.ID {
	t.Helper()
	h, err := mh.Sum([]byte{n}, mh.IDENTITY, -1)
	if err != nil {
		t.Fatal(err)
	}
	return peer.ID(h)
}

func collect(ch <-chan peer.AddrInfo) map[peer.ID][]string {
	out := map[peer.ID][]string{}
	for ai := range ch {
		for _, a := range ai.Addrs {
			out[ai.ID] = append(out[ai.ID], a.String())
		}
		if _, ok := out[ai.ID]; !ok {
			out[ai.ID] = nil
		}
	}
	return out
}

// TestFindProviders: two indexers are asked at once; a provider both
// know comes once, one that serves only HTTP gateways not at all (kith
// cannot fetch from it), one with no address comes without.
func TestFindProviders(t *testing.T) {
	c := testCID(t, "a block")
	a, b, g, n := testPeer(t, 1), testPeer(t, 2), testPeer(t, 3), testPeer(t, 4)
	bitswap := []string{"transport-bitswap"}
	var one, two indextest.Index
	one.Announce(c, a, bitswap, ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
	one.Announce(c, g, []string{"transport-ipfs-gateway-http"}, ma.StringCast("/dns4/gw.example/tcp/443/https"))
	two.Announce(c, a, bitswap, ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
	two.Announce(c, b, nil, ma.StringCast("/ip4/127.0.0.1/udp/4001/quic-v1"))
	two.Announce(c, n, bitswap)
	u1, u2 := one.Serve(t), two.Serve(t)
	r, err := New([]string{u1, u2 + "/"}, "kith/test", Bitswap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := collect(r.FindProviders(ctx, c))
	want := map[peer.ID][]string{
		a: {"/ip4/127.0.0.1/tcp/4001"},
		b: {"/ip4/127.0.0.1/udp/4001/quic-v1"},
		n: nil,
	}
	if len(got) != len(want) {
		t.Fatalf("providers %v, want %v", got, want)
	}
	for id, addrs := range want {
		if g, ok := got[id]; !ok || !slices.Equal(g, addrs) {
			t.Errorf("provider %s: %v (found %v), want %v", id, g, ok, addrs)
		}
	}
	for _, x := range []*indextest.Index{&one, &two} {
		if asked := x.Asked(); len(asked) != 1 || asked[0] != "kith/test" {
			t.Errorf("requests' User-Agent %v, want one kith/test", asked)
		}
	}

	// Asked for HTTP providers too, the gateway comes as well.
	withHTTP, err := New([]string{u1, u2}, "kith/test", append(slices.Clone(Bitswap), HTTP...))
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(withHTTP.FindProviders(ctx, c)); len(got) != 4 || !slices.Equal(got[g], []string{"/dns4/gw.example/tcp/443/https"}) {
		t.Errorf("providers over Bitswap and HTTP: %v, want the gateway with the others", got)
	}

	// A CID no indexer knows: nothing, and no router failed.
	if got := collect(r.FindProviders(ctx, testCID(t, "unknown"))); len(got) != 0 {
		t.Errorf("providers of an unknown CID: %v", got)
	}
	for _, st := range r.Status() {
		if st.Err != nil || st.Answered.IsZero() {
			t.Errorf("router %s: %+v, want it answered and never failed", st.URL, st)
		}
	}
}

// TestFindProvidersFailures: a router that errs is reported and the
// others still answer; one that does not answer ends with the caller's
// context; no routers, nothing.
func TestFindProvidersFailures(t *testing.T) {
	c := testCID(t, "a block")
	a := testPeer(t, 1)
	var good indextest.Index
	good.Announce(c, a, nil, ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer silent.Close()
	defer close(release)

	r, err := New([]string{broken.URL, good.Serve(t)}, "kith/test", Bitswap)
	if err != nil {
		t.Fatal(err)
	}
	got := collect(r.FindProviders(context.Background(), c))
	if _, ok := got[a]; !ok || len(got) != 1 {
		t.Errorf("providers %v, want %s from the router that works", got, a)
	}
	st := r.Status()
	if len(st) != 2 || st[0].URL != broken.URL || st[0].Err == nil || !strings.Contains(st[0].Err.Error(), "503") || st[0].Failed.IsZero() || !st[0].Answered.IsZero() ||
		st[1].Err != nil || st[1].Answered.IsZero() {
		t.Errorf("status %+v, want the broken router failed and the other answered", st)
	}

	r, err = New([]string{silent.URL}, "kith/test", Bitswap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if got := collect(r.FindProviders(ctx, c)); len(got) != 0 {
		t.Errorf("providers from a router that never answered: %v", got)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || time.Since(start) > Timeout {
		t.Errorf("the lookup ended after %v, before its context (%v)", time.Since(start), ctx.Err())
	}

	var none *Routers
	if none.Len() != 0 || len(collect(none.FindProviders(context.Background(), c))) != 0 {
		t.Error("nil Routers found providers")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://cid.contact", true},
		{"https://delegated-ipfs.dev/routing/v1", true},
		{"http://127.0.0.1:8080", true},
		{"cid.contact", false},
		{"ftp://cid.contact", false},
		{"https://", false},
		{"https://cid.contact/?x=1", false},
		{"", false},
	} {
		if err := Check(tc.url); (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
	if _, err := New([]string{"https://cid.contact", "nope"}, "kith/test", Bitswap); err == nil {
		t.Error("New took a URL that is none")
	}
}
