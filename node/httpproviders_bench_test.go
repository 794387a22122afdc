package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/dht/delegated/indextest"
	"github.com/kith-p2p/kith/protocol/trustless"
	"github.com/kith-p2p/kith/protocol/trustless/gatewaytest"
	"github.com/kith-p2p/kith/web/api"
)

// BenchmarkFetchFromHTTPProvider pins a 256 MiB file that only an HTTP
// provider holds (a trustless gateway over TLS and HTTP/2 on loopback,
// named by a delegated router), and compares it with one HTTPS download
// of the same bytes from the same server in the same run: the limit of
// the transport, against blocks asked 16 at a time, each checked; and
// with the same file over Bitswap from an IPFS node (boxo's server, as
// Kubo's) in the same run.
func BenchmarkFetchFromHTTPProvider(b *testing.B) {
	const size = 256 << 20
	data := randomData(size)
	gw, root := gatewaytest.Handler(b, data)
	mux := http.NewServeMux()
	mux.Handle("/ipfs/", gw)
	mux.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) { w.Write(data) })
	srv, pool := gatewaytest.ServeTLS(b, mux)
	trust := &trustless.Options{RootCAs: pool, AllowPrivate: true}
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	var index indextest.Index
	index.Announce(root, testPeerID(b), []string{"transport-ipfs-gateway-http"}, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/tls/http", port)))
	router := index.Serve(b)

	ipfs, broot := bitswapPeer(b, data)

	for i := 0; i < b.N; i++ {
		b.StopTimer()
		raw := rawHTTPSRate(b, srv.URL+"/raw", pool, size)
		// The same bytes over Bitswap from an IPFS node (boxo's server),
		// for comparison.
		bsNode := benchNode(b, nil)
		if err := bsNode.Host().Connect(context.Background(), ipfs.Peerstore().PeerInfo(ipfs.ID())); err != nil {
			b.Fatal(err)
		}
		bsStart := time.Now()
		if _, err := bsNode.PinAdd(context.Background(), broot, api.PinOptions{Name: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		bsRate := float64(size) / time.Since(bsStart).Seconds() / 1e6
		bsNode.Close()
		r := benchNode(b, func(c *Config) {
			c.DHT.DelegatedRouters = []string{router}
			c.Fetch.httpTrust = trust
		})
		b.StartTimer()
		start := time.Now()
		if _, err := r.PinAdd(context.Background(), root, api.PinOptions{Name: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		rate := float64(size) / time.Since(start).Seconds() / 1e6
		b.StopTimer()
		b.ReportMetric(rate, "MB/s")
		b.ReportMetric(raw, "raw_https_MB/s")
		b.ReportMetric(rate/raw, "x_raw")
		b.ReportMetric(bsRate, "bitswap_MB/s")
		b.ReportMetric(rate/bsRate, "x_bitswap")
		r.Close()
		b.StartTimer()
	}
}

// rawHTTPSRate downloads url once over HTTP/2, trusting pool, in MB/s.
func rawHTTPSRate(b *testing.B, url string, pool *x509.CertPool, size int64) float64 {
	b.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer c.CloseIdleConnections()
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || resp.ProtoMajor != 2 {
		b.Fatalf("raw HTTPS download: %d bytes over %s, %v", n, resp.Proto, err)
	}
	return float64(size) / time.Since(start).Seconds() / 1e6
}
