//go:build linux

package internet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// BenchmarkLANFetch moves a file between two kith daemons on one home LAN
// (two laptops in network namespaces behind one router, joined by its LAN
// bridge: veth pairs, private addresses, no shaping), with one transport
// forced (each daemon listens only on TCP, or only on QUIC), or both
// offered, and compares it with a
// raw libp2p stream over the same transport between the same two
// namespaces, in the same run. It reports both daemons' CPU time per GiB,
// the raw stream's too (sender and receiver: where the CPUs are the limit,
// kith's share of the raw speed cannot beat the ratio of these costs), for
// both the packets per MiB at the fetching end, its UDP drops and the sends
// of the sending end (see packets), and the fetching daemon's peak RSS. The -own-cpu cases run each laptop's
// programs on a CPU of their own, as two laptops are, and report how busy
// each laptop's CPU was during the fetch; otherwise both ends share this
// machine's two. KITH_LAN_MIB sets the size (default 1024).
func BenchmarkLANFetch(b *testing.B) {
	size := int64(1024) << 20
	if v, err := strconv.Atoi(os.Getenv("KITH_LAN_MIB")); err == nil && v > 0 {
		size = int64(v) << 20
	}
	for _, tr := range []struct {
		name, transport, addr string
		// ownCPU runs each laptop's programs on a CPU of its own, as two
		// laptops are: without it both daemons (and both ends of the raw
		// stream) share this machine's CPUs.
		ownCPU bool
	}{
		{"tcp", "tcp", "/ip4/%s/tcp/%d", false},
		{"quic", "quic", "/ip4/%s/udp/%d/quic-v1", false},
		// Both daemons listen on both; they find each other with mDNS, as
		// on a home LAN, and kith picks the transport (TCP: see
		// node/dialrank.go). The limit is the raw TCP stream.
		{"both", "tcp", "", false},
		{"tcp-own-cpu", "tcp", "/ip4/%s/tcp/%d", true},
		{"quic-own-cpu", "quic", "/ip4/%s/udp/%d/quic-v1", true},
	} {
		b.Run(tr.name, func(b *testing.B) {
			for range b.N {
				lab := netlab.New(b)
				home := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone})
				ha, hb := home.Laptop("lana"), home.Laptop("lanb")
				if tr.ownCPU {
					if runtime.NumCPU() < 2 {
						b.Skip("one CPU per laptop needs two CPUs")
					}
					ha.PinCPUs("0")
					hb.PinCPUs("1")
				}
				listen := []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"}
				rawAddr, want := "/ip4/%s/tcp/%d", tr.transport
				if tr.addr != "" {
					listen, rawAddr = []string{fmt.Sprintf(tr.addr, "0.0.0.0", 4001)}, tr.addr
				}
				cfg := func() config {
					return config{
						"network": map[string]any{"bootstrap": []string{}, "listen_addrs": listen},
						"dht":     map[string]any{"protocol_prefix": "/ipfs"},
					}
				}
				a := startKith(b, "seeder", ha, cfg())
				bb := startKith(b, "fetcher", hb, cfg())
				pk0, sk0 := countPackets(b, hb), countPackets(b, ha)
				raw := rawP2P(b, ha, hb, fmt.Sprintf(rawAddr, hb.Addr(), 4002), size)
				pk0b := countPackets(b, hb)
				rawIn, rawOut := pk0.perMiB(pk0b, size)
				rawDrops := pk0.dropsPerMiB(pk0b, size)
				_, rawSends := sk0.perMiB(countPackets(b, ha), size)
				disk := diskWriteRate(b, bb.repo, size)
				res := a.addLarge(size)
				if tr.addr != "" {
					addr := fmt.Sprintf(tr.addr, ha.Addr(), 4001) + "/p2p/" + a.id.PeerID
					if out, err := bb.run("connect", addr); err != nil {
						b.Fatalf("connect: %v: %s", err, out)
					}
				} else {
					waitFor(b, time.Minute, "the fetcher to find the seeder with mDNS", func() bool {
						for _, p := range bb.peers() {
							if p.ID == a.id.PeerID {
								return true
							}
						}
						return false
					})
				}
				cpuA, cpuB := cpuSeconds(a.proc.Pid()), cpuSeconds(bb.proc.Pid())
				peak := startPeakRSS(bb.proc.Pid())
				cores := readCoreTimes()
				profA, profB := a.cpuProfile("seeder-"+tr.name, 8), bb.cpuProfile("fetcher-"+tr.name, 8)
				pk1, sk1 := countPackets(b, hb), countPackets(b, ha)
				start := time.Now()
				if out, err := bb.run("pin", "add", res.Cid); err != nil {
					b.Fatalf("pin add: %v: %s", err, out)
				}
				took := time.Since(start)
				pk2 := countPackets(b, hb)
				kithIn, kithOut := pk1.perMiB(pk2, size)
				kithDrops := pk1.dropsPerMiB(pk2, size)
				_, kithSends := sk1.perMiB(countPackets(b, ha), size)
				busy := coreBusy(cores, readCoreTimes())
				hwm := peak.stop()
				profA()
				profB()
				if !connectedOver(bb.peers(), a.id.PeerID, want, size/2) {
					b.Fatalf("the fetch did not run over %s: %+v", want, bb.peers())
				}
				gib := float64(size) / (1 << 30)
				rate := float64(size) / took.Seconds()
				b.ReportMetric(rate/1e6, "MB/s")
				b.ReportMetric(raw.rate/1e6, "raw_libp2p_MB/s")
				b.ReportMetric(rate/raw.rate, "x_raw")
				b.ReportMetric(disk/1e6, "disk_MB/s")
				b.ReportMetric(rate/min(raw.rate, disk), "x_limit")
				b.ReportMetric(raw.sendCPU, "raw_send_cpu_s/GiB")
				// Packets per MiB at the fetching end, kith and the raw
				// stream: in (data) and out (acknowledgements).
				b.ReportMetric(kithIn, "fetcher_pkts_in/MiB")
				b.ReportMetric(kithOut, "fetcher_pkts_out/MiB")
				b.ReportMetric(rawIn, "raw_pkts_in/MiB")
				b.ReportMetric(rawOut, "raw_pkts_out/MiB")
				// Datagrams the fetching end's kernel dropped (its socket
				// buffer full), and the sending end's sends (with UDP GSO
				// one per batch of datagrams), per MiB.
				b.ReportMetric(kithDrops, "fetcher_udp_drops/MiB")
				b.ReportMetric(rawDrops, "raw_udp_drops/MiB")
				b.ReportMetric(kithSends, "seeder_sends/MiB")
				b.ReportMetric(rawSends, "raw_sends/MiB")
				b.ReportMetric(raw.recvCPU, "raw_recv_cpu_s/GiB")
				if tr.ownCPU {
					// The share of each laptop's CPU that was busy (its
					// programs and the kernel's network work on it): a
					// side near 100% is the one that limits the fetch.
					b.ReportMetric(busy["cpu0"], "seeder_core_busy_%")
					b.ReportMetric(busy["cpu1"], "fetcher_core_busy_%")
				}
				b.ReportMetric((cpuSeconds(a.proc.Pid())-cpuA)/gib, "seeder_cpu_s/GiB")
				b.ReportMetric((cpuSeconds(bb.proc.Pid())-cpuB)/gib, "fetcher_cpu_s/GiB")
				b.ReportMetric(float64(hwm)/1024, "fetcher_peak_RSS_MiB")
			}
		})
	}
}

