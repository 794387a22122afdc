// Package gatewaytest is a trustless gateway for tests, as pinning
// services and storage providers run one: boxo's gateway (Kubo's and
// Rainbow's) serving blocks only, over a store that holds a file as kith
// (and Kubo) would chunk it. The caller serves its handler (over TLS and
// HTTP/2, as HTTP providers must).
package gatewaytest

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	boxobs "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// Handler returns a trustless gateway holding data as a file, and the
// file's root CID.
func Handler(t testing.TB, data []byte) (http.Handler, cid.Cid) {
	t.Helper()
	bstore, root := Store(t, data)
	// Identity CIDs (the probe's) are answered from themselves, as Kubo's
	// store does.
	backend, err := gateway.NewBlocksBackend(blockservice.New(boxobs.NewIdStore(bstore), nil))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ipfs/", gateway.NewHandler(gateway.Config{DeserializedResponses: false}, backend))
	return mux, root
}

// Store returns a boxo block store (as Kubo's) holding data as a file,
// and the file's root CID.
func Store(t testing.TB, data []byte) (boxobs.Blockstore, cid.Cid) {
	t.Helper()
	ctx := context.Background()
	src := blockstore.NewMemStore()
	res, err := dag.NewImporter(src).Add(ctx, files.NewBytesFile(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	bstore := boxobs.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	if err := src.AllKeys(ctx, func(c cid.Cid) error {
		b, err := src.Get(ctx, c)
		if err != nil {
			return err
		}
		return bstore.Put(ctx, b)
	}); err != nil {
		t.Fatal(err)
	}
	return bstore, res.Root
}

// ServeTLS serves h over TLS and HTTP/2 on loopback until the test ends,
// and returns the server and a pool that trusts its certificate.
func ServeTLS(t testing.TB, h http.Handler) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}
