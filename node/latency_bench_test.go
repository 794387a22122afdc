package node

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/web/api"
)

// delayProxy forwards TCP connections to target, delaying every chunk by a
// fixed one-way latency in each direction and optionally capping the rate:
// an emulated WAN link between two real libp2p hosts on loopback. It keeps
// no window of its own (the queue holds whatever is in flight), so it adds
// delay, not a throughput limit, like the proxy REFERENCE.md's Kubo figures
// were measured through.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // one-way, nanoseconds: setDelay changes it on live connections
	rate   float64      // bytes per second per direction; 0: no cap
	wg     sync.WaitGroup
}

func newDelayProxy(tb testing.TB, target string, delay time.Duration, bytesPerSec float64) *delayProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &delayProxy{ln: ln, target: target, rate: bytesPerSec}
	p.setDelay(delay)
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// setDelay changes the one-way delay of every chunk that arrives from now
// on, on open connections too (a path whose RTT rises or falls).
func (p *delayProxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *delayProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// proxyChunk is the most the proxy reads at once (and the rate limiter's
// burst, which must not be smaller).
const proxyChunk = 256 << 10

type chunk struct {
	due  time.Time
	data []byte
}

// pipe copies src to dst, each chunk leaving delay after it arrived.
func (p *delayProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	q := make(chan chunk, 1<<16)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, proxyChunk)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(time.Duration(p.delay.Load())), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	var lim *rate.Limiter
	if p.rate > 0 {
		lim = rate.NewLimiter(rate.Limit(p.rate), proxyChunk)
	}
	for c := range q {
		time.Sleep(time.Until(c.due))
		if lim != nil {
			if err := lim.WaitN(context.Background(), len(c.data)); err != nil {
				panic(err) // a chunk larger than the burst: a bug in this proxy
			}
		}
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range q {
	}
}

// BenchmarkFetchLatency50ms fetches between two real nodes through a proxy
// adding 25 ms each way (RTT 50 ms), uncapped and with the link capped at
// 12.5 MB/s (100 Mbit/s), in two orders: the connection opened with the
// delay already on ("opened"), and opened at ~0 ms with the delay added
// just before the fetch ("rises": a path whose RTT grows under load, a
// laptop moving to Wi-Fi), which a transport that sizes its windows from
// the RTT it measured at the start does not follow. Each is compared with a
// raw libp2p stream through the same proxy at 50 ms (and the same cap), in
// the same run; capped, with the cap too. Kubo at RTT 50 ms: 6.5 MB/s uncapped,
// 4.5-5 MB/s (36-40%) capped.
func BenchmarkFetchLatency50ms(b *testing.B) {
	for _, tc := range []struct {
		name  string
		quic  bool
		cap   float64
		size  int64
		rises bool
	}{
		{"tcp/opened/uncapped", false, 0, 256 << 20, false},
		{"tcp/opened/cap12.5MB", false, 12.5e6, 256 << 20, false},
		{"tcp/rises/uncapped", false, 0, 512 << 20, true},
		{"tcp/rises/cap12.5MB", false, 12.5e6, 128 << 20, true},
		{"quic/opened/uncapped", true, 0, 256 << 20, false},
		{"quic/opened/cap12.5MB", true, 12.5e6, 128 << 20, false},
		{"quic/rises/uncapped", true, 0, 256 << 20, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			seed := benchNode(b, nil)
			root := addRandomFile(b, tc.size, seed)
			var tcpAddr, udpAddr string
			for _, a := range seed.Host().Addrs() {
				if v, err := a.ValueForProtocol(6 /* tcp */); err == nil {
					tcpAddr = "127.0.0.1:" + v
				}
				if _, err := a.ValueForProtocol(0x01cd /* quic-v1 */); err == nil {
					v, _ := a.ValueForProtocol(273 /* udp */)
					udpAddr = "127.0.0.1:" + v
				}
			}
			// proxy starts a proxy with the given one-way delay and cap and
			// returns its multiaddr and a function that changes its delay.
			proxy := func(delay time.Duration, cap float64) (string, func(time.Duration)) {
				if tc.quic {
					p := newUDPDelayProxy(b, udpAddr, delay, cap)
					return "/ip4/127.0.0.1/udp/" + strconv.Itoa(p.port()) + "/quic-v1", p.setDelay
				}
				p := newDelayProxy(b, tcpAddr, delay, cap)
				return "/ip4/127.0.0.1/tcp/" + strconv.Itoa(p.port()), p.setDelay
			}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// rawVia is the rate of a raw stream on a fresh connection
				// through the proxy (and the cap, if any), opened with the
				// given one-way delay, which then becomes 25 ms.
				rawVia := func(opened time.Duration) float64 {
					addr, setDelay := proxy(opened, tc.cap)
					rn := benchNode(b, nil)
					defer rn.Close()
					if _, err := rn.Connect(context.Background(), addr+"/p2p/"+seed.Host().ID().String()); err != nil {
						b.Fatal(err)
					}
					setDelay(25 * time.Millisecond)
					return rawStreamRate(b, seed, rn, tc.size)
				}
				// The limit: a raw stream on a connection opened at 50 ms,
				// through the same cap if any (what the transport's own
				// congestion control makes of the capped link).
				raw := rawVia(25 * time.Millisecond)
				var rawRises float64
				if tc.rises && tc.quic {
					// And the same raw stream on a connection whose RTT
					// rose as the fetch's does: what quic-go's congestion
					// control makes of it (see BENCHMARKS.md).
					rawRises = rawVia(0)
				}
				delay := 25 * time.Millisecond
				if tc.rises {
					delay = 0
				}
				addr, setDelay := proxy(delay, tc.cap)
				r := benchNode(b, nil)
				via := addr + "/p2p/" + seed.Host().ID().String()
				if _, err := r.Connect(context.Background(), via); err != nil {
					b.Fatal(err)
				}
				if tc.rises {
					setDelay(25 * time.Millisecond)
				}
				b.StartTimer()
				start := time.Now()
				// What the fetch got from settled seconds on: the rate from
				// the first progress report after settle to the end.
				const settle = 3 * time.Second
				var settledAt time.Time
				var settledBytes int64
				progress := func(p api.Progress) {
					if settledAt.IsZero() && time.Since(start) >= settle {
						settledAt, settledBytes = time.Now(), p.Bytes
					}
				}
				if _, err := r.PinAdd(context.Background(), root, api.PinOptions{Name: "bench"}, progress); err != nil {
					b.Fatal(err)
				}
				end := time.Now()
				mbps := float64(tc.size) / end.Sub(start).Seconds() / 1e6
				b.StopTimer()
				b.ReportMetric(mbps, "MB/s")
				if !settledAt.IsZero() && end.Sub(settledAt) > time.Second {
					b.ReportMetric(float64(tc.size-settledBytes)/end.Sub(settledAt).Seconds()/1e6, "after_3s_MB/s")
				}
				b.ReportMetric(raw, "raw_stream_MB/s")
				b.ReportMetric(mbps/raw, "x_raw")
				if rawRises > 0 {
					b.ReportMetric(rawRises, "raw_rises_MB/s")
					b.ReportMetric(mbps/rawRises, "x_raw_rises")
				}
				if tc.cap != 0 {
					b.ReportMetric(100*mbps*1e6/tc.cap, "pct_of_cap")
				}
				for _, c := range r.Host().Network().ConnsToPeer(seed.Host().ID()) {
					if c.RemoteMultiaddr().String() != via[:len(via)-len("/p2p/")-len(seed.Host().ID().String())] {
						b.Fatalf("fetch used a connection around the proxy: %s", c.RemoteMultiaddr())
					}
				}
				r.Close()
				b.StartTimer()
			}
		})
	}
}
