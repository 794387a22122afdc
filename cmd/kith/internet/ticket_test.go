//go:build linux

package internet_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// TestTwoHomesByTicket: B knows only the ticket A's add printed. The DHT
// servers are stopped once A holds its relay reservation, and B has no
// bootstrap peer at all: the ticket's relay circuit is the only way to A.
// The transfer still ends up on a hole-punched direct connection.
func TestTwoHomesByTicket(t *testing.T) {
	lab := netlab.New(t)
	// The relay: a public kith node that serves no DHT queries, so that
	// stopping the DHT servers leaves no DHT at all.
	relayCfg := serverConfig(nil)
	relayCfg["dht"] = map[string]any{"protocol_prefix": "/ipfs", "mode": "client"}
	relay := startKith(t, "relay", lab.PublicHost("relay"), relayCfg)
	// The DHT server: public, relaying for nobody.
	dhtCfg := serverConfig(relay.addrs())
	dhtCfg["network"].(map[string]any)["relay_service"] = false
	dhtSrv := startKith(t, "dht-server", lab.PublicHost("dhtsrv"), dhtCfg)
	boot := append(relay.addrs(), dhtSrv.addrs()...)

	homeA := lab.HomeRouter("homea", netlab.RouterConfig{NAT: netlab.Cone})
	homeB := lab.HomeRouter("homeb", netlab.RouterConfig{NAT: netlab.Cone})
	a := startKith(t, "laptop-A", homeA.Laptop("a"), laptopConfig(boot))
	waitFor(t, 60*time.Second, "A to hold a reservation on the relay", func() bool {
		for _, ra := range a.doctor().RelayAddrs {
			if strings.Contains(ra, relay.id.PeerID) {
				return true
			}
		}
		return false
	})
	res, data := a.addFile(4 << 20)
	if !strings.Contains(res.Ticket, "kith1") {
		t.Fatalf("add printed no ticket: %+v", res)
	}
	dhtSrv.stop()

	b := startKith(t, "laptop-B", homeB.Laptop("b"), laptopConfig(nil))
	out := filepath.Join(b.files, "got.bin")
	start := time.Now()
	if _, err := b.run("get", res.Ticket, "-o", out); err != nil {
		t.Fatal(err)
	}
	t.Logf("get by ticket took %v", time.Since(start))
	b.gotDirectly(out, a, data)
	// B's get told A, over the punched connection, that it finished:
	// what a kith send says as "has it all".
	var ups []api.Upload
	if err := a.runJSON(&ups, "uploads"); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ups, func(u api.Upload) bool { return u.Peer == b.id.PeerID && u.Cid == res.Cid && u.Finished }) {
		t.Errorf("A's uploads do not say B's get finished: %+v", ups)
	}
	// A damaged ticket is a clear error, before anything is dialled.
	bad := res.Ticket[:len(res.Ticket)-5] + "aaaaa"
	if _, err := b.run("get", bad, "-o", out+".2"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged ticket gave %v, want a 'damaged' error", err)
	}
}
