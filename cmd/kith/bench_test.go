package main_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These benchmarks drive the real kith binary (built without -race) through
// its CLI and API, as a user would. Run them with `make bench`; BENCHMARKS.md
// records the figures.

// BenchmarkAdd1GiB adds a 1 GiB random file through the daemon and reports
// MB/s, the ratio to one sha256 pass over the same file in the same run, and
// the daemon's memory: RSS when idle, peak RSS (VmHWM, which counts the
// pages of Badger's memory-mapped files) and peak anonymous RSS (the
// daemon's own heap and stacks, sampled every 10 ms), and the CPU time the
// daemon spent on the add.
func BenchmarkAdd1GiB(b *testing.B) { benchAdd1GiB(b) }

// BenchmarkAddNoCopy1GiB is BenchmarkAdd1GiB with --nocopy, as a folder
// shared with --watch or --sync is added: the repo keeps where the bytes
// are in the file, not a copy. repo_MiB is what the repo holds after.
func BenchmarkAddNoCopy1GiB(b *testing.B) { benchAdd1GiB(b, "--nocopy") }

func benchAdd1GiB(b *testing.B, flags ...string) {
	const size = 1 << 30
	src := filepath.Join(b.TempDir(), "big.bin")
	writeRandomFile(b, src, size)
	shaRate := sha256Rate(b, src)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := b.TempDir()
		d := startDaemon(b, repo)
		waitIdle()
		idle := rssKiB(b, d.cmd.Process.Pid, "VmRSS")
		b.ReportMetric(float64(readStatus(d.cmd.Process.Pid, "RssAnon"))/1024, "idle_anon_RSS_MiB")
		sampler := sampleRSS(d.cmd.Process.Pid)
		cpu := cpuSeconds(d.cmd.Process.Pid)
		prof := cpuProfile(b, repo, "add-1gib", 2)
		b.StartTimer()
		start := time.Now()
		mustKith(b, repo, append([]string{"add", "-q", src}, flags...)...)
		el := time.Since(start)
		b.StopTimer()
		prof()
		var st struct {
			DiskUsage int64 `json:"disk_usage"`
		}
		if err := json.Unmarshal([]byte(mustKith(b, repo, "--json", "repo", "stat")), &st); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.DiskUsage)/(1<<20), "repo_MiB")
		b.ReportMetric(cpuSeconds(d.cmd.Process.Pid)-cpu, "daemon_cpu_s/GiB")
		peakAnon := sampler.stop()
		peak := rssKiB(b, d.cmd.Process.Pid, "VmHWM")
		rate := float64(size) / el.Seconds() / 1e6
		b.ReportMetric(rate, "MB/s")
		b.ReportMetric(rate/shaRate, "x_sha256")
		b.ReportMetric(shaRate, "sha256_MB/s")
		b.ReportMetric(float64(idle)/1024, "idle_RSS_MiB")
		b.ReportMetric(float64(peak)/1024, "peak_RSS_MiB")
		b.ReportMetric(float64(peakAnon)/1024, "peak_anon_RSS_MiB")
		d.stop()
		os.RemoveAll(repo)
		b.StartTimer()
	}
}

// BenchmarkAddSmallFiles adds 10,000 files of 4 KiB in 100 folders.
func BenchmarkAddSmallFiles(b *testing.B) {
	src := writeSmallTree(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := b.TempDir()
		d := startDaemon(b, repo)
		b.StartTimer()
		start := time.Now()
		mustKith(b, repo, "add", "-r", "-q", src)
		b.ReportMetric(time.Since(start).Seconds(), "s/add")
		b.StopTimer()
		d.stop()
		os.RemoveAll(repo)
		b.StartTimer()
	}
}

// sha256Rate hashes the file once (1 MiB reads) and returns MB/s: the limit
// an add cannot beat.
func sha256Rate(tb testing.TB, path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	start := time.Now()
	n, err := io.CopyBuffer(h, f, buf)
	if err != nil {
		tb.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds() / 1e6
}

// rssSampler records the highest RssAnon of a process until stopped.
type rssSampler struct {
	done chan struct{}
	peak chan int
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), peak: make(chan int, 1)}
	go func() {
		peak := 0
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v := readStatus(pid, "RssAnon"); v > peak {
				peak = v
			}
			select {
			case <-s.done:
				s.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() int {
	close(s.done)
	return <-s.peak
}

// readStatus returns a kB field of /proc/PID/status, 0 if unreadable.
func readStatus(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return v
		}
	}
	return 0
}

