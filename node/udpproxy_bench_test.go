package node

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// udpDelayProxy is delayProxy for QUIC: it relays the datagrams of one
// client to target and back, each leaving delay after it arrived, and
// optionally caps the rate of each direction like a router's shaper:
// packets beyond the cap wait in a queue of at most queueBytes, and are
// dropped when it is full (as a real bottleneck does, which is what QUIC's
// congestion control reads).
type udpDelayProxy struct {
	conn       *net.UDPConn // the client side
	up         *net.UDPConn // to target
	delay      atomic.Int64 // one-way, nanoseconds
	rate       float64      // bytes per second per direction; 0: no cap
	queueBytes int64
	client     atomic.Pointer[net.UDPAddr]
	wg         sync.WaitGroup
}

func newUDPDelayProxy(tb testing.TB, target string, delay time.Duration, bytesPerSec float64) *udpDelayProxy {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		tb.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range []*net.UDPConn{conn, up} {
		_ = c.SetReadBuffer(8 << 20)
		_ = c.SetWriteBuffer(8 << 20)
	}
	p := &udpDelayProxy{conn: conn, up: up, rate: bytesPerSec}
	// A bottleneck buffer of ~100 ms at the cap.
	p.queueBytes = int64(bytesPerSec / 10)
	p.setDelay(delay)
	p.wg.Add(2)
	go p.pipe(conn, func(b []byte) { _, _ = up.Write(b) }, true)
	go p.pipe(up, func(b []byte) {
		if c := p.client.Load(); c != nil {
			_, _ = conn.WriteToUDP(b, c)
		}
	}, false)
	tb.Cleanup(func() { conn.Close(); up.Close(); p.wg.Wait() })
	return p
}

func (p *udpDelayProxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *udpDelayProxy) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

type datagram struct {
	due  time.Time
	data []byte
}

// pipe reads datagrams from src and hands each to send after the delay
// (and the cap); fromClient notes the client's address.
func (p *udpDelayProxy) pipe(src *net.UDPConn, send func([]byte), fromClient bool) {
	defer p.wg.Done()
	q := make(chan datagram, 1<<16)
	var queued atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var next time.Time // the cap: when the next byte may leave
		for d := range q {
			// A sleep per datagram would cap the proxy near 20,000
			// datagrams a second: datagrams due within a millisecond go
			// at once.
			if wait := time.Until(d.due); wait > time.Millisecond {
				time.Sleep(wait)
			}
			if p.rate > 0 {
				now := time.Now()
				if next.Before(now) {
					next = now
				}
				if wait := time.Until(next); wait > time.Millisecond {
					time.Sleep(wait)
				}
				next = next.Add(time.Duration(float64(len(d.data)) / p.rate * float64(time.Second)))
			}
			queued.Add(-int64(len(d.data)))
			send(d.data)
		}
	}()
	for {
		buf := make([]byte, 2048)
		n, from, err := src.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if fromClient {
			p.client.Store(from)
		}
		if p.rate > 0 && queued.Load()+int64(n) > p.queueBytes+int64(float64(p.delay.Load())/1e9*p.rate) {
			continue // the bottleneck's buffer is full: drop
		}
		queued.Add(int64(n))
		select {
		case q <- datagram{time.Now().Add(time.Duration(p.delay.Load())), buf[:n]}:
		default:
			queued.Add(-int64(n))
		}
	}
	close(q)
	<-done
}
