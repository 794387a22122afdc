//go:build linux

package internet_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// BenchmarkLANScale is the scale check: add on one daemon and fetch on
// another (`kith pin add`), two laptops on one home LAN (both transports;
// kith picks TCP on a LAN), of 1 GiB and 4 GiB files and of 10,000 and 100,000
// small files (4 KiB, 100 per folder). Time should grow linearly with
// size (compare each pair) and memory not at all: it reports both
// daemons' peak RSS during the transfer and their RSS once idle again
// (after the daemon's memory trim, node/memtrim.go).
func BenchmarkLANScale(b *testing.B) {
	for _, tc := range []struct {
		name  string
		bytes int64 // one file of this size
		files int   // or this many 4 KiB files
	}{
		{"1GiB", 1 << 30, 0},
		{"4GiB", 4 << 30, 0},
		{"10k-files", 0, 10_000},
		{"100k-files", 0, 100_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				lab := netlab.New(b)
				cfg := config{
					"network": map[string]any{"bootstrap": []string{}, "listen_addrs": []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"}},
					"dht":     map[string]any{"protocol_prefix": "/ipfs"},
				}
				home := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone})
				a := startKith(b, "seeder", home.Laptop("lana"), cfg)
				bb := startKith(b, "fetcher", home.Laptop("lanb"), cfg)
				var path string
				if tc.files > 0 {
					path = writeSmallFiles(b, filepath.Join(a.files, "tree"), tc.files)
				} else {
					path = writeRandomFile(b, filepath.Join(a.files, "large.bin"), tc.bytes)
				}
				peakAdd := startPeakRSS(a.proc.Pid())
				start := time.Now()
				var res api.AddResult
				args := []string{"add", path}
				if tc.files > 0 {
					args = []string{"add", "-r", path}
				}
				if err := a.runJSON(&res, args...); err != nil {
					b.Fatal(err)
				}
				addTook := time.Since(start)
				addPeak := peakAdd.stop()
				os.RemoveAll(path)
				waitFor(b, time.Minute, "the fetcher to find the seeder with mDNS", func() bool {
					for _, p := range bb.peers() {
						if p.ID == a.id.PeerID {
							return true
						}
					}
					return false
				})
				peakA, peakB := startPeakRSS(a.proc.Pid()), startPeakRSS(bb.proc.Pid())
				start = time.Now()
				if out, err := bb.run("pin", "add", res.Cid); err != nil {
					b.Fatalf("pin add: %v: %s", err, out)
				}
				fetchTook := time.Since(start)
				seedPeak, fetchPeak := peakA.stop(), peakB.stop()
				// The daemons trim their memory 5 s after a transfer ends.
				time.Sleep(8 * time.Second) // a measurement pause, not synchronisation
				b.ReportMetric(addTook.Seconds(), "add_s")
				b.ReportMetric(fetchTook.Seconds(), "fetch_s")
				if tc.bytes > 0 {
					b.ReportMetric(float64(tc.bytes)/addTook.Seconds()/1e6, "add_MB/s")
					b.ReportMetric(float64(tc.bytes)/fetchTook.Seconds()/1e6, "fetch_MB/s")
				} else {
					b.ReportMetric(float64(tc.files)/fetchTook.Seconds(), "fetch_files/s")
				}
				// The seeder's peaks while adding and while serving, apart:
				// adding 100,000 files and serving them stress different parts.
				b.ReportMetric(float64(addPeak)/1024, "seeder_add_peak_RSS_MiB")
				b.ReportMetric(float64(peakAdd.anon)/1024, "seeder_add_peak_anon_MiB")
				b.ReportMetric(float64(seedPeak)/1024, "seeder_serve_peak_RSS_MiB")
				b.ReportMetric(float64(peakA.anon)/1024, "seeder_serve_peak_anon_MiB")
				b.ReportMetric(float64(fetchPeak)/1024, "fetcher_peak_RSS_MiB")
				b.ReportMetric(float64(peakB.anon)/1024, "fetcher_peak_anon_MiB")
				b.ReportMetric(float64(statusKiB(a.proc.Pid(), "VmRSS"))/1024, "seeder_idle_RSS_MiB")
				b.ReportMetric(float64(statusKiB(bb.proc.Pid(), "VmRSS"))/1024, "fetcher_idle_RSS_MiB")
			}
		})
	}
}

// writeRandomFile writes size random bytes to path in 1 MiB pieces.
func writeRandomFile(tb testing.TB, path string, size int64) string {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for w := int64(0); w < size; w += int64(len(buf)) {
		rand.Read(buf)
		if _, err := f.Write(buf[:min(int64(len(buf)), size-w)]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeSmallFiles writes n files of 4 KiB of random bytes, 100 per folder,
// under dir.
func writeSmallFiles(tb testing.TB, dir string, n int) string {
	tb.Helper()
	buf := make([]byte, 4<<10)
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("d%04d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", i%100)), buf, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
