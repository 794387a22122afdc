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
		{"public TCP and QUIC: libp2p's order, QUIC first",
			[]string{"/ip4/11.0.0.2/udp/4001/quic-v1", "/ip4/11.0.0.2/tcp/4001"},
			map[string]time.Duration{"/ip4/11.0.0.2/udp/4001/quic-v1": 0}},
		{"LAN TCP and QUIC: TCP first",
			[]string{"/ip4/192.168.1.5/udp/4001/quic-v1", "/ip4/192.168.1.5/tcp/4001"},
			map[string]time.Duration{"/ip4/192.168.1.5/tcp/4001": 0, "/ip4/192.168.1.5/udp/4001/quic-v1": quicAfterTCP}},
		{"QUIC only: at once",
			[]string{"/ip4/11.0.0.2/udp/4001/quic-v1"},
			map[string]time.Duration{"/ip4/11.0.0.2/udp/4001/quic-v1": 0}},
		{"LAN and public: LAN TCP first, public QUIC after",
			[]string{"/ip4/192.168.1.5/udp/4001/quic-v1", "/ip4/192.168.1.5/tcp/4001", "/ip4/11.0.0.2/udp/4001/quic-v1", relay},
			map[string]time.Duration{"/ip4/192.168.1.5/tcp/4001": 0}},
		{"a relay is not LAN TCP: it stays behind the direct addresses",
			[]string{"/ip4/192.168.1.5/tcp/4001", relay},
			map[string]time.Duration{"/ip4/192.168.1.5/tcp/4001": 0}},
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
			lanMax, lan := time.Duration(0), false
			for _, d := range got {
				if isLANTCP(d.Addr) {
					lanMax, lan = max(lanMax, d.Delay), true
				}
			}
			for _, d := range got {
				if want, ok := tc.want[d.Addr.String()]; ok && d.Delay != want {
					t.Errorf("%s: delay %v, want %v", d.Addr, d.Delay, want)
				}
				if lan && !isLANTCP(d.Addr) && d.Delay <= lanMax {
					t.Errorf("%s dialled at %v, not after LAN TCP (%v)", d.Addr, d.Delay, lanMax)
				}
				if d.Addr.String() == relay && d.Delay < quicAfterTCP {
					t.Errorf("relay dialled at %v, before or with the direct addresses", d.Delay)
				}
			}
		})
	}
}
