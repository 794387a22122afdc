package node

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/protocol/trustless"
)

// httpProviderTTL is how long a probed HTTP provider is remembered after
// its last fetch: a fetch that finds it again within that time does not
// probe it again.
const httpProviderTTL = time.Hour

// httpProviders are the HTTP providers (trustless gateways) the node
// fetches from: peers a delegated router named at an HTTPS address only,
// probed once (fetch.http_providers). They are asked through exchanges,
// as Bitswap peers are.
type httpProviders struct {
	c *trustless.Client

	mu     sync.Mutex
	peers  map[peer.ID]httpProvider
	failed map[peer.ID]httpFailure // the last probe that failed, by provider
	roots  recentHolders           // which provided which DAG (reads ask them)
}

type httpFailure struct {
	err error
	at  time.Time
}

type httpProvider struct {
	base *url.URL
	used time.Time
}

// newHTTPProviders asks providers as o says (the zero Options: public
// hosts, the system's certificate authorities).
func newHTTPProviders(o trustless.Options) *httpProviders {
	return &httpProviders{c: trustless.New(o), peers: map[peer.ID]httpProvider{}, failed: map[peer.ID]httpFailure{}}
}

// onlyHTTP returns the HTTPS endpoint of a provider that libp2p cannot
// dial: every address of ai is an HTTP one, and one is HTTPS.
func onlyHTTP(ai peer.AddrInfo) (*url.URL, bool) {
	if len(ai.Addrs) == 0 {
		return nil, false
	}
	for _, a := range ai.Addrs {
		if !trustless.IsHTTP(a) {
			return nil, false
		}
	}
	return trustless.Endpoint(ai.Addrs)
}

// holders are the HTTP providers that a lookup named for root and that
// answered their probe, for reads of that DAG (bitswapSource).
func (h *httpProviders) holders(root cid.Cid) []peer.ID {
	if h == nil {
		return nil
	}
	var out []peer.ID
	for _, p := range h.roots.remembered(root) {
		if _, ok := h.endpoint(p); ok {
			out = append(out, p)
		}
	}
	return out
}

// connectFor is connect for a provider a lookup named for root: once it
// answered, reads of root ask it (holders).
func (h *httpProviders) connectFor(ctx context.Context, root cid.Cid, id peer.ID, base *url.URL) error {
	if err := h.connect(ctx, id, base); err != nil {
		return err
	}
	h.roots.remember(root, id)
	return nil
}

// connect probes ai's endpoint base, unless it was lately, and remembers
// ai as an HTTP provider.
func (h *httpProviders) connect(ctx context.Context, id peer.ID, base *url.URL) error {
	now := time.Now()
	h.mu.Lock()
	p, ok := h.peers[id]
	h.mu.Unlock()
	if ok && p.base.String() == base.String() && now.Sub(p.used) < httpProviderTTL {
		return nil
	}
	err := h.c.Probe(ctx, base)
	h.mu.Lock()
	defer h.mu.Unlock()
	for q, p := range h.peers {
		if now.Sub(p.used) >= httpProviderTTL {
			delete(h.peers, q)
		}
	}
	for q, f := range h.failed {
		if now.Sub(f.at) >= httpProviderTTL {
			delete(h.failed, q)
		}
	}
	if err != nil {
		err = fmt.Errorf("HTTP provider %s: %w", base.Host, err)
		h.failed[id] = httpFailure{err: err, at: now}
		return err
	}
	delete(h.failed, id)
	h.peers[id] = httpProvider{base: base, used: now}
	return nil
}

// failure is why the HTTP provider id could not be asked lately (its
// probe failed), or nil.
func (h *httpProviders) failure(id peer.ID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed[id].err
}

// endpoint is the base URL of the HTTP provider id, if it is one.
func (h *httpProviders) endpoint(id peer.ID) (*url.URL, bool) {
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.peers[id]
	if !ok {
		return nil, false
	}
	p.used = time.Now()
	h.peers[id] = p
	return p.base, true
}

// exchanges is the fetcher's fetch.Bitswap: Bitswap peers through the
// Bitswap exchange (nil when fetch.bitswap is off), HTTP providers
// through their trustless gateway (nil when fetch.http_providers is).
type exchanges struct {
	bs   fetch.Bitswap
	http *httpProviders
}

var (
	_ fetch.HashingBitswap = exchanges{}
	_ fetch.ProtocolNamer  = exchanges{}
)

// Speaks implements fetch.Bitswap.
func (e exchanges) Speaks(p peer.ID) bool {
	if _, ok := e.http.endpoint(p); ok {
		return true
	}
	return e.bs != nil && e.bs.Speaks(p)
}

// Open implements fetch.Bitswap.
func (e exchanges) Open(ctx context.Context, p peer.ID, r fetch.Replies) (fetch.Wantlist, error) {
	if base, ok := e.http.endpoint(p); ok {
		return e.http.c.Open(base, r), nil
	}
	if e.bs == nil {
		return nil, fmt.Errorf("%s is no HTTP provider, and Bitswap is off (fetch.bitswap)", p)
	}
	return e.bs.Open(ctx, p, r)
}

// HashesBlocks implements fetch.HashingBitswap: HTTP providers' blocks
// are hashed (package trustless), and Bitswap's if its exchange does.
func (e exchanges) HashesBlocks() bool {
	if e.bs == nil {
		return true
	}
	h, ok := e.bs.(fetch.HashingBitswap)
	return ok && h.HashesBlocks()
}

// ProtocolOf implements fetch.ProtocolNamer.
func (e exchanges) ProtocolOf(p peer.ID) fetch.Protocol {
	if _, ok := e.http.endpoint(p); ok {
		return fetch.ProtocolHTTP
	}
	return fetch.ProtocolBitswap
}
