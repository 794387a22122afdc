//go:build linux

package netlab_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary, re-executed in a lab namespace, run one
// of the small network programs below instead of the tests.
const helperEnv = "NETLAB_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		if err := runHelper(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper runs one helper program. They speak in lines on stdout, the
// first word saying what happened; see each for its lines.
func runHelper(args []string) error {
	if len(args) == 0 {
		return errors.New("no helper program named")
	}
	programs := map[string]func([]string) error{
		"udp":         udpSocket,
		"tcp-observe": tcpObserve,
		"tcp-dial":    tcpDial,
		"tcp-sink":    tcpSink,
		"tcp-source":  tcpSource,
		"tcp-send":    tcpSend,
		"tcp-recv":    tcpRecv,
		"lookup":      lookup,
		"txt":         lookupTXT,
		"upnp-map":    upnpMap,
	}
	run, ok := programs[args[0]]
	if !ok {
		return fmt.Errorf("no helper program %q", args[0])
	}
	return run(args[1:])
}

// udpSocket: udp [-echo] [-6] PORT binds a UDP socket (IPv4, or IPv6 with
// -6). It prints "ready ADDR",
// then "got FROM PAYLOAD" for each datagram; with -echo it also answers each
// with "seen:FROM" (a STUN-like observer). Lines "send ADDR PAYLOAD" on
// stdin send from the socket; it exits when stdin closes.
func udpSocket(args []string) error {
	fs := flag.NewFlagSet("udp", flag.ContinueOnError)
	echo := fs.Bool("echo", false, "answer each datagram with the address it came from")
	v6 := fs.Bool("6", false, "IPv6 rather than IPv4")
	if err := fs.Parse(args); err != nil {
		return err
	}
	port, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return err
	}
	network := "udp4"
	if *v6 {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, &net.UDPAddr{Port: port})
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", conn.LocalAddr())
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "send" {
				continue
			}
			to, err := netip.ParseAddrPort(f[1])
			if err == nil {
				_, err = conn.WriteToUDPAddrPort([]byte(f[2]), to)
			}
			if err != nil {
				fmt.Printf("error %v\n", err)
			}
		}
		os.Exit(0)
	}()
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if *echo {
			conn.WriteToUDPAddrPort([]byte("seen:"+from.String()), from)
		}
		fmt.Printf("got %s %s\n", from, buf[:n])
	}
}

// tcpObserve: tcp-observe PORT accepts TCP connections and writes each the
// address it came from, then closes it. It prints "ready ADDR", then
// "accepted FROM" for each.
func tcpObserve(args []string) error {
	ln, err := net.Listen("tcp4", ":"+argOr(args, 0, "0"))
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		fmt.Fprintf(c, "%s\n", c.RemoteAddr())
		c.Close()
		fmt.Printf("accepted %s\n", c.RemoteAddr())
	}
}

// tcpDial: tcp-dial [-timeout D] LOCALPORT ADDR... dials each ADDR in turn
// from the same local port (SO_REUSEPORT, as libp2p does) and prints
// "seen ADDR MAPPED" with what an observer there wrote back, or
// "error ADDR ...".
func tcpDial(args []string) error {
	fs := flag.NewFlagSet("tcp-dial", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 10*time.Second, "dial and read timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	local, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: *timeout, LocalAddr: &net.TCPAddr{Port: local}, Control: reusePort}
	for _, addr := range fs.Args()[1:] {
		c, err := d.Dial("tcp4", addr)
		if err != nil {
			fmt.Printf("error %s %v\n", addr, err)
			continue
		}
		c.SetDeadline(time.Now().Add(*timeout))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil {
			fmt.Printf("error %s %v\n", addr, err)
			continue
		}
		fmt.Printf("seen %s %s\n", addr, strings.TrimSpace(line))
	}
	return nil
}

func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// tcpSink: tcp-sink PORT prints "ready ADDR", accepts one connection, reads
// it to the end and prints "received BYTES NANOSECONDS".
func tcpSink(args []string) error {
	ln, err := net.Listen("tcp4", ":"+argOr(args, 0, "0"))
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	return receive(c)
}

// tcpSource: tcp-source PORT BYTES prints "ready ADDR", accepts one
// connection and writes BYTES bytes to it.
func tcpSource(args []string) error {
	ln, err := net.Listen("tcp4", ":"+argOr(args, 0, "0"))
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(argOr(args, 1, ""), 10, 64)
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.CopyN(c, zeros{}, n)
	return err
}

// tcpSend: tcp-send ADDR BYTES connects and writes BYTES bytes; it prints
// "sent BYTES".
func tcpSend(args []string) error {
	n, err := strconv.ParseInt(argOr(args, 1, ""), 10, 64)
	if err != nil {
		return err
	}
	c, err := net.Dial("tcp4", argOr(args, 0, ""))
	if err != nil {
		return err
	}
	if _, err := io.CopyN(c, zeros{}, n); err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	fmt.Printf("sent %d\n", n)
	return nil
}

// tcpRecv: tcp-recv ADDR connects, reads to the end and prints
// "received BYTES NANOSECONDS".
func tcpRecv(args []string) error {
	c, err := net.Dial("tcp4", argOr(args, 0, ""))
	if err != nil {
		return err
	}
	defer c.Close()
	return receive(c)
}

// receive reads r to the end and prints how much came in how long, timed
// from the first byte so that connection setup does not count.
func receive(r io.Reader) error {
	buf := make([]byte, 64<<10)
	var total, first int64
	var start time.Time
	for {
		n, err := r.Read(buf)
		if n > 0 && start.IsZero() {
			start, first = time.Now(), int64(n)
		}
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if start.IsZero() {
		return errors.New("received nothing")
	}
	fmt.Printf("received %d %d\n", total-first, time.Since(start).Nanoseconds())
	return nil
}

// lookup: lookup NAME resolves NAME with Go's resolver and prints
// "found ADDRS" or "error ...".
func lookup(args []string) error {
	addrs, err := net.LookupHost(argOr(args, 0, ""))
	if err != nil {
		fmt.Printf("error %v\n", err)
		return nil
	}
	fmt.Printf("found %s\n", strings.Join(addrs, " "))
	return nil
}

// lookupTXT: txt NAME asks the namespace's resolver for NAME's TXT
// records; it prints "found TXT..." (one line, quoted) or "error ERR".
func lookupTXT(args []string) error {
	txt, err := net.LookupTXT(argOr(args, 0, ""))
	if err != nil {
		fmt.Printf("error %v\n", err)
		return nil
	}
	fmt.Printf("found %q\n", txt)
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func argOr(args []string, i int, def string) string {
	if i < len(args) {
		return args[i]
	}
	return def
}
