//go:build linux

package internet_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// packets counts the UDP datagrams and TCP segments a laptop's namespace
// received and sent (from its /proc/net/snmp: Udp InDatagrams and
// OutDatagrams, Tcp InSegs and OutSegs). Taken around a transfer it says
// how many packets each MiB cost the receiving end, a transport's main
// per-byte cost there: each is a trip through the kernel and, over QUIC, one
// open (in) or one acknowledgement sealed (out). A datagram sent with UDP
// GSO counts once for its whole batch.
type packets struct {
	in, out float64
	// drops are datagrams the kernel dropped on arrival (Udp
	// RcvbufErrors: the socket's buffer was full; InErrors counts them
	// too, with checksum errors).
	drops float64
}

// countPackets reads h's counters as they are now.
func countPackets(tb testing.TB, h *netlab.Host) packets {
	tb.Helper()
	out, err := h.Command("cat", "/proc/net/snmp").Output()
	if err != nil {
		tb.Fatalf("read /proc/net/snmp in %s: %v", h.Name(), err)
	}
	names := map[string][]string{}
	var p packets
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		proto, rest, ok := strings.Cut(line, ": ")
		if !ok || (proto != "Udp" && proto != "Tcp") {
			continue
		}
		f := strings.Fields(rest)
		if names[proto] == nil {
			names[proto] = f
			continue
		}
		for i, name := range names[proto] {
			if i >= len(f) {
				break
			}
			v, _ := strconv.ParseFloat(f[i], 64)
			switch name {
			case "InDatagrams", "InSegs":
				p.in += v
				seen++
			case "OutDatagrams", "OutSegs":
				p.out += v
				seen++
			case "RcvbufErrors":
				if proto == "Udp" {
					p.drops = v
				}
			}
		}
	}
	if seen != 4 {
		tb.Fatalf("no Udp and Tcp counters in %s's /proc/net/snmp: %s", h.Name(), out)
	}
	return p
}

// perMiB returns the packets counted since p, per MiB of size.
func (p packets) perMiB(now packets, size int64) (in, out float64) {
	mib := float64(size) / (1 << 20)
	return (now.in - p.in) / mib, (now.out - p.out) / mib
}

// dropsPerMiB returns the datagrams dropped since p, per MiB of size.
func (p packets) dropsPerMiB(now packets, size int64) float64 {
	return (now.drops - p.drops) / (float64(size) / (1 << 20))
}
