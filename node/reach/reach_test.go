package reach

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

func TestDecide(t *testing.T) {
	pub := ma.StringCast("/ip4/11.0.0.5/tcp/4101")
	other := ma.StringCast("/ip4/11.0.0.5/udp/4101/quic-v1")
	v6 := ma.StringCast("/ip6/3fff:0:0:1::2/udp/4101/quic-v1")
	v6tcp := ma.StringCast("/ip6/3fff:0:0:1::2/tcp/4101")
	m := func(as ...ma.Multiaddr) []ma.Multiaddr { return as }
	tests := []struct {
		name                            string
		reachable, unreachable, unknown []ma.Multiaddr
		want                            network.Reachability
	}{
		{"nothing probed yet", nil, nil, m(pub), network.ReachabilityUnknown},
		{"one address dialled back", m(pub), nil, nil, network.ReachabilityPublic},
		{"one of two dialled back", m(pub), m(other), nil, network.ReachabilityPublic},
		{"every probe failed", nil, m(pub, other), nil, network.ReachabilityPrivate},
		{"IPv4 and IPv6 dialled back", m(v6, pub), nil, nil, network.ReachabilityPublic},
		{"IPv6 open, IPv4 behind a NAT", m(v6), m(pub), nil, network.ReachabilityPrivate},
		{"IPv6 open, IPv4 not tested yet", m(v6), nil, m(pub), network.ReachabilityUnknown},
		{"IPv6 only, open", m(v6), m(v6tcp), nil, network.ReachabilityPublic},
		{"IPv6 behind a firewall, IPv4 behind a NAT", nil, m(v6, pub), nil, network.ReachabilityPrivate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.reachable, tt.unreachable, tt.unknown); got != tt.want {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInferNAT(t *testing.T) {
	now := time.Now()
	ap := netip.MustParseAddrPort
	ip := netip.MustParseAddr
	local := ap("192.168.1.10:4101")
	obs := func(observer, observed string) Observation {
		return Observation{Observer: ip(observer), Local: local, Transport: "udp", Observed: ap(observed), At: now}
	}
	own6 := func(observer string) Observation {
		return Observation{Observer: ip(observer), Local: ap("[3fff:0:0:1::2]:4101"), Transport: "udp", Observed: ap("[3fff:0:0:1::2]:4101"), At: now}
	}
	tests := []struct {
		name string
		obs  []Observation
		want NATType
	}{
		{"no reports", nil, NATUnknown},
		{"one observer is not enough", []Observation{obs("11.0.0.1", "11.9.0.1:4101")}, NATUnknown},
		{"two observers agree: cone", []Observation{obs("11.0.0.1", "11.9.0.1:4101"), obs("11.0.0.2", "11.9.0.1:4101")}, NATCone},
		{"ports differ per observer: symmetric", []Observation{
			obs("11.0.0.1", "11.9.0.1:40112"), obs("11.0.0.2", "11.9.0.1:51873"), obs("11.0.0.3", "11.9.0.1:40112")}, NATSymmetric},
		{"a LAN observer does not count", []Observation{obs("192.168.1.1", "192.168.1.10:4101"), obs("11.0.0.2", "11.9.0.1:4101")}, NATUnknown},
		{"observed address is our own: no NAT", []Observation{
			{Observer: ip("11.0.0.1"), Local: ap("11.0.0.7:4101"), Transport: "tcp", Observed: ap("11.0.0.7:4101"), At: now}}, NATNone},
		{"ports kept across transports: cone", []Observation{obs("11.0.0.1", "11.9.0.1:4101"),
			{Observer: ip("11.0.0.2"), Local: local, Transport: "tcp", Observed: ap("11.9.0.1:4101"), At: now}}, NATCone},
		{"a new port per observer across transports: symmetric", []Observation{obs("11.0.0.1", "11.9.0.1:40112"),
			{Observer: ip("11.0.0.2"), Local: local, Transport: "tcp", Observed: ap("11.9.0.1:51873"), At: now}}, NATSymmetric},
		{"one changed, one kept: not known", []Observation{obs("11.0.0.1", "11.9.0.1:40112"),
			{Observer: ip("11.0.0.2"), Local: local, Transport: "tcp", Observed: ap("11.9.0.1:4101"), At: now}}, NATUnknown},
		{"stale reports are ignored", []Observation{
			{Observer: ip("11.0.0.1"), Local: local, Transport: "udp", Observed: ap("11.9.0.1:1"), At: now.Add(-time.Hour)},
			obs("11.0.0.2", "11.9.0.1:4101"), obs("11.0.0.3", "11.9.0.1:4101")}, NATCone},
		{"dual stack: IPv4 decides (symmetric), IPv6 untranslated", []Observation{
			obs("11.0.0.1", "11.9.0.1:40112"), obs("11.0.0.2", "11.9.0.1:51873"), own6("3fff::2"), own6("3fff::3")}, NATSymmetric},
		{"dual stack: one IPv4 observer is not enough, whatever IPv6 says", []Observation{
			obs("11.0.0.1", "11.9.0.1:4101"), own6("3fff::2"), own6("3fff::3")}, NATUnknown},
		{"IPv6 only, untranslated: no NAT", []Observation{own6("3fff::2"), own6("3fff::3")}, NATNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InferNAT(tt.obs, now.Add(-observationTTL)); got != tt.want {
				t.Errorf("InferNAT = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPublicIPv4(t *testing.T) {
	now := time.Now()
	ap := netip.MustParseAddrPort
	ip := netip.MustParseAddr
	own := []netip.Addr{ip("127.0.0.1"), ip("192.168.1.10"), ip("::1")}
	o := func(observer, observed string, at time.Time) Observation {
		return Observation{Observer: ip(observer), Local: ap("192.168.1.10:4101"), Transport: "tcp", Observed: ap(observed), At: at}
	}
	tests := []struct {
		name string
		own  []netip.Addr
		obs  []Observation
		want string
	}{
		{"no reports", own, nil, ""},
		{"one observer is not enough", own, []Observation{o("11.0.0.1", "11.9.0.1:4101", now)}, ""},
		{"two observers, other ports (symmetric NAT)", own, []Observation{o("11.0.0.1", "11.9.0.1:40112", now), o("11.0.0.2", "11.9.0.1:51873", now)}, "11.9.0.1"},
		{"one observer twice is one", own, []Observation{o("11.0.0.1", "11.9.0.1:40112", now), o("11.0.0.1", "11.9.0.1:51873", now)}, ""},
		{"most observers win", own, []Observation{
			o("11.0.0.1", "11.9.0.1:1", now), o("11.0.0.2", "11.9.0.1:2", now),
			o("11.0.0.3", "11.9.0.2:3", now), o("11.0.0.4", "11.9.0.2:4", now), o("11.0.0.5", "11.9.0.2:5", now)}, "11.9.0.2"},
		{"a tie: the lowest", own, []Observation{
			o("11.0.0.1", "11.9.0.2:1", now), o("11.0.0.2", "11.9.0.2:2", now),
			o("11.0.0.3", "11.9.0.1:3", now), o("11.0.0.4", "11.9.0.1:4", now)}, "11.9.0.1"},
		{"the interface's own address: no NAT", append(own, ip("11.9.0.1")), []Observation{o("11.0.0.1", "11.9.0.1:4101", now), o("11.0.0.2", "11.9.0.1:4101", now)}, ""},
		{"LAN observers do not count", own, []Observation{o("192.168.1.1", "11.9.0.1:1", now), o("192.168.1.2", "11.9.0.1:2", now)}, ""},
		{"stale reports do not count", own, []Observation{o("11.0.0.1", "11.9.0.1:1", now.Add(-time.Hour)), o("11.0.0.2", "11.9.0.1:2", now)}, ""},
		{"IPv6 is not translated", own, []Observation{
			{Observer: ip("3fff::2"), Transport: "udp", Observed: ap("[3fff:0:0:1::2]:4101"), At: now},
			{Observer: ip("3fff::3"), Transport: "udp", Observed: ap("[3fff:0:0:1::2]:4101"), At: now}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PublicIPv4(tt.obs, now.Add(-observationTTL), tt.own)
			if (tt.want == "" && got.IsValid()) || (tt.want != "" && got != ip(tt.want)) {
				t.Errorf("PublicIPv4 = %v, want %q", got, tt.want)
			}
		})
	}
}

func TestPublicIPv6(t *testing.T) {
	now := time.Now()
	ap := netip.MustParseAddrPort
	ip := netip.MustParseAddr
	own := []netip.Addr{ip("127.0.0.1"), ip("192.168.1.10"), ip("::1"), ip("fd00::2"), ip("3fff:0:0:1::2"), ip("3fff:0:0:1::7")}
	v4only := []netip.Addr{ip("127.0.0.1"), ip("192.168.1.10"), ip("::1"), ip("fd00::2")}
	o := func(observer, local, observed string, at time.Time) Observation {
		return Observation{Observer: ip(observer), Local: ap(local), Transport: "udp", Observed: ap(observed), At: at}
	}
	tests := []struct {
		name string
		own  []netip.Addr
		obs  []Observation
		want string
	}{
		{"no public IPv6 address", v4only, nil, ""},
		{"no reports: the interface's", own, nil, "3fff:0:0:1::2"},
		{"IPv4 only", v4only, []Observation{o("11.0.0.1", "192.168.1.10:4101", "11.9.0.1:4101", now)}, ""},
		{"seen as itself", own, []Observation{o("3fff::2", "[3fff:0:0:1::2]:4101", "[3fff:0:0:1::2]:4101", now)}, "3fff:0:0:1::2"},
		{"seen as itself by a socket on every address", own, []Observation{o("3fff::2", "[::]:4101", "[3fff:0:0:1::2]:4101", now)}, "3fff:0:0:1::2"},
		{"translated (NAT66): only a private address here", v4only, []Observation{o("3fff::2", "[fd00::2]:4101", "[3fff:0:0:1::9]:4101", now)}, ""},
		{"a LAN peer's report does not count", v4only, []Observation{o("fd00::1", "[fd00::2]:4101", "[fd00::2]:4101", now)}, ""},
		{"the latest address wins", own, []Observation{
			o("3fff::2", "[3fff:0:0:1::2]:4101", "[3fff:0:0:1::2]:4101", now.Add(-time.Minute)),
			o("3fff::3", "[3fff:0:0:1::7]:4101", "[3fff:0:0:1::7]:4101", now)}, "3fff:0:0:1::7"},
		{"a stale report does not choose", own, []Observation{o("3fff::2", "[3fff:0:0:1::7]:4101", "[3fff:0:0:1::7]:4101", now.Add(-time.Hour))}, "3fff:0:0:1::2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PublicIPv6(tt.obs, now.Add(-observationTTL), tt.own)
			if (tt.want == "" && got.IsValid()) || (tt.want != "" && got != ip(tt.want)) {
				t.Errorf("PublicIPv6 = %v, want %q", got, tt.want)
			}
		})
	}
}

func TestThinWaist(t *testing.T) {
	tests := []struct {
		in        string
		want      string
		transport string
		ok        bool
	}{
		{"/ip4/11.0.0.5/tcp/4101", "11.0.0.5:4101", "tcp", true},
		{"/ip6/2001:db8::1/udp/4101/quic-v1", "[2001:db8::1]:4101", "udp", true},
		{"/ip4/11.0.0.5/tcp/4101/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT/p2p-circuit", "11.0.0.5:4101", "tcp", true},
		{"/dns4/example.com/tcp/4101", "", "", false},
	}
	for _, tt := range tests {
		a, err := ma.NewMultiaddr(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, tr, ok := thinWaist(a)
		if ok != tt.ok || (ok && (got.String() != tt.want || tr != tt.transport)) {
			t.Errorf("thinWaist(%s) = %v %q %v, want %s %q %v", tt.in, got, tr, ok, tt.want, tt.transport, tt.ok)
		}
	}
}

func TestPunchFilter(t *testing.T) {
	listen := []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/tcp/4101"), ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1")}
	f := PunchFilter{Listen: func() []ma.Multiaddr { return listen }}
	strs := func(as []ma.Multiaddr) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.String())
		}
		return out
	}
	tests := []struct {
		name  string
		local bool
		in    []string
		want  []string
	}{
		{"our TCP address names our QUIC one", true, []string{"/ip4/11.0.0.4/tcp/4101"},
			[]string{"/ip4/11.0.0.4/tcp/4101", "/ip4/11.0.0.4/udp/4101/quic-v1"}},
		{"and the other way", true, []string{"/ip4/11.0.0.4/udp/4101/quic-v1"},
			[]string{"/ip4/11.0.0.4/udp/4101/quic-v1", "/ip4/11.0.0.4/tcp/4101"}},
		{"not for a port we do not listen on", true, []string{"/ip4/11.0.0.4/tcp/50123"}, []string{"/ip4/11.0.0.4/tcp/50123"}},
		{"private addresses are left alone", true, []string{"/ip4/192.168.1.2/tcp/4101"}, []string{"/ip4/192.168.1.2/tcp/4101"}},
		{"nothing twice", true, []string{"/ip4/11.0.0.4/tcp/4101", "/ip4/11.0.0.4/udp/4101/quic-v1"},
			[]string{"/ip4/11.0.0.4/tcp/4101", "/ip4/11.0.0.4/udp/4101/quic-v1"}},
		{"a remote's TCP address names its QUIC one on any port", false, []string{"/ip4/11.0.0.5/tcp/4001"},
			[]string{"/ip4/11.0.0.5/tcp/4001", "/ip4/11.0.0.5/udp/4001/quic-v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []ma.Multiaddr
			for _, s := range tt.in {
				in = append(in, ma.StringCast(s))
			}
			var got []ma.Multiaddr
			if tt.local {
				got = f.FilterLocal("", in)
			} else {
				got = f.FilterRemote("", in)
			}
			if g := strs(got); strings.Join(g, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}
