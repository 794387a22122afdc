//go:build linux

package main_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Bitswap against Kubo: each figure is compared with Kubo doing the same
// transfer in the same run, from the same seeder, on loopback. Every fetch
// is a pin (kith: verified, stored durably, pinned; Kubo: `ipfs pin add`)
// into a fresh daemon. The two transfers of a run take turns going first.

// BenchmarkKuboSeederToKith fetches 1 GiB that a Kubo daemon holds, once
// with a fresh kith daemon (`kith pin add`, over Bitswap) and once with a
// fresh Kubo daemon (`ipfs pin add`), and reports both rates and kith's
// ratio to Kubo's.
func BenchmarkKuboSeederToKith(b *testing.B) {
	const size = 1 << 30
	src := filepath.Join(b.TempDir(), "big.bin")
	writeRandomFile(b, src, size)
	seed := startKubo(b)
	root := seed.must("add", "-Q", src)
	os.Remove(src)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var kith, kubo float64
		inTurn(func() {
			repo := b.TempDir()
			d := startDaemon(b, repo)
			connectKith(b, repo, seed)
			prof := cpuProfile(b, repo, "kubo-seeder-to-kith", 2)
			start := time.Now()
			mustKith(b, repo, "pin", "add", root)
			kith = float64(size) / time.Since(start).Seconds() / 1e6
			prof()
			d.stop()
			os.RemoveAll(repo)
		}, func() {
			kubo = kuboPinRate(b, seed.addr, root, size)
		})
		b.ReportMetric(kith, "kith_MB/s")
		b.ReportMetric(kubo, "kubo_MB/s")
		b.ReportMetric(kith/kubo, "x_kubo")
		b.StartTimer()
	}
}

// BenchmarkKithSeederToKubo fetches 1 GiB into a fresh Kubo daemon (`ipfs
// pin add`), once from a kith seeder and once from a Kubo seeder holding
// the same file, and reports both rates and the kith seeder's ratio to the
// Kubo seeder's.
func BenchmarkKithSeederToKubo(b *testing.B) {
	const size = 1 << 30
	src := filepath.Join(b.TempDir(), "big.bin")
	writeRandomFile(b, src, size)
	kuboSeed := startKubo(b)
	root := kuboSeed.must("add", "-Q", src)
	kithSeed := b.TempDir()
	startDaemon(b, kithSeed)
	if got := mustKith(b, kithSeed, "add", "-q", src); got != root {
		b.Fatalf("kith added %s, Kubo %s", got, root)
	}
	os.Remove(src)
	kithAddr := p2pAddrOf(b, kithSeed)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var fromKith, fromKubo float64
		inTurn(func() {
			fromKith = kuboPinRate(b, kithAddr, root, size)
		}, func() {
			fromKubo = kuboPinRate(b, kuboSeed.addr, root, size)
		})
		b.ReportMetric(fromKith, "from_kith_MB/s")
		b.ReportMetric(fromKubo, "from_kubo_MB/s")
		b.ReportMetric(fromKith/fromKubo, "x_kubo")
		b.StartTimer()
	}
}

// kuboPinRate starts a fresh Kubo daemon, connects it to the seeder at
// addr only, and returns the MB/s of `ipfs pin add root` (size bytes).
func kuboPinRate(b *testing.B, addr, root string, size int64) float64 {
	b.Helper()
	k := startKubo(b)
	k.must("swarm", "connect", addr)
	start := time.Now()
	k.must(kuboTimeout, "pin", "add", root)
	rate := float64(size) / time.Since(start).Seconds() / 1e6
	k.proc.Stop()
	os.RemoveAll(k.repo)
	return rate
}

// benchTurn alternates which of two measured transfers goes first, run
// after run (-count 5 calls a benchmark five times), so that neither
// always gets the colder or the warmer machine.
var benchTurn int

func inTurn(a, b func()) {
	benchTurn++
	if benchTurn%2 == 0 {
		a, b = b, a
	}
	a()
	b()
}
