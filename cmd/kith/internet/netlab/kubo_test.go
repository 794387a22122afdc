//go:build linux

package netlab_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestKubo starts a Kubo node on a public host and checks that its API
// answers `ipfs id` with its lab address over TCP and QUIC, then starts a
// second that bootstraps from the first and must connect to it.
func TestKubo(t *testing.T) {
	bin := netlab.KuboBinary(t)
	lab := netlab.New(t)
	boot := netlab.StartKubo(t, lab.PublicHost("boot"), netlab.KuboConfig{Bin: bin})

	id, err := boot.ID()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s at %v", id.AgentVersion, boot.Addrs)
	if id.ID != boot.PeerID || !strings.HasPrefix(id.AgentVersion, "kubo/0.39.") {
		t.Errorf("ipfs id: %s %s, want %s on kubo/0.39", id.ID, id.AgentVersion, boot.PeerID)
	}
	ip := boot.Host.Addr().String()
	for _, want := range []string{
		"/ip4/" + ip + "/tcp/4001/p2p/" + boot.PeerID,
		"/ip4/" + ip + "/udp/4001/quic-v1/p2p/" + boot.PeerID,
	} {
		if !slices.Contains(boot.Addrs, want) || !slices.Contains(id.Addresses, want) {
			t.Errorf("Kubo's addresses %q lack %s", id.Addresses, want)
		}
	}
	for _, p := range []string{"/ipfs/kad/1.0.0", "/libp2p/circuit/relay/0.2.0/hop", "/libp2p/autonat/1.0.0"} {
		if !slices.Contains(id.Protocols, p) {
			t.Errorf("Kubo does not serve %s (DHT server, relay, AutoNAT): %q", p, id.Protocols)
		}
	}

	second := netlab.StartKubo(t, lab.PublicHost("second"), netlab.KuboConfig{Bin: bin, Bootstrap: boot.Addrs[:1]})
	waitFor(t, time.Minute, "the second Kubo to connect to the first", func() bool {
		out, err := second.Command("swarm", "peers").Output()
		return err == nil && strings.Contains(string(out), boot.PeerID)
	})
}
