package node

import (
	"net/netip"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// TestNATPMPMapping: the NAT-PMP manager maps the TCP and UDP ports of
// IPv4 (and unspecified) listen addresses, and answers for each with the
// gateway's public address and the port it gave, keeping what follows the
// port.
func TestNATPMPMapping(t *testing.T) {
	listen := []ma.Multiaddr{
		ma.StringCast("/ip4/0.0.0.0/tcp/4101"),
		ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1"),
		ma.StringCast("/ip6/::/tcp/4101"), // the same TCP port
		ma.StringCast("/ip4/127.0.0.1/tcp/5001"),
		ma.StringCast("/ip6/3fff::2/udp/4102/quic-v1"),
	}
	got := natpmpPorts(listen)
	want := []natpmpPort{{"tcp", 4101}, {"udp", 4101}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ports to map: %v, want %v", got, want)
	}

	m := &natpmpManager{ext: netip.MustParseAddr("11.0.0.4"), ports: map[natpmpPort]int{{"tcp", 4101}: 18262, {"udp", 4101}: 0}}
	for _, tc := range []struct{ in, want string }{
		{"/ip4/0.0.0.0/tcp/4101", "/ip4/11.0.0.4/tcp/18262"},
		{"/ip6/::/tcp/4101", "/ip4/11.0.0.4/tcp/18262"},
		{"/ip4/0.0.0.0/udp/4101/quic-v1", ""}, // refused by the gateway
		{"/ip4/0.0.0.0/tcp/4999", ""},
		{"/ip4/127.0.0.1/tcp/4101", ""},
	} {
		var s string
		if a := m.GetMapping(ma.StringCast(tc.in)); a != nil {
			s = a.String()
		}
		if s != tc.want {
			t.Errorf("GetMapping(%s) = %q, want %q", tc.in, s, tc.want)
		}
	}
	m.ports[natpmpPort{"udp", 4101}] = 4101
	if a := m.GetMapping(ma.StringCast("/ip4/0.0.0.0/udp/4101/quic-v1")); a == nil || a.String() != "/ip4/11.0.0.4/udp/4101/quic-v1" {
		t.Errorf("GetMapping of QUIC = %v, want /ip4/11.0.0.4/udp/4101/quic-v1", a)
	}
}
