package node

import (
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/node/reach"
	"github.com/kith-p2p/kith/web/api"
)

// TestDiagnose checks the doctor's judgement, case by case: each wanted
// finding (a piece of its text) must be there with its status, none of the
// unwanted ones may be, and fails come before warnings before oks.
func TestDiagnose(t *testing.T) {
	online := dht.Stats{Protocol: "/ipfs/kad/1.0.0", WAN: 40, Server: true, Bootstrap: 4, BootstrapConnected: 2}
	private := reach.Status{Reachability: network.ReachabilityPrivate}
	for _, tc := range []struct {
		name string
		f    facts
		want map[string]string // text piece -> status
		not  []string
	}{
		{
			name: "public",
			f:    facts{reach: reach.Status{Reachability: network.ReachabilityPublic, NAT: reach.NATNone}, dht: online, share: 2},
			want: map[string]string{"Reachable from the internet": "ok", "peers in the routing table": "ok"},
			not:  []string{"relay", "No address", "capped", "announced"},
		},
		{
			name: "offline",
			f:    facts{reach: reach.Status{}, dht: dht.Stats{Bootstrap: 4}},
			want: map[string]string{"are you offline": "fail"},
			not:  []string{"No address"}, // reachability unknown: nothing to say yet
		},
		{
			name: "local run: the internet checks would not apply",
			f:    facts{reach: reach.Status{}, dht: dht.Stats{}, local: localRun},
			want: map[string]string{"This run stays on this machine (kith daemon --profile local)": "ok", "Start the daemon without --profile local": "ok"},
			not:  []string{"bootstrap", "No relay", "No address"},
		},
		{
			name: "local repo",
			f:    facts{reach: private, dht: dht.Stats{}, local: localRepo},
			want: map[string]string{"This repo was made with --profile local": "ok"},
			not:  []string{"bootstrap", "No relay", "No address"},
		},
		{
			name: "caps in force",
			f:    facts{reach: private, dht: dht.Stats{}, local: localRepo, downloadLimit: 5 << 20, uploadLimit: 512 << 10},
			want: map[string]string{"Transfers are capped: downloads at 5.0 MiB/s (fetch.download_limit), uploads at 512 KiB/s (fetch.upload_limit); `kith config unset KEY` lifts a cap at once.": "ok"},
		},
		{
			name: "a download cap alone",
			f:    facts{reach: private, dht: dht.Stats{}, local: localRepo, downloadLimit: 64 << 10},
			want: map[string]string{"Transfers are capped: downloads at 64 KiB/s (fetch.download_limit);": "ok"},
			not:  []string{"uploads at"},
		},
		{
			name: "announcing off",
			f:    facts{reach: reach.Status{Reachability: network.ReachabilityPublic, NAT: reach.NATNone}, dht: online, share: 2, noAnnounce: true},
			want: map[string]string{"Nothing is announced in the DHT (dht.announce is off)": "ok"},
		},
		{
			name: "no bootstrap peers",
			f:    facts{reach: private, dht: dht.Stats{}, relayClient: true, relays: 1, share: 1},
			want: map[string]string{"No bootstrap peers are configured": "warn"},
		},
		{
			name: "behind NAT, relay client on, no reservation yet",
			f:    facts{reach: private, dht: online, relayClient: true},
			want: map[string]string{
				"No relay reservation yet":                "fail",
				"through a relay, then a hole punch":      "ok",
				"No address a friend on the internet can": "warn",
			},
		},
		{
			name: "behind NAT, relay client on, reserved",
			f:    facts{reach: private, dht: online, relayClient: true, relays: 2, share: 2},
			want: map[string]string{"Reachable through 2 relay(s)": "ok", "through a relay, then a hole punch": "ok"},
			not:  []string{"No relay", "No address"},
		},
		{
			// The ok line must not promise a relay the warning says is off.
			name: "behind NAT, relay client off",
			f:    facts{reach: private, dht: online},
			want: map[string]string{
				"network.relay_client is off":                 "warn",
				"peers on the LAN, and peers this node dials": "ok",
			},
			not: []string{"through a relay, then a hole punch"},
		},
		{
			name: "behind NAT, relay client off, a group member's relay",
			f:    facts{reach: private, dht: online, groupRelays: 1, share: 1},
			want: map[string]string{"1 of them a group member's": "ok", "through a relay, then a hole punch": "ok"},
			not:  []string{"network.relay_client is off"},
		},
		{
			name: "symmetric NAT in a group without a relay",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				dht: online, relayClient: true, relays: 1, share: 1, inGroups: true, port: "4001"},
			want: map[string]string{
				"hole punching will fail, so peers behind NATs": "warn",
				"No member of your groups offers a relay":       "warn",
			},
		},
		{
			name: "symmetric NAT with a group member's relay",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				dht: online, relayClient: true, groupRelays: 1, share: 1, inGroups: true},
			want: map[string]string{"group transfers go through a group member's relay": "warn"},
			not:  []string{"No member of your groups"},
		},
		{
			name: "hole punches all failed",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, HolePunches: 3, LastHolePunchError: "timeout"},
				dht: online, relayClient: true, relays: 1, share: 1},
			want: map[string]string{"3 hole punch(es) tried, none succeeded (last: timeout)": "warn"},
		},
		{
			name: "a group share announced",
			f:    facts{reach: reach.Status{Reachability: network.ReachabilityPublic}, dht: online, share: 1, announcedShares: []string{"bafyone"}},
			want: map[string]string{"1 thing your groups share is announced in the public DHT": "warn"},
		},
		{
			name: "group shares announced",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPublic}, dht: online, share: 1,
				announcedShares: []string{"a", "b", "c", "d", "e", "f", "g"}},
			want: map[string]string{"7 things your groups share are announced": "warn"},
		},
		{
			name: "hole punching works",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATCone, HolePunches: 3, HolePunchOK: 2},
				dht: online, relayClient: true, relays: 1, share: 1},
			want: map[string]string{"Hole punching works: 2 of 3": "ok", "keeps ports (cone)": "ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := diagnose(tc.f)
			find := func(piece string) (api.Check, bool) {
				for _, c := range checks {
					if strings.Contains(c.Text, piece) {
						return c, true
					}
				}
				return api.Check{}, false
			}
			for piece, status := range tc.want {
				c, ok := find(piece)
				if !ok {
					t.Errorf("no finding with %q in %+v", piece, checks)
				} else if c.Status != status {
					t.Errorf("%q: status %s, want %s", c.Text, c.Status, status)
				}
			}
			for _, piece := range tc.not {
				if c, ok := find(piece); ok {
					t.Errorf("unexpected finding %q", c.Text)
				}
			}
			rank := map[string]int{"fail": 0, "warn": 1, "ok": 2}
			for i := 1; i < len(checks); i++ {
				if rank[checks[i].Status] < rank[checks[i-1].Status] {
					t.Errorf("findings not worst first: %+v", checks)
				}
			}
			for _, c := range checks {
				if c.Status != "ok" && c.Status != "warn" && c.Status != "fail" {
					t.Errorf("%q: status %q", c.Text, c.Status)
				}
			}
		})
	}
}
