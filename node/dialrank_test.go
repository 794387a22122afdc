package node

import (
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

func TestRankTCPFirst(t *testing.T) {
	const id = "/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT"
	relay := "/ip4/11.0.0.9/tcp/4001" + id + "/p2p-circuit"
	for _, tc := range []struct {
		name  string
		addrs []string
		// want: address -> delay
		want map[string]time.Duration
	}{
		{"public TCP and QUIC: TCP first",
			[]string{"/ip4/11.0.0.2/udp/4001/quic-v1", "/ip4/11.0.0.2/tcp/4001"},
			map[string]time.Duration{"/ip4/11.0.0.2/tcp/4001": 0, "/ip4/11.0.0.2/udp/4001/quic-v1": quicAfterTCP}},
		{"LAN TCP and QUIC: TCP first",
			[]string{"/ip4/192.168.1.5/udp/4001/quic-v1", "/ip4/192.168.1.5/tcp/4001"},
			map[string]time.Duration{"/ip4/192.168.1.5/tcp/4001": 0, "/ip4/192.168.1.5/udp/4001/quic-v1": quicAfterTCP}},
		{"QUIC only: at once",
			[]string{"/ip4/11.0.0.2/udp/4001/quic-v1"},
			map[string]time.Duration{"/ip4/11.0.0.2/udp/4001/quic-v1": 0}},
		{"a relay is not TCP: it stays behind the direct addresses",
			[]string{"/ip4/11.0.0.2/tcp/4001", relay},
			map[string]time.Duration{"/ip4/11.0.0.2/tcp/4001": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var addrs []ma.Multiaddr
			for _, s := range tc.addrs {
				addrs = append(addrs, ma.StringCast(s))
			}
			got := rankTCPFirst(addrs)
			if len(got) != len(addrs) {
				t.Fatalf("ranked %d of %d addresses: %v", len(got), len(addrs), got)
			}
			var tcpMax time.Duration
			for _, d := range got {
				if isDirectTCP(d.Addr) {
					tcpMax = max(tcpMax, d.Delay)
				}
			}
			for _, d := range got {
				if want, ok := tc.want[d.Addr.String()]; ok && d.Delay != want {
					t.Errorf("%s: delay %v, want %v", d.Addr, d.Delay, want)
				}
				if !isDirectTCP(d.Addr) && tcpMax > 0 && d.Delay <= tcpMax {
					t.Errorf("%s dialled at %v, not after TCP (%v)", d.Addr, d.Delay, tcpMax)
				}
				if d.Addr.String() == relay && d.Delay <= quicAfterTCP {
					t.Errorf("relay dialled at %v, before or with the direct addresses", d.Delay)
				}
			}
		})
	}
}