// addLarge writes size random bytes to a file in the repo's folder and
// adds it.
func (k *kith) addLarge(size int64) api.AddResult {
	k.t.Helper()
	path := writeRandomFile(k.t, filepath.Join(k.files, "large.bin"), size)
	var res api.AddResult
	if err := k.runJSON(&res, "add", path); err != nil {
		k.t.Fatal(err)
	}
	os.Remove(path)
	return res
}

// connectedOver reports whether ps holds a direct connection to id over
// transport that has received at least min bytes.
func connectedOver(ps []api.Peer, id, transport string, min int64) bool {
	for _, p := range ps {
		if p.ID == id && !p.Relayed && p.Transport == transport && p.BytesIn >= min {
			return true
		}
	}
	return false
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

// peakRSS samples a process's RSS every 50 ms (VmHWM cannot be reset, and
// the daemon's start counts in it) until stop, which returns the peak in
// KiB.
type peakRSS struct {
	done chan struct{}
	peak chan int
	anon int // peak RssAnon (the heap and other private memory), set by stop
}

func startPeakRSS(pid int) *peakRSS {
	s := &peakRSS{done: make(chan struct{}), peak: make(chan int, 1)}
	go func() {
		peak := 0
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, statusKiB(pid, "VmRSS"))
			s.anon = max(s.anon, statusKiB(pid, "RssAnon"))
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

func (s *peakRSS) stop() int {
	close(s.done)
	return <-s.peak
}

// statusKiB returns a kB field of /proc/PID/status, 0 if unreadable.
func statusKiB(pid int, field string) int {
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

// cpuProfile starts a CPU profile of k's daemon for secs seconds when
// KITH_BENCH_CPUPROFILE names a directory (unset: it does nothing), and
// returns a function that waits for it, written there as NAME-UNIX.pprof.
// The API listens on the namespace's loopback, so curl runs in it.
func (k *kith) cpuProfile(name string, secs int) (wait func()) {
	dir := os.Getenv("KITH_BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	addr, err1 := os.ReadFile(filepath.Join(k.repo, "api"))
	tok, err2 := os.ReadFile(filepath.Join(k.repo, "api.token"))
	if err1 != nil || err2 != nil {
		k.t.Fatalf("profile %s: no API address or token in %s", name, k.repo)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, time.Now().UnixNano()))
	cmd := k.host.Command("curl", "-sf", "-o", out, "-H", "Authorization: Bearer "+strings.TrimSpace(string(tok)),
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", strings.TrimSpace(string(addr)), secs))
	if err := cmd.Start(); err != nil {
		k.t.Fatalf("profile %s: %v", name, err)
	}
	return func() {
		if err := cmd.Wait(); err != nil {
			k.t.Errorf("profile %s: %v", name, err)
		}
	}
}

// diskWriteRate writes size bytes to a file in dir and syncs it, as a
// durable fetch into that repo must, and returns the rate in bytes/s: the
// disk's limit in the same run.
func diskWriteRate(tb testing.TB, dir string, size int64) float64 {
	tb.Helper()
	path := filepath.Join(dir, "disk-probe")
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	for w := int64(0); w < size; w += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	return float64(size) / time.Since(start).Seconds()
}

// readCoreTimes reads each CPU's time counters from /proc/stat (user,
// nice, system, idle, iowait, irq, softirq, steal), by name ("cpu0").
func readCoreTimes() map[string][]int64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	m := map[string][]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] == "cpu" || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		for _, x := range f[1:9] {
			v, _ := strconv.ParseInt(x, 10, 64)
			m[f[0]] = append(m[f[0]], v)
		}
	}
	return m
}

// coreBusy is the percentage of each CPU's time between two readings that
// was neither idle nor waiting for I/O.
func coreBusy(before, after map[string][]int64) map[string]float64 {
	busy := map[string]float64{}
	for name, a := range after {
		b := before[name]
		if len(b) != len(a) {
			continue
		}
		var total, idle int64
		for i := range a {
			d := a[i] - b[i]
			total += d
			if i == 3 || i == 4 {
				idle += d
			}
		}
		if total > 0 {
			busy[name] = 100 * float64(total-idle) / float64(total)
		}
	}
	return busy
}
