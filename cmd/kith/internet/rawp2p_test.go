//go:build linux

package internet_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// The raw libp2p baseline: one libp2p stream between two hosts built with
// the transports, security and muxer kith uses, run by this test binary
// itself in the lab's namespaces (KITH_INET_RAW=p2psink / p2psend), so a
// transfer benchmark can say how close kith comes to what libp2p itself
// carries over the same link and transport.

const rawP2PProto = "/kith/bench-raw/1.0.0"

func init() {
	switch os.Getenv("KITH_INET_RAW") {
	case "p2psink":
		rawP2PSink()
	case "p2psend":
		rawP2PSend()
	}
}

// rawP2PHost is a libp2p host like kith's (TCP+TLS/Noise+yamux and QUIC),
// listening on listen (none if empty).
func rawP2PHost(listen string) (host.Host, error) {
	opts := []libp2p.Option{
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.NoListenAddrs,
	}
	if listen != "" {
		opts = append(opts, libp2p.ListenAddrStrings(listen))
	}
	return libp2p.New(opts...)
}

// rawP2PSink listens on KITH_INET_LISTEN, prints "listening PEERID", reads
// one stream to the end and prints the bytes, the seconds from its first
// byte to its last and the CPU seconds it used meanwhile.
func rawP2PSink() {
	h, err := rawP2PHost(os.Getenv("KITH_INET_LISTEN"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	done := make(chan string, 1)
	h.SetStreamHandler(rawP2PProto, func(s network.Stream) {
		buf := make([]byte, 1<<20)
		var n int64
		var start time.Time
		var cpu0 float64
		stopProfile := func() {}
		for {
			m, err := s.Read(buf)
			if m > 0 && n == 0 {
				start, cpu0 = time.Now(), processCPU()
				stopProfile = rawProfile("raw-sink")
			}
			n += int64(m)
			if err != nil {
				break
			}
		}
		stopProfile()
		_, _ = s.Write([]byte{1}) // the sender waits for this before it exits
		_ = s.Close()
		done <- fmt.Sprint("result ", n, " ", time.Since(start).Seconds(), " ", processCPU()-cpu0)
	})
	fmt.Println("listening", h.ID())
	fmt.Println(<-done)
	time.Sleep(200 * time.Millisecond) // let the ack leave before the process ends
	os.Exit(0)
}

// rawP2PSend connects to KITH_INET_TO (a multiaddr with /p2p/), writes
// KITH_INET_BYTES bytes on one stream and prints "sent CPU", the CPU
// seconds it used from the stream's opening to the sink's answer.
func rawP2PSend() {
	n, _ := strconv.ParseInt(os.Getenv("KITH_INET_BYTES"), 10, 64)
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	h, err := rawP2PHost("")
	if err != nil {
		fail(err)
	}
	to, err := ma.NewMultiaddr(os.Getenv("KITH_INET_TO"))
	if err != nil {
		fail(err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(to)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Connect(ctx, *ai); err != nil {
		fail(err)
	}
	s, err := h.NewStream(ctx, ai.ID, rawP2PProto)
	if err != nil {
		fail(err)
	}
	cpu0 := processCPU()
	stopProfile := rawProfile("raw-send")
	if _, err := io.CopyBuffer(s, io.LimitReader(zeroReader{}, n), make([]byte, 1<<20)); err != nil {
		fail(err)
	}
	if err := s.CloseWrite(); err != nil {
		fail(err)
	}
	_, _ = s.Read(make([]byte, 1))
	stopProfile()
	fmt.Println("sent", processCPU()-cpu0)
	os.Exit(0)
}

// rawProfile starts a CPU profile of this process (an end of the raw
// stream) when KITH_BENCH_CPUPROFILE names a directory, as the daemons'
// are (see kith.cpuProfile), written there as NAME-UNIX.pprof once the
// returned function is called; so kith and the raw stream can be compared
// function by function.
func rawProfile(name string) (stop func()) {
	dir := os.Getenv("KITH_BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, time.Now().UnixNano())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// processCPU is the CPU time this process has used, user and system, in
// seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rawResult is a raw stream's rate and what it cost each end.
type rawResult struct {
	rate             float64 // bytes/s, as the receiver saw it
	sendCPU, recvCPU float64 // CPU seconds per GiB, sender and receiver
}

// rawP2P sends n bytes on one libp2p stream from host from to host to,
// over the transport of listen (a multiaddr on to, without /p2p/), and
// returns the rate the receiver saw and the CPU time each end spent on it.
func rawP2P(tb testing.TB, from, to *netlab.Host, listen string, n int64) rawResult {
	tb.Helper()
	sink := to.Command(os.Args[0])
	sink.Env = append(os.Environ(), "KITH_INET_RAW=p2psink", "KITH_INET_LISTEN="+listen)
	p := netlab.Start(tb, sink)
	var id string
	waitFor(tb, 20*time.Second, "the raw libp2p sink to listen", func() bool {
		for _, line := range strings.Split(p.Output(), "\n") {
			if rest, ok := strings.CutPrefix(line, "listening "); ok {
				id = strings.TrimSpace(rest)
				return true
			}
		}
		return false
	})
	send := from.Command(os.Args[0])
	send.Env = append(os.Environ(), "KITH_INET_RAW=p2psend", "KITH_INET_TO="+listen+"/p2p/"+id, fmt.Sprint("KITH_INET_BYTES=", n))
	out, err := send.CombinedOutput()
	if err != nil {
		tb.Fatalf("raw libp2p send: %v: %s", err, out)
	}
	res := rawResult{rate: sinkRate(tb, p, n, "raw libp2p sink")}
	gib := float64(n) / (1 << 30)
	for _, line := range strings.Split(string(out), "\n") {
		var cpu float64
		if _, err := fmt.Sscanf(line, "sent %g", &cpu); err == nil {
			res.sendCPU = cpu / gib
		}
	}
	for _, line := range strings.Split(p.Output(), "\n") {
		var got int64
		var secs, cpu float64
		if _, err := fmt.Sscanf(line, "result %d %g %g", &got, &secs, &cpu); err == nil {
			res.recvCPU = cpu / gib
		}
	}
	if res.sendCPU <= 0 || res.recvCPU <= 0 {
		tb.Fatalf("raw libp2p stream: no CPU time reported: sender %q, sink %q", out, p.Output())
	}
	return res
}
