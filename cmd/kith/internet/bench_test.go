//go:build linux

package internet_test

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// Benchmarks behind the internet figures in BENCHMARKS.md. Each iteration
// builds its own lab, so run them with -benchtime 1x and -count for
// repetitions (make bench: -count 5, report medians).

// twoHomes is the lab most benchmarks share: two kith public nodes (DHT
// servers and relays), two laptops behind cone NATs with their relay
// reservations held, as daemons that have been running for a while are.
// The lab has no delay (no netem on these machines): round trips are
// well under a millisecond, so times to first byte count round trips and
// timers, not distance.
func twoHomes(b *testing.B, upA netlab.Rate) (lab *netlab.Lab, pub *publicNet, a, bb *kith) {
	b.Helper()
	lab = netlab.New(b)
	pub = startPublicNetB(b, lab, 2)
	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Cone, Up: upA})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Cone})
	a = startKith(b, "laptop-A", homeA.Laptop("a"), laptopConfig(pub.boot))
	bb = startKith(b, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
	for _, k := range []*kith{a, bb} {
		waitFor(b, time.Minute, k.name+" to hold a relay reservation", func() bool { return len(k.doctor().RelayAddrs) > 0 })
	}
	return lab, pub, a, bb
}

// startPublicNetB is startPublicNet without Kubo, for benchmarks.
func startPublicNetB(b *testing.B, lab *netlab.Lab, n int) *publicNet {
	pn := &publicNet{}
	for i := 1; i <= n; i++ {
		k := startKith(b, fmt.Sprintf("public-%d", i), lab.PublicHost(fmt.Sprintf("pub%d", i)), serverConfig(pn.boot))
		pn.kiths = append(pn.kiths, k)
		pn.boot = append(pn.boot, k.addrs()...)
	}
	return pn
}

// timedGet runs `kith --json get REF` on k and returns the time to the
// first fetched byte (the first progress event with fetched bytes: blocks
// are stored only once verified) and to the end.
func timedGet(b *testing.B, k *kith, ref string) (first, total time.Duration, res api.GetResult) {
	b.Helper()
	out := filepath.Join(k.repo, fmt.Sprintf("got-%d", time.Now().UnixNano()))
	cmd := k.host.Command(kithBin, "--repo", k.repo, "--json", "get", ref, "-o", out)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var last []byte
	for sc.Scan() {
		var ev api.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if first == 0 && ev.Type == "progress" && ev.Phase == "fetch" && ev.Bytes > 0 {
			first = time.Since(start)
		}
		last = append(last[:0], sc.Bytes()...)
	}
	// The result is the last line (progress events come before it).
	_ = json.Unmarshal(last, &res)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("get %s: %v", ref, err)
	}
	total = time.Since(start)
	os.RemoveAll(out)
	return first, total, res
}

// BenchmarkTicketFirstByte: from `kith get TICKET` to the first verified
// byte across two cone NATs, hole punch included (limit: 3 s).
func BenchmarkTicketFirstByte(b *testing.B) {
	for range b.N {
		_, _, a, bb := twoHomes(b, 0)
		res, _ := a.addFile(8 << 20)
		first, _, _ := timedGet(b, bb, res.Ticket)
		b.ReportMetric(first.Seconds(), "s-to-first-byte")
		b.ReportMetric(first.Seconds()/3, "x-limit")
	}
}

// BenchmarkCIDFirstByte: the same knowing only the CID, on the small
// public network (limit: 10 s).
func BenchmarkCIDFirstByte(b *testing.B) {
	for range b.N {
		_, pub, a, bb := twoHomes(b, 0)
		res, _ := a.addFile(8 << 20)
		waitFor(b, time.Minute, "the DHT to know A's record", func() bool {
			out, err := pub.kiths[1].run("dht", "findprovs", res.Cid)
			return err == nil && strings.Contains(out, a.id.PeerID)
		})
		first, _, _ := timedGet(b, bb, res.Cid)
		b.ReportMetric(first.Seconds(), "s-to-first-byte")
		b.ReportMetric(first.Seconds()/10, "x-limit")
	}
}

