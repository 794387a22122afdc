package node

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	reuseport "github.com/libp2p/go-reuseport"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/web/api"
)

// TestPortsInUse: a fixed listen port anyone holds is found before libp2p
// binds it, whether its holder shares ports (SO_REUSEPORT, as libp2p and so
// another kith daemon bind) or not; free ports, port 0 and names are not.
func TestPortsInUse(t *testing.T) {
	plain, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	shared, err := reuseport.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	udp, err := reuseport.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	port := func(a net.Addr) int {
		switch a := a.(type) {
		case *net.TCPAddr:
			return a.Port
		case *net.UDPAddr:
			return a.Port
		}
		return 0
	}
	tests := []struct {
		name string
		addr string
		busy bool
	}{
		{"held", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port(plain.Addr())), true},
		{"held with SO_REUSEPORT", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port(shared.Addr())), true},
		{"the wildcard of a held port", fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", port(shared.Addr())), true},
		{"QUIC on a held UDP port", fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", port(udp.LocalAddr())), true},
		{"TCP where only UDP is held", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port(udp.LocalAddr())), false},
		{"free", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort), false},
		{"port 0", "/ip4/127.0.0.1/tcp/0", false},
		{"a name", fmt.Sprintf("/dns4/localhost/tcp/%d", port(plain.Addr())), false},
		{"not a multiaddr", "127.0.0.1:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy := portsInUse([]string{tt.addr})
			if (len(busy) > 0) != tt.busy {
				t.Fatalf("portsInUse(%s) = %v, want busy %v", tt.addr, busy, tt.busy)
			}
			// For a daemon run for one command: port 0 where held.
			want := tt.addr
			if tt.busy {
				a, _ := ma.NewMultiaddr(tt.addr)
				want = strings.Replace(tt.addr, "/"+portOf(a)+"/", "/0/", 1)
				if strings.HasSuffix(tt.addr, "/"+portOf(a)) {
					want = strings.TrimSuffix(tt.addr, portOf(a)) + "0"
				}
			}
			if got := freePorts([]string{tt.addr}); len(got) != 1 || got[0] != want {
				t.Fatalf("freePorts(%s) = %v, want %s", tt.addr, got, want)
			}
		})
	}
	// A node on a held port fails in one sentence, before libp2p starts.
	dir := t.TempDir()
	held := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port(shared.Addr()))
	_, err = New(Options{Repo: dir, Profile: "local", APIAddress: "127.0.0.1:0", Logger: quietLog,
		Configure: func(c *Config) { c.Network.ListenAddrs = []string{held, "/ip4/127.0.0.1/udp/0/quic-v1"} }})
	if err == nil || !strings.Contains(api.Sentence(err), "a port of network.listen_addrs ("+held+") is in use") || strings.Contains(err.Error(), "--profile local") {
		t.Fatalf("New on a held port: %v", err)
	}
	// A daemon run for one command listens on another port instead.
	n, err := New(Options{Repo: dir, Profile: "local", APIAddress: "127.0.0.1:0", Logger: quietLog, FreePorts: true,
		Configure: func(c *Config) { c.Network.ListenAddrs = []string{held, "/ip4/127.0.0.1/udp/0/quic-v1"} }})
	if err != nil {
		t.Fatalf("New with FreePorts on a held port: %v", err)
	}
	defer n.Close()
	listening := n.host.Network().ListenAddresses()
	tcp := slices.ContainsFunc(listening, func(a ma.Multiaddr) bool {
		_, err := a.ValueForProtocol(ma.P_TCP)
		return err == nil
	})
	if !tcp || slices.ContainsFunc(listening, func(a ma.Multiaddr) bool { return a.String() == held }) {
		t.Fatalf("with FreePorts, listening on %v; want TCP on a port other than %s's", listening, held)
	}
}
