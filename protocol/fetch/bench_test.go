package fetch

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	yamux "github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/kith-p2p/kith/blockstore"
)

// newTCPHost starts a real libp2p host (TCP + Noise + yamux) listening on
// 127.0.0.1 only, closed when the benchmark ends.
func newTCPHost(tb testing.TB) host.Host {
	tb.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// tcpHosts starts n hosts and connects hosts[0] to every other.
func tcpHosts(tb testing.TB, n int) []host.Host {
	hs := make([]host.Host, n)
	for i := range hs {
		hs[i] = newTCPHost(tb)
	}
	for _, h := range hs[1:] {
		if err := hs[0].Connect(context.Background(), addrInfo(h)); err != nil {
			tb.Fatal(err)
		}
	}
	return hs
}

// fetchOnce fetches root into a fresh store and fails the benchmark on error.
func fetchOnce(b *testing.B, h host.Host, root cid.Cid, provs Providers) Result {
	b.Helper()
	res, err := NewFetcher(h, blockstore.NewMemStore()).Fetch(context.Background(), root, provs, nil)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

const benchFileSize = 256 << 20

// BenchmarkRawStream256MiB is the limit the fetch benchmark is measured
// against: one libp2p stream between the same kind of hosts, 1 MiB writes.
func BenchmarkRawStream256MiB(b *testing.B) {
	hs := tcpHosts(b, 2)
	const proto = "/kith/bench/raw"
	buf := make([]byte, 1<<20)
	hs[1].SetStreamHandler(proto, func(s network.Stream) {
		for sent := 0; sent < benchFileSize; sent += len(buf) {
			if _, err := s.Write(buf); err != nil {
				_ = s.Reset()
				return
			}
		}
		_ = s.Close()
	})
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for b.Loop() {
		s, err := hs[0].NewStream(context.Background(), hs[1].ID(), proto)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, s, make([]byte, 1<<20))
		if err != nil || n != benchFileSize {
			b.Fatalf("read %d bytes: %v", n, err)
		}
		_ = s.Close()
	}
}

// BenchmarkFetch256MiB fetches a 256 MiB file between two real hosts on
// loopback into an in-memory store.
func BenchmarkFetch256MiB(b *testing.B) {
	hs := tcpHosts(b, 2)
	src := blockstore.NewMemStore()
	root := addFile(b, src, detBytes(10, benchFileSize))
	serve(b, hs[1], src)
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for b.Loop() {
		fetchOnce(b, hs[0], root, infos(hs[1]))
	}
}

// BenchmarkFetchSmallFiles fetches 10,000 files of 4 KiB in 100 folders
// (Kubo: 6.8 s, ~1,460 files/s on the reference machine).
func BenchmarkFetchSmallFiles(b *testing.B) {
	hs := tcpHosts(b, 2)
	src := blockstore.NewMemStore()
	root := addFolders(b, src, 100, 100, func(int) int { return 4 << 10 })
	serve(b, hs[1], src)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		fetchOnce(b, hs[0], root, infos(hs[1]))
	}
	b.ReportMetric(float64(10000*b.N)/time.Since(start).Seconds(), "files/s")
}

// BenchmarkFetchSeeders compares 4 seeders capped at 25 MB/s each with one
// such seeder, fetching 64 MiB over loopback.
func BenchmarkFetchSeeders(b *testing.B) {
	const size = 64 << 20
	const limit = 25_000_000
	hs := tcpHosts(b, 5)
	src := blockstore.NewMemStore()
	root := addFile(b, src, detBytes(11, size))
	for _, h := range hs[1:] {
		serve(b, h, src, WithUploadLimit(limit))
	}
	var one, four time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		fetchOnce(b, hs[0], root, infos(hs[1]))
		one += time.Since(start)
		start = time.Now()
		res := fetchOnce(b, hs[0], root, infos(hs[1:]...))
		four += time.Since(start)
		if len(res.PerPeer) != 4 {
			b.Errorf("only %d seeders delivered", len(res.PerPeer))
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(one), "MB/s-1seeder")
	b.ReportMetric(mbps(four), "MB/s-4seeders")
	b.ReportMetric(one.Seconds()/four.Seconds(), "ratio")
}

// BenchmarkFetchLatency fetches 64 MiB over a mocknet link with 25 ms of
// latency each way (50 ms RTT), uncapped and capped at 12.5 MB/s (100 Mbit/s).
func BenchmarkFetchLatency(b *testing.B) {
	const size = 64 << 20
	for _, bc := range []struct {
		name string
		bw   float64
	}{{"uncapped", 0}, {"cap12.5MB", 12.5e6}} {
		b.Run(bc.name, func(b *testing.B) {
			mn, hs := newMocknet(b, 2)
			src := blockstore.NewMemStore()
			root := addFile(b, src, detBytes(12, size))
			serve(b, hs[1], src)
			var total time.Duration
			for b.Loop() {
				// Resetting the link also resets mocknet's token bucket, so
				// no iteration starts with a burst saved up while idle.
				setLink(b, mn, hs[0], hs[1], mocknet.LinkOptions{Latency: 25 * time.Millisecond, Bandwidth: bc.bw})
				start := time.Now()
				fetchOnce(b, hs[0], root, StaticProviders(peer.AddrInfo{ID: hs[1].ID(), Addrs: hs[1].Addrs()}))
				total += time.Since(start)
			}
			rate := float64(size*b.N) / total.Seconds()
			b.ReportMetric(rate/1e6, "MB/s")
			if bc.bw > 0 {
				b.ReportMetric(100*rate/bc.bw, "%cap")
			}
		})
	}
}