// BenchmarkCodeFirstByte: the same from `kith get CODE`, the code `kith
// send` printed a moment before: two Argon2id derivations, the DHT lookup
// of the code's rendezvous, the question, then the ticket's get (limit:
// 10 s, as by CID).
func BenchmarkCodeFirstByte(b *testing.B) {
	for range b.N {
		_, _, a, bb := twoHomes(b, 0)
		src := filepath.Join(a.files, "sent.bin")
		data := make([]byte, 8<<20)
		rand.Read(data)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			b.Fatal(err)
		}
		send := netlab.Start(b, a.host.Command(kithBin, "--repo", a.repo, "send", src))
		var code string
		waitFor(b, time.Minute, "A's send to print its code", func() bool {
			if m := sentCode.FindStringSubmatch(send.Output()); m != nil {
				code = m[1]
			}
			return code != ""
		})
		first, _, _ := timedGet(b, bb, code)
		b.ReportMetric(first.Seconds(), "s-to-first-byte")
		b.ReportMetric(first.Seconds()/10, "x-limit")
		_ = send.Stop()
	}
}

// uplink is the shaped upload of the throughput benchmarks.
const uplink = 50 * netlab.Mbit

// BenchmarkHolePunchedFetch: 200 MiB after the hole punch, from a laptop
// whose uplink is 50 Mbit/s (limit: 95% of it).
func BenchmarkHolePunchedFetch(b *testing.B) {
	for range b.N {
		lab, _, a, bb := twoHomes(b, uplink)
		res, _ := a.addFile(200 << 20)
		_, _, got := timedGet(b, bb, res.Ticket)
		if !hasDirectConnTo(bb.peers(), a.id.PeerID, 0) {
			b.Fatal("no direct connection to A after the get")
		}
		// The fetch's own clock: from its start (the peer is connected
		// by then) to the last block, without writing the file out.
		rate := float64(got.Fetched.Bytes) / got.Fetched.Seconds
		raw := rawUpload(b, a.host, lab.PublicHost("sink"), 64<<20)
		b.ReportMetric(rate/1e6, "MB/s")
		b.ReportMetric(rate/(float64(uplink)/8), "x-uplink")
		b.ReportMetric(raw/1e6, "raw-TCP-MB/s")
		b.ReportMetric(rate/raw, "x-raw-TCP")
	}
}

// BenchmarkIPv6PunchedFetch: 200 MiB between two homes behind symmetric
// IPv4 NATs (no punch over IPv4) that have IPv6 behind their routers'
// firewalls: the hole is punched over IPv6, from a laptop whose uplink is
// 50 Mbit/s. The limit is a raw TCP stream over IPv6 through the same
// link (its 40-byte headers carry less per packet than IPv4's 20).
func BenchmarkIPv6PunchedFetch(b *testing.B) {
	for range b.N {
		lab := netlab.NewDualStack(b)
		pub := startPublicNetB(b, lab, 2)
		homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric, Up: uplink})
		homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
		a := startKith(b, "laptop-A", homeA.Laptop("a"), laptopConfig(pub.boot))
		bb := startKith(b, "laptop-B", homeB.Laptop("b"), laptopConfig(pub.boot))
		waitFor(b, time.Minute, "A to hold a relay reservation", func() bool { return len(a.doctor().RelayAddrs) > 0 })
		res, _ := a.addFile(200 << 20)
		first, _, got := timedGet(b, bb, res.Ticket)
		if !slices.ContainsFunc(bb.peers(), func(p api.Peer) bool {
			return p.ID == a.id.PeerID && !p.Relayed && strings.HasPrefix(p.Addr, "/ip6/") && p.BytesIn >= got.Fetched.Bytes
		}) {
			b.Fatalf("the get did not come over a direct IPv6 connection to A: %+v", bb.peers())
		}
		rate := float64(got.Fetched.Bytes) / got.Fetched.Seconds
		sink := lab.PublicHost("sink")
		raw := rawUploadTo(b, a.host, sink, sink.Addr6(), 64<<20)
		b.ReportMetric(first.Seconds(), "s-to-first-byte")
		b.ReportMetric(rate/1e6, "MB/s")
		b.ReportMetric(rate/(float64(uplink)/8), "x-uplink")
		b.ReportMetric(raw/1e6, "raw-TCP6-MB/s")
		b.ReportMetric(rate/raw, "x-raw-TCP6")
	}
}