// rssKiB reads a memory figure (VmRSS, VmHWM) of a process from /proc.
func rssKiB(tb testing.TB, pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return v
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// cpuSeconds returns the CPU time (user + system) a process has used, from
// /proc/PID/stat, 0 if unreadable.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces), from field 3.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// waitIdle lets a freshly started daemon finish its start-up work before its
// idle memory is read (a measurement pause, not synchronisation).
func waitIdle() { time.Sleep(2 * time.Second) }

// BenchmarkRead1GiB writes a 1 GiB file back out of the repo (`kith get`)
// and streams it through the API (`kith cat`), reporting MB/s and the
// daemon's peak anonymous RSS: reading must stream, not buffer the file.
func BenchmarkRead1GiB(b *testing.B) {
	const size = 1 << 30
	dir := b.TempDir()
	src := filepath.Join(dir, "big.bin")
	writeRandomFile(b, src, size)
	repo := b.TempDir()
	d := startDaemon(b, repo)
	cid := mustKith(b, repo, "add", "-q", src)
	os.Remove(src)
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
		sampler := sampleRSS(d.cmd.Process.Pid)
		start := time.Now()
		mustKith(b, repo, "get", cid, "-o", out)
		getRate := float64(size) / time.Since(start).Seconds() / 1e6
		start = time.Now()
		catTo(b, repo, cid, os.DevNull)
		catRate := float64(size) / time.Since(start).Seconds() / 1e6
		peak := sampler.stop()
		b.ReportMetric(getRate, "get_MB/s")
		b.ReportMetric(catRate, "cat_MB/s")
		b.ReportMetric(float64(peak)/1024, "peak_anon_RSS_MiB")
		os.Remove(out)
	}
}

// catTo runs `kith cat CID > path`.
func catTo(tb testing.TB, repo, cid, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(kithBin, "--repo", repo, "cat", cid)
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr = f, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("kith cat: %v: %s", err, errb.String())
	}
}

// BenchmarkP2PFetch1GiB runs two real daemons on loopback: the first adds a
// 1 GiB file, the second fetches it with `kith pin add` (verified, stored
// durably, pinned). Reports MB/s, the fetching daemon's peak anonymous
// RSS and VmHWM, and the CPU time it spent on the fetch (and the seeder).
func BenchmarkP2PFetch1GiB(b *testing.B) { benchP2PFetch1GiB(b) }

// BenchmarkP2PFetchNoCopy1GiB is BenchmarkP2PFetch1GiB from a seeder that
// added the file with --nocopy (as a folder shared with --watch or --sync
// is): it reads each block from the file and checks its hash.
func BenchmarkP2PFetchNoCopy1GiB(b *testing.B) { benchP2PFetch1GiB(b, "--nocopy") }

func benchP2PFetch1GiB(b *testing.B, flags ...string) {
	const size = 1 << 30
	src := filepath.Join(b.TempDir(), "big.bin")
	writeRandomFile(b, src, size)
	seed := b.TempDir()
	sd := startDaemon(b, seed)
	root := mustKith(b, seed, append([]string{"add", "-q", src}, flags...)...)
	if len(flags) == 0 {
		os.Remove(src)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := b.TempDir()
		d := startDaemon(b, repo)
		mustKith(b, repo, "connect", p2pAddrOf(b, seed))
		sampler := sampleRSS(d.cmd.Process.Pid)
		cpu := cpuSeconds(d.cmd.Process.Pid)
		seedCPU := cpuSeconds(sd.cmd.Process.Pid)
		b.StartTimer()
		start := time.Now()
		mustKith(b, repo, "pin", "add", root)
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(cpuSeconds(d.cmd.Process.Pid)-cpu, "daemon_cpu_s/GiB")
		b.ReportMetric(cpuSeconds(sd.cmd.Process.Pid)-seedCPU, "seeder_cpu_s/GiB")
		peakAnon := sampler.stop()
		b.ReportMetric(float64(size)/el.Seconds()/1e6, "MB/s")
		b.ReportMetric(float64(peakAnon)/1024, "peak_anon_RSS_MiB")
		b.ReportMetric(float64(rssKiB(b, d.cmd.Process.Pid, "VmHWM"))/1024, "peak_RSS_MiB")
		d.stop()
		os.RemoveAll(repo)
		b.StartTimer()
	}
}

// BenchmarkP2PFetchSmallFiles moves 10,000 files of 4 KiB in 100 folders
// between two real daemons: `kith pin add` (the transfer, as Kubo's figure
// measures it), then `kith get` of the now-local folder (writing 10,000
// files to disk).
func BenchmarkP2PFetchSmallFiles(b *testing.B) {
	src := writeSmallTree(b)
	seed := b.TempDir()
	startDaemon(b, seed)
	root := mustKith(b, seed, "add", "-r", "-q", src)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := b.TempDir()
		d := startDaemon(b, repo)
		mustKith(b, repo, "connect", p2pAddrOf(b, seed))
		out := filepath.Join(b.TempDir(), "out")
		b.StartTimer()
		start := time.Now()
		mustKith(b, repo, "pin", "add", root)
		b.ReportMetric(time.Since(start).Seconds(), "s/fetch")
		b.StopTimer()
		// Let the kernel write out what earlier steps left dirty (the
		// 10,000 source files), so the write-out measures kith.
		exec.Command("sync").Run()
		b.StartTimer()
		start = time.Now()
		mustKith(b, repo, "get", root, "-o", out)
		b.ReportMetric(time.Since(start).Seconds(), "s/write_out")
		b.StopTimer()
		d.stop()
		os.RemoveAll(repo)
		b.StartTimer()
	}
}

// writeSmallTree writes 10,000 random files of 4 KiB in 100 folders and
// returns the tree's root folder.
func writeSmallTree(b *testing.B) string {
	src := filepath.Join(b.TempDir(), "small")
	for d := 0; d < 100; d++ {
		dir := filepath.Join(src, fmt.Sprintf("dir%03d", d))
		os.MkdirAll(dir, 0o755)
		for f := 0; f < 100; f++ {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%03d", f)), randomBytes(4096), 0o644)
		}
	}
	return src
}
