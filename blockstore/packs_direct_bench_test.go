//go:build linux

package blockstore

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkDirectWrite writes batches of eight 1 MiB blocks to the packs
// past the page cache, as a fetch's store writer does, and reports the
// process's CPU per GiB written: blocks from AlignedBuffer (as the fetcher
// reads them) go to the disk from where they are; others are copied into a
// staging buffer first.
func BenchmarkDirectWrite(b *testing.B) {
	for _, tc := range []struct {
		name    string
		aligned bool
	}{{"aligned", true}, {"unaligned", false}} {
		b.Run(tc.name, func(b *testing.B) {
			p, _, err := openPacks(b.TempDir(), packMaxSize)
			if err != nil {
				b.Fatal(err)
			}
			defer p.close(false)
			datas := make([][]byte, 8)
			for i := range datas {
				if tc.aligned {
					datas[i] = AlignedBuffer(1 << 20)
				} else {
					datas[i] = make([]byte, 1<<20+1)[1:]
				}
				for j := range datas[i] {
					datas[i][j] = byte(i + j)
				}
			}
			if _, err := p.writeMany(datas, true); err != nil {
				b.Fatal(err)
			}
			if !p.direct {
				b.Skip("the file system of the benchmark's temporary folder refuses O_DIRECT")
			}
			cpu0 := cpuTime()
			b.SetBytes(8 << 20)
			b.ResetTimer()
			for range b.N {
				if _, err := p.writeMany(datas, true); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu0).Seconds()/(float64(b.N)*8/1024), "cpu_s/GiB")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
