package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/kith-p2p/kith/web/api"
)

// Benchmarks between real nodes in one process (TCP + Noise + yamux on
// 127.0.0.1, Badger stores on disk). Run with `make bench`; BENCHMARKS.md
// records the figures. Each reports MB/s and a ratio to the limit measured
// in the same run.

func benchNode(b *testing.B, configure func(*Config)) *Node {
	b.Helper()
	return newNodeAt(b, b.TempDir(), configure)
}

func benchConnect(b *testing.B, from, to *Node) {
	b.Helper()
	addr := to.Host().Addrs()[0].String() + "/p2p/" + to.Host().ID().String()
	if _, err := from.Connect(context.Background(), addr); err != nil {
		b.Fatal(err)
	}
}

// addRandomFile writes size random bytes to a file and adds that same file
// on every node given.
func addRandomFile(b *testing.B, size int64, nodes ...*Node) cid.Cid {
	b.Helper()
	path := filepath.Join(b.TempDir(), "src.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	buf := randomData(1 << 20)
	for w := int64(0); w < size; w += int64(len(buf)) {
		buf[0], buf[1], buf[2] = byte(w>>20), byte(w>>28), byte(w>>36)
		f.Write(buf)
	}
	f.Close()
	defer os.Remove(path)
	var root cid.Cid
	for _, n := range nodes {
		res, err := n.AddPaths(context.Background(), []string{path}, api.AddOptions{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		root = cid.MustParse(res.Cid)
	}
	return root
}

// rawStreamRate sends size bytes over one libp2p stream from a to b.
func rawStreamRate(b *testing.B, from, to *Node, size int64) float64 {
	b.Helper()
	const proto = "/kith/bench-raw/1.0.0"
	buf := make([]byte, 1<<20)
	from.Host().SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		for w := int64(0); w < size; w += int64(len(buf)) {
			if _, err := s.Write(buf); err != nil {
				s.Reset()
				return
			}
		}
	})
	defer from.Host().RemoveStreamHandler(proto)
	s, err := to.Host().NewStream(context.Background(), from.Host().ID(), proto)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := io.CopyBuffer(io.Discard, s, make([]byte, 1<<20))
	if err != nil || n != size {
		b.Fatalf("raw stream: %d bytes, %v", n, err)
	}
	return float64(size) / time.Since(start).Seconds() / 1e6
}

// BenchmarkFetch1GiB moves a 1 GiB file from one node to another (fetched,
// verified, stored durably and pinned: `kith pin add`) and compares it with
// a raw libp2p stream between the same two hosts in the same run.
func BenchmarkFetch1GiB(b *testing.B) {
	const size = 1 << 30
	a := benchNode(b, nil)
	root := addRandomFile(b, size, a)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := benchNode(b, nil)
		benchConnect(b, r, a)
		raw := rawStreamRate(b, a, r, size)
		b.StartTimer()
		start := time.Now()
		if _, err := r.PinAdd(context.Background(), root, api.PinOptions{Name: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		rate := float64(size) / time.Since(start).Seconds() / 1e6
		b.StopTimer()
		b.ReportMetric(rate, "MB/s")
		b.ReportMetric(raw, "raw_stream_MB/s")
		b.ReportMetric(rate/raw, "x_raw")
		r.Close()
		b.StartTimer()
	}
}

// BenchmarkFetchSmallFiles moves 10,000 files of 4 KiB in 100 folders.
func BenchmarkFetchSmallFiles(b *testing.B) {
	a := benchNode(b, nil)
	dirs := map[string]files.Node{}
	for d := 0; d < 100; d++ {
		entries := map[string]files.Node{}
		for f := 0; f < 100; f++ {
			entries[fmt.Sprintf("file%03d", f)] = files.NewBytesFile(randomData(4096))
		}
		dirs[fmt.Sprintf("dir%03d", d)] = files.NewMapDirectory(entries)
	}
	res, err := a.Add(context.Background(), "small", files.NewMapDirectory(dirs), api.AddOptions{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	root := cid.MustParse(res.Cid)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := benchNode(b, nil)
		benchConnect(b, r, a)
		b.StartTimer()
		start := time.Now()
		if _, err := r.PinAdd(context.Background(), root, api.PinOptions{Name: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(el.Seconds(), "s/fetch")
		b.ReportMetric(10000/el.Seconds(), "files/s")
		r.Close()
		b.StartTimer()
	}
}

// BenchmarkFetchFourCappedSeeders fetches 128 MiB from one seeder capped at
// 25 MB/s upload, then from four such seeders, and reports the speed-up,
// over TCP and over QUIC.
func BenchmarkFetchFourCappedSeeders(b *testing.B) {
	const size = 128 << 20
	for _, transport := range []string{"tcp", "quic"} {
		b.Run(transport, func(b *testing.B) {
			capped := func(c *Config) { c.Fetch.UploadLimit = 25_000_000 }
			seeders := []*Node{benchNode(b, capped), benchNode(b, capped), benchNode(b, capped), benchNode(b, capped)}
			root := addRandomFile(b, size, seeders...)
			fetchFrom := func(from []*Node) float64 {
				r := benchNode(b, nil)
				defer r.Close()
				for _, s := range from {
					benchConnectOver(b, r, s, transport)
				}
				start := time.Now()
				if _, err := r.PinAdd(context.Background(), root, api.PinOptions{Name: "bench"}, nil); err != nil {
					b.Fatal(err)
				}
				return float64(size) / time.Since(start).Seconds() / 1e6
			}
			for i := 0; i < b.N; i++ {
				one := fetchFrom(seeders[:1])
				four := fetchFrom(seeders)
				b.ReportMetric(one, "one_seeder_MB/s")
				b.ReportMetric(four, "four_seeders_MB/s")
				b.ReportMetric(four/one, "x_one")
			}
		})
	}
}

// benchConnectOver connects from to to over one transport ("tcp" or
// "quic") only.
func benchConnectOver(b *testing.B, from, to *Node, transport string) {
	b.Helper()
	for _, a := range to.Host().Addrs() {
		_, err := a.ValueForProtocol(0x01cd /* quic-v1 */)
		if (transport == "quic") == (err == nil) {
			if _, err := from.Connect(context.Background(), a.String()+"/p2p/"+to.Host().ID().String()); err != nil {
				b.Fatal(err)
			}
			return
		}
	}
	b.Fatalf("%s has no %s address: %v", to.Host().ID(), transport, to.Host().Addrs())
}