// BenchmarkGroupRelayFetch: both laptops behind symmetric NATs; 100 MiB
// through a group member's relay whose upload is 50 Mbit/s (limit: 80%).
func BenchmarkGroupRelayFetch(b *testing.B) {
	for range b.N {
		lab := netlab.New(b)
		pub := startPublicNetB(b, lab, 1)
		homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Symmetric})
		homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Symmetric})
		a := startKith(b, "laptop-A", homeA.Laptop("a"), inGroups(laptopConfig(pub.boot)))
		bb := startKith(b, "laptop-B", homeB.Laptop("b"), inGroups(laptopConfig(pub.boot)))
		vpsCfg := serverConfig(pub.boot)
		vpsCfg["groups"] = map[string]any{"budget_percent": 0}
		vpsHost := lab.PublicHost("vps")
		vps := startKith(b, "vps", vpsHost, inGroups(vpsCfg))
		waitFor(b, time.Minute, "the VPS to find it is public", func() bool { return vps.doctor().Reachability == "public" })
		makeGroup(b, "family", a, bb, vps)
		waitFor(b, 90*time.Second, "A to hold a reservation on the VPS's group relay", func() bool { return len(a.doctor().GroupRelays) > 0 })
		vpsHost.ShapeUp(uplink)
		res, _ := a.addFile(100<<20, "--private")
		_, _, got := timedGet(b, bb, res.Ticket)
		rate := float64(got.Fetched.Bytes) / got.Fetched.Seconds
		b.ReportMetric(rate/1e6, "MB/s")
		b.ReportMetric(rate/(float64(uplink)/8), "x-relay-link")
	}
}

// BenchmarkRelayReservation: from `kith daemon` on a laptop behind a NAT
// to its first relay reservation (limit: 20 s; libp2p's defaults ~200 s).
func BenchmarkRelayReservation(b *testing.B) {
	for range b.N {
		lab := netlab.New(b)
		pub := startPublicNetB(b, lab, 2)
		start := time.Now()
		a := startKith(b, "laptop-A", lab.HomeRouter("homea", netlab.RouterConfig{}).Laptop("a"), laptopConfig(pub.boot))
		waitFor(b, 2*time.Minute, "a relay reservation", func() bool { return len(a.doctor().RelayAddrs) > 0 })
		took := time.Since(start)
		b.ReportMetric(took.Seconds(), "s-to-reservation")
		b.ReportMetric(took.Seconds()/20, "x-limit")
	}
}

// BenchmarkIdleTraffic: a kith laptop and a Kubo laptop, each with 100
// pins, behind NATs on the emulated internet, left idle; bytes in and out
// of each laptop per second (limit for kith: 1 KB/s each way). The idle
// period is 10 minutes (KITH_IDLE_MINUTES to change it).
func BenchmarkIdleTraffic(b *testing.B) {
	minutes := 10
	if v, err := strconv.Atoi(os.Getenv("KITH_IDLE_MINUTES")); err == nil && v > 0 {
		minutes = v
	}
	for range b.N {
		lab := netlab.New(b)
		pub := &publicNet{}
		pub = startPublicNetB(b, lab, 2)
		kubo := netlab.StartKubo(b, lab.PublicHost("kubo"), netlab.KuboConfig{Bootstrap: pub.boot})
		boot := append(append([]string(nil), pub.boot...), kubo.Addrs...)
		kithHost := lab.HomeRouter("homea", netlab.RouterConfig{}).Laptop("a")
		kuboHost := lab.HomeRouter("homeb", netlab.RouterConfig{}).Laptop("b")
		k := startKith(b, "kith-laptop", kithHost, laptopConfig(boot))
		kl := netlab.StartKubo(b, kuboHost, netlab.KuboConfig{Bootstrap: boot, Laptop: true})
		dir := b.TempDir()
		for i := range 100 {
			p := filepath.Join(dir, fmt.Sprintf("f%03d", i))
			if err := os.WriteFile(p, []byte(fmt.Sprintf("pin %d %d", i, time.Now().UnixNano())), 0o644); err != nil {
				b.Fatal(err)
			}
			if _, err := k.run("add", p); err != nil {
				b.Fatal(err)
			}
			if out, err := kl.Command("add", "-q", "--cid-version=1", p).CombinedOutput(); err != nil {
				b.Fatalf("ipfs add: %v: %s", err, out)
			}
		}
		// Let start-up and the first announcements finish.
		time.Sleep(time.Minute)
		krx0, ktx0 := kithHost.Traffic()
		orx0, otx0 := kuboHost.Traffic()
		time.Sleep(time.Duration(minutes) * time.Minute)
		krx1, ktx1 := kithHost.Traffic()
		orx1, otx1 := kuboHost.Traffic()
		secs := float64(minutes * 60)
		b.ReportMetric(float64(krx1-krx0)/secs, "kith-in-B/s")
		b.ReportMetric(float64(ktx1-ktx0)/secs, "kith-out-B/s")
		b.ReportMetric(float64(orx1-orx0)/secs, "kubo-in-B/s")
		b.ReportMetric(float64(otx1-otx0)/secs, "kubo-out-B/s")
		b.ReportMetric(float64(len(k.peers())), "kith-conns")
	}
}
