//go:build linux

package internet_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// The raw baseline: one TCP stream through the same links, run by this
// test binary itself in the lab's namespaces (KITH_INET_RAW selects the
// role), so a benchmark can say how close kith comes to what the link
// carries.

func init() {
	switch os.Getenv("KITH_INET_RAW") {
	case "sink":
		rawSink()
	case "send":
		rawSend()
	}
}

// rawSink accepts one connection on :5201, reads it to the end and prints
// the bytes and seconds from the first byte to the last.
func rawSink() {
	ln, err := net.Listen("tcp", ":5201")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 1<<20)
	var n int64
	var start time.Time
	for {
		m, err := c.Read(buf)
		if m > 0 && n == 0 {
			start = time.Now()
		}
		n += int64(m)
		if err != nil {
			break
		}
	}
	fmt.Println("result", n, time.Since(start).Seconds())
	os.Exit(0)
}

// rawSend sends KITH_INET_BYTES bytes to KITH_INET_TO:5201.
func rawSend() {
	n, _ := strconv.ParseInt(os.Getenv("KITH_INET_BYTES"), 10, 64)
	c, err := net.Dial("tcp", net.JoinHostPort(os.Getenv("KITH_INET_TO"), "5201"))
	if err != nil {
		os.Exit(1)
	}
	_, _ = io.CopyN(c, zeroReader{}, n)
	c.Close()
	os.Exit(0)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// rawUpload sends n bytes over one TCP connection from host from to the
// public host to and returns the rate the receiver saw, in bytes/s.
func rawUpload(tb testing.TB, from, to *netlab.Host, n int64) float64 {
	tb.Helper()
	return rawUploadTo(tb, from, to, to.Addr(), n)
}

// rawUploadTo is rawUpload to one address of to (its IPv6 one, say).
func rawUploadTo(tb testing.TB, from, to *netlab.Host, addr netip.Addr, n int64) float64 {
	tb.Helper()
	sink := to.Command(os.Args[0])
	sink.Env = append(os.Environ(), "KITH_INET_RAW=sink")
	p := netlab.Start(tb, sink)
	waitFor(tb, 10*time.Second, "the raw sink to listen", func() bool { return strings.Contains(p.Output(), "listening") })
	send := from.Command(os.Args[0])
	send.Env = append(os.Environ(), "KITH_INET_RAW=send", "KITH_INET_TO="+addr.String(), fmt.Sprint("KITH_INET_BYTES=", n))
	if out, err := send.CombinedOutput(); err != nil {
		tb.Fatalf("raw send: %v: %s", err, out)
	}
	return sinkRate(tb, p, n, "raw sink")
}

// sinkRate waits for a raw sink (TCP or libp2p) to end and returns the
// rate it printed ("result BYTES SECONDS"), in bytes/s; what names it in
// a failure.
func sinkRate(tb testing.TB, p *netlab.Process, n int64, what string) float64 {
	tb.Helper()
	<-p.Done()
	var got int64
	var secs float64
	for _, line := range strings.Split(p.Output(), "\n") {
		if _, err := fmt.Sscanf(line, "result %d %g", &got, &secs); err == nil {
			break
		}
	}
	if got != n || secs <= 0 {
		tb.Fatalf("%s got %d of %d bytes in %gs: %s", what, got, n, secs, p.Output())
	}
	return float64(got) / secs
}
