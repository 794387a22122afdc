// Package indextest runs a delegated router for tests, as an indexer
// (IPNI's cid.contact) runs one: the provider records announced to it, by
// CID, and, as delegated-ipfs.dev, the IPNS records put to it, served over
// the Delegated Routing V1 HTTP API by boxo's server on a loopback port.
// It is what httptest is to net/http.
package indextest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/routing/http/server"
	"github.com/ipfs/boxo/routing/http/types"
	"github.com/ipfs/boxo/routing/http/types/iter"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	ma "github.com/multiformats/go-multiaddr"
)

// Index is a delegated router's records. Its zero value holds none; it is
// safe for concurrent use.
type Index struct {
	mu    sync.Mutex
	recs  map[cid.Cid][]types.Record
	asked []string // each request's User-Agent
	names map[string]*ipns.Record
}

// Announce records that id provides c at addrs, serving it over the
// protocols named ("transport-bitswap", ...; none: "unknown").
func (x *Index) Announce(c cid.Cid, id peer.ID, protocols []string, addrs ...ma.Multiaddr) {
	r := &types.PeerRecord{Schema: types.SchemaPeer, ID: &id, Protocols: protocols}
	for _, a := range addrs {
		r.Addrs = append(r.Addrs, types.Multiaddr{Multiaddr: a})
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.recs == nil {
		x.recs = map[cid.Cid][]types.Record{}
	}
	x.recs[c] = append(x.recs[c], r)
}

// Asked returns the User-Agent of each request served so far.
func (x *Index) Asked() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.asked...)
}

// Serve runs the router on a loopback port until the test ends and
// returns its URL.
func (x *Index) Serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(x.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// Handler serves the router's API (for a server of the test's own, such
// as one in a network namespace), noting each request's User-Agent.
func (x *Index) Handler() http.Handler {
	h := server.Handler(x)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.mu.Lock()
		x.asked = append(x.asked, r.UserAgent())
		x.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// FindProviders implements server.DelegatedRouter.
func (x *Index) FindProviders(_ context.Context, c cid.Cid, _ int) (iter.ResultIter[types.Record], error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return iter.ToResultIter(iter.FromSlice(append([]types.Record(nil), x.recs[c]...))), nil
}

// ProvideBitswap implements server.DelegatedRouter: not supported.
func (x *Index) ProvideBitswap(context.Context, *server.BitswapWriteProvideRequest) (time.Duration, error) { //nolint:staticcheck
	return 0, routing.ErrNotSupported
}

// FindPeers implements server.DelegatedRouter: not supported.
func (x *Index) FindPeers(context.Context, peer.ID, int) (iter.ResultIter[*types.PeerRecord], error) {
	return nil, routing.ErrNotSupported
}

// GetIPNS implements server.DelegatedRouter: the record given last for
// name (PutIPNS), as delegated-ipfs.dev keeps them.
func (x *Index) GetIPNS(_ context.Context, name ipns.Name) (*ipns.Record, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec, ok := x.names[name.String()]
	if !ok {
		return nil, routing.ErrNotFound
	}
	return rec, nil
}

// PutIPNS implements server.DelegatedRouter: it keeps the record (boxo's
// server checked it against the name), unless it holds a newer one.
func (x *Index) PutIPNS(_ context.Context, name ipns.Name, rec *ipns.Record) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.names == nil {
		x.names = map[string]*ipns.Record{}
	}
	if have, ok := x.names[name.String()]; ok {
		a, _ := have.Sequence()
		b, _ := rec.Sequence()
		if a > b {
			return nil
		}
	}
	x.names[name.String()] = rec
	return nil
}

// Record returns the record the router holds for name, if any.
func (x *Index) Record(name ipns.Name) (*ipns.Record, bool) {
	rec, err := x.GetIPNS(context.Background(), name)
	return rec, err == nil
}

// GetClosestPeers implements server.DelegatedRouter: not supported.
func (x *Index) GetClosestPeers(context.Context, cid.Cid) (iter.ResultIter[*types.PeerRecord], error) {
	return nil, routing.ErrNotSupported
}
