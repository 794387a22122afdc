package node

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestStickyPorts: a listen address with port 0 takes the last run's port
// when that port is free, and only for the same address and transport.
func TestStickyPorts(t *testing.T) {
	free := func(proto string) int { // a port free now (bound, then released)
		t.Helper()
		if proto == "udp" {
			pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			return pc.LocalAddr().(*net.UDPAddr).Port
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	tcp, udp := strconv.Itoa(free("tcp")), strconv.Itoa(free("udp"))
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	zero := []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	for _, tt := range []struct {
		name             string
		listen, listened []string
		want             []string
	}{
		{"first run", zero, nil, zero},
		{"ports of the last run", zero, []string{"/ip4/127.0.0.1/udp/" + udp + "/quic-v1", "/p2p-circuit", "/ip4/127.0.0.1/tcp/" + tcp},
			[]string{"/ip4/127.0.0.1/tcp/" + tcp, "/ip4/127.0.0.1/udp/" + udp + "/quic-v1"}},
		{"a port taken since", zero, []string{"/ip4/127.0.0.1/tcp/" + taken, "/ip4/127.0.0.1/udp/" + udp + "/quic-v1"},
			[]string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/" + udp + "/quic-v1"}},
		{"a fixed port stays", []string{"/ip4/127.0.0.1/tcp/4001"}, []string{"/ip4/127.0.0.1/tcp/" + tcp}, []string{"/ip4/127.0.0.1/tcp/4001"}},
		{"another address", []string{"/ip4/0.0.0.0/tcp/0"}, []string{"/ip4/127.0.0.1/tcp/" + tcp}, []string{"/ip4/0.0.0.0/tcp/0"}},
		{"another transport", []string{"/ip4/127.0.0.1/udp/0/quic-v1"}, []string{"/ip4/127.0.0.1/udp/" + udp + "/webrtc-direct", "/ip4/127.0.0.1/tcp/" + tcp},
			[]string{"/ip4/127.0.0.1/udp/0/quic-v1"}},
		{"a damaged record", zero, []string{"garbage", "/ip4/127.0.0.1/tcp/0"}, zero},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := stickyPorts(tt.listen, tt.listened)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// TestBothRestartedMeetAgain: two daemons of the local profile (port 0)
// in a group both stop and start again: they listen on their ports of
// before, so each finds the other at the address the group recorded and
// they connect again with nothing done by hand (on new ports neither
// could find the other, ever).
func TestBothRestartedMeetAgain(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	nodes := []*Node{groupNode(t, dirs[0], 1<<30), groupNode(t, dirs[1], 1<<30)}
	formGroup(t, nodes, "family")
	before := []string{p2pAddr(t, nodes[0].host), p2pAddr(t, nodes[1].host)}
	for _, n := range nodes {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	nodes = []*Node{groupNode(t, dirs[0], 1<<30), groupNode(t, dirs[1], 1<<30)}
	for i, n := range nodes {
		found := false
		for _, a := range n.host.Addrs() {
			found = found || a.String()+"/p2p/"+n.host.ID().String() == before[i]
		}
		if !found {
			t.Errorf("node %d listens on %v, not on %s as before", i, n.host.Addrs(), before[i])
		}
	}
	waitFor(t, 30*time.Second, "the two restarted members to connect again", func() bool {
		return nodes[0].host.Network().Connectedness(nodes[1].host.ID()) == network.Connected
	})
}
