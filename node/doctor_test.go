package node

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/node/reach"
	"github.com/kith-p2p/kith/web/api"
)

// TestDiagnose checks the doctor's judgement, case by case: each wanted
// finding (a piece of its text) must be there with its status, none of the
// unwanted ones may be, and fails come before warnings before oks.
func TestDiagnose(t *testing.T) {
	online := dht.Stats{Protocol: "/ipfs/kad/1.0.0", WAN: 40, Server: true, Bootstrap: 4, BootstrapConnected: 2}
	private := reach.Status{Reachability: network.ReachabilityPrivate}
	v6addr := netip.MustParseAddr("3fff:0:0:1::2")
	t0 := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		f    facts
		want map[string]string // text piece -> status
		not  []string
		fix  string // a piece of some finding's fix
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
			name: "symmetric NAT, the router does not forward ports on request",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				dht: online, relayClient: true, relays: 1, share: 1, port: "4101"},
			want: map[string]string{"hole punching will fail": "warn"},
			fix:  "if your router can forward ports on request, turn UPnP (or NAT-PMP) on in its settings (kith looks again within 15 minutes, or when the daemon restarts); else share within a group",
		},
		{
			name: "symmetric NAT: what to forward, and to where",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				dht: online, relayClient: true, relays: 1, share: 1, port: "27311", lanIP: "192.168.1.2"},
			want: map[string]string{"hole punching will fail": "warn"},
			fix:  "or forward port 27311 (TCP and UDP) on your router to this machine (192.168.1.2)",
		},
		{
			name: "symmetric NAT, port mapping off",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				ports: portMap{off: true}, dht: online, relayClient: true, relays: 1, share: 1, port: "4101"},
			want: map[string]string{"hole punching will fail": "warn"},
			fix:  "turn port mapping on (`kith config set network.port_mapping true`, then restart the daemon)",
		},
		{
			name: "symmetric NAT with a group member's relay",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				dht: online, relayClient: true, groupRelays: 1, share: 1, inGroups: true},
			want: map[string]string{"group transfers go through a group member's relay": "warn"},
			not:  []string{"No member of your groups"},
		},
		{
			name: "symmetric NAT on IPv4, IPv6 behind a firewall",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric, IPv6: v6addr,
				Unreachable: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/4101"), ma.StringCast("/ip6/3fff:0:0:1::2/udp/4101/quic-v1")}},
				dht: online, relayClient: true, relays: 1, share: 1},
			want: map[string]string{
				"Behind a symmetric NAT on IPv4 (peers see a different port each): hole punching over IPv4 will fail, so peers with IPv4 only cannot connect to you directly; peers that have IPv6 still can": "warn",
				"IPv6 (3fff:0:0:1::2) is behind a firewall with no address translation": "ok",
			},
			not: []string{"peers behind NATs cannot connect"},
		},
		{
			name: "IPv6 open, IPv4 behind a cone NAT",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATCone, IPv6: v6addr,
				Reachable:   []ma.Multiaddr{ma.StringCast("/ip6/3fff:0:0:1::2/tcp/4101")},
				Unreachable: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/4101")}},
				dht: online, relayClient: true, relays: 1, share: 1},
			want: map[string]string{
				"IPv6 (3fff:0:0:1::2) is open: peers that have IPv6 dial this node directly": "ok",
				"through a relay, then a hole punch":                                         "ok",
			},
		},
		{
			name: "IPv6 not tested yet: nothing said of it",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATCone, IPv6: v6addr},
				dht: online, relayClient: true, relays: 1, share: 1},
			not: []string{"IPv6"},
		},
		{
			name: "symmetric NAT, the router forwards ports (UPnP), no relay yet",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				ports: portMap{found: true, mapped: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/18262"), ma.StringCast("/ip4/11.0.0.4/udp/3778/quic-v1")}},
				dht:   online, relayClient: true, share: 2, inGroups: true, port: "4101"},
			want: map[string]string{
				"The router forwards tcp 11.0.0.4:18262, udp 11.0.0.4:3778 to this node (UPnP or NAT-PMP): peers on the internet dial it there directly": "ok",
				"Behind a symmetric NAT (peers see a different port each), but peers dial this node directly: no hole punch needed":                      "ok",
			},
			not: []string{"hole punching will fail", "No relay reservation", "No member of your groups", "No address"},
		},
		{
			name: "symmetric NAT, public (a port forwarded by hand)",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPublic, NAT: reach.NATSymmetric, Reachable: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/4101")}},
				ports: portMap{off: true, byHand: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/4101")}},
				dht:   online, share: 1},
			want: map[string]string{
				"but peers dial this node directly: no hole punch needed":                                                 "ok",
				"The router forwards tcp 11.0.0.4:4101 to this node (set in its settings): peers on the internet dial it": "ok",
			},
			not: []string{"hole punching will fail", "UPnP"},
		},
		{
			name: "symmetric NAT, public at an address of network.announce_addrs",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPublic, NAT: reach.NATSymmetric},
				announced: []announceState{
					{conf: ma.StringCast("/ip4/0.0.0.0/tcp/40000"), addr: ma.StringCast("/ip4/11.0.0.4/tcp/40000"), verdict: announceReachable},
					{conf: ma.StringCast("/dns4/home.example.org/tcp/40000"), addr: ma.StringCast("/dns4/home.example.org/tcp/40000"), verdict: announceName},
				},
				ports: portMap{off: true}, dht: online, share: 2},
			want: map[string]string{
				"Peers on the internet dial this node at tcp 11.0.0.4:40000 (network.announce_addrs): they dialled it back": "ok",
				"but peers dial this node directly: no hole punch needed":                                                   "ok",
			},
			not: []string{"hole punching will fail", "No peer could dial"},
		},
		{
			name: "symmetric NAT, an address of network.announce_addrs not dialled back yet",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				announced: []announceState{{conf: ma.StringCast("/ip4/11.0.0.4/tcp/40000"), addr: ma.StringCast("/ip4/11.0.0.4/tcp/40000"), verdict: announceUntested}},
				dht:       online, relayClient: true, share: 1, inGroups: true, port: "4101"},
			want: map[string]string{"but peers dial this node directly: no hole punch needed": "ok"},
			not:  []string{"hole punching will fail", "No relay reservation", "No member of your groups", "they dialled it back"},
		},
		{
			name: "an address of network.announce_addrs no peer could dial",
			f: facts{reach: private,
				announced: []announceState{{conf: ma.StringCast("/ip4/11.0.0.4/udp/40000/quic-v1"), addr: ma.StringCast("/ip4/11.0.0.4/udp/40000/quic-v1"), verdict: announceUnreachable}},
				dht:       online, relayClient: true, relays: 1, share: 1, port: "4101", lanIP: "192.168.1.2"},
			want: map[string]string{
				"No peer could dial udp 11.0.0.4:40000 back (network.announce_addrs), so kith gives it out no more.": "warn",
			},
			not: []string{"Peers on the internet dial this node at"},
			fix: "check that the router forwards that port (TCP for tcp, UDP for udp) to this machine (192.168.1.2) at port 4101",
		},
		{
			name: "the router says it forwards a port, AutoNAT v2 could not dial it",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATSymmetric},
				ports: portMap{found: true, blocked: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/18262")}},
				dht:   online, relayClient: true, relays: 1, share: 1, port: "4101"},
			want: map[string]string{
				"The router says it forwards tcp 11.0.0.4:18262 to this node (UPnP or NAT-PMP), but no peer could dial it back": "warn",
				"hole punching will fail": "warn",
			},
			not: []string{"no hole punch needed", "The router forwards tcp"},
		},
		{
			name: "the router forwards a port but sits behind another NAT",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPrivate, NAT: reach.NATCone},
				ports: portMap{found: true, mapped: []ma.Multiaddr{ma.StringCast("/ip4/100.64.3.9/tcp/18262")}},
				dht:   online, relayClient: true, relays: 1, share: 1, port: "4101"},
			want: map[string]string{
				"The router forwards tcp 100.64.3.9:18262 to this node (UPnP or NAT-PMP), but its own address 100.64.3.9 is not public: another NAT stands in front": "warn",
				"through a relay, then a hole punch": "ok",
			},
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
		{
			name: "a router that fails while the DHT answers",
			f: facts{reach: reach.Status{Reachability: network.ReachabilityPublic}, dht: online, share: 1, now: t0,
				providerRouters: []delegated.Status{{URL: "https://cid.contact", Failed: t0.Add(-2 * time.Minute), Answered: t0.Add(-time.Hour), Err: errors.New("lookup cid.contact: no such host")}},
				nameRouters:     []delegated.Status{{URL: "https://delegated-ipfs.dev", Answered: t0.Add(-time.Minute), Failed: t0.Add(-time.Hour), Err: errors.New("503")}}},
			want: map[string]string{"The delegated router https://cid.contact could not be asked for providers (2m0s ago: lookup cid.contact: no such host): content that only its index knows of": "warn"},
			not:  []string{"delegated-ipfs.dev"},
			fix:  "`kith config set dht.delegated_routers '[]'` (then restart) stops asking it",
		},
		{
			name: "a names router that fails",
			f: facts{reach: private, dht: online, relayClient: true, relays: 1, share: 1, now: t0,
				nameRouters: []delegated.Status{{URL: "https://delegated-ipfs.dev", Failed: t0.Add(-5 * time.Second), Err: errors.New("503 Service Unavailable")}}},
			want: map[string]string{"The delegated router https://delegated-ipfs.dev could not be asked for names (5s ago: 503 Service Unavailable): IPNS names are looked up in the DHT alone": "warn"},
		},
		{
			name: "offline: the routers fail too, and the offline finding says why",
			f: facts{reach: reach.Status{}, dht: dht.Stats{Bootstrap: 4}, now: t0,
				providerRouters: []delegated.Status{{URL: "https://cid.contact", Failed: t0, Err: errors.New("network is unreachable")}}},
			want: map[string]string{"are you offline": "fail"},
			not:  []string{"delegated router"},
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
			if tc.fix != "" && !slices.ContainsFunc(checks, func(c api.Check) bool { return strings.Contains(c.Fix, tc.fix) }) {
				t.Errorf("no fix with %q in %+v", tc.fix, checks)
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

// TestIPv6How checks the doctor's IPv6 line: the address peers see, and
// what AutoNAT v2 found of addresses on it (not of other addresses).
func TestIPv6How(t *testing.T) {
	own := netip.MustParseAddr("3fff:0:0:1::2")
	on := ma.StringCast("/ip6/3fff:0:0:1::2/udp/4101/quic-v1")
	other := ma.StringCast("/ip6/3fff:0:0:1::9/udp/4101/quic-v1")
	v4 := ma.StringCast("/ip4/11.0.0.4/tcp/4101")
	m := func(as ...ma.Multiaddr) []ma.Multiaddr { return as }
	for _, tc := range []struct {
		name string
		st   reach.Status
		want string
	}{
		{"none seen", reach.Status{Reachable: m(v4)}, ""},
		{"dialled back", reach.Status{IPv6: own, Reachable: m(on), Unreachable: m(v4)}, "3fff:0:0:1::2, open: AutoNAT v2 dialled it back"},
		{"firewalled", reach.Status{IPv6: own, Unreachable: m(v4, on)}, "3fff:0:0:1::2, behind a firewall (no peer could dial it back): peers with IPv6 connect by a hole punch"},
		{"another address's verdict does not count", reach.Status{IPv6: own, Reachable: m(other)}, "3fff:0:0:1::2, not tested yet"},
	} {
		if got := ipv6How(tc.st); got != tc.want {
			t.Errorf("%s: ipv6How = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPortMapHow checks the doctor's port-mapping line in each state of
// libp2p's NAT manager.
// TestForwardTarget: the port to forward is the one this node listens on
// over IPv4 TCP (another than the config's when that was taken), and the
// machine's private IPv4 address is where to.
func TestForwardTarget(t *testing.T) {
	m := ma.StringCast
	for _, tc := range []struct {
		name        string
		listen, lan []ma.Multiaddr
		port, lanIP string
	}{
		{"the config's port", []ma.Multiaddr{m("/ip4/0.0.0.0/tcp/4101"), m("/ip4/0.0.0.0/udp/4101/quic-v1")}, []ma.Multiaddr{m("/ip4/192.168.1.2/tcp/4101")}, "4101", "192.168.1.2"},
		{"another port, 4101 taken", []ma.Multiaddr{m("/ip6/::/tcp/4101"), m("/ip4/0.0.0.0/udp/27311/quic-v1"), m("/ip4/0.0.0.0/tcp/27311")}, nil, "27311", ""},
		{"loopback only", []ma.Multiaddr{m("/ip4/127.0.0.1/tcp/5001")}, []ma.Multiaddr{m("/ip6/fd00::2/tcp/4101"), m("/ip4/10.0.0.7/udp/4101/quic-v1")}, "4101", "10.0.0.7"},
	} {
		port, lanIP := forwardTarget(tc.listen, tc.lan, "4101")
		if port != tc.port || lanIP != tc.lanIP {
			t.Errorf("%s: forwardTarget = %q, %q; want %q, %q", tc.name, port, lanIP, tc.port, tc.lanIP)
		}
	}
}

func TestPortMapHow(t *testing.T) {
	tcp, quic := ma.StringCast("/ip4/11.0.0.4/tcp/18262"), ma.StringCast("/ip4/11.0.0.4/udp/3778/quic-v1")
	cgnat := ma.StringCast("/ip4/100.64.3.9/tcp/18262")
	for _, tc := range []struct {
		name string
		pm   portMap
		want string
	}{
		{"off", portMap{off: true}, "off (network.port_mapping is false)"},
		{"looking", portMap{looking: true}, "asking the router (UPnP, NAT-PMP)"},
		{"no router answered", portMap{}, "none (no router answered UPnP or NAT-PMP)"},
		{"found, nothing mapped yet", portMap{found: true}, "the router answered UPnP or NAT-PMP but forwards no port yet"},
		{"found, nothing mapped after a while", portMap{found: true, settled: true},
			"none: the router answered UPnP or NAT-PMP but forwards no port (it may itself be behind another NAT, such as the ISP's)"},
		{"mapped", portMap{found: true, mapped: []ma.Multiaddr{tcp, quic, ma.StringCast("/ip4/11.0.0.4/udp/3778/quic-v1/webtransport")}},
			"tcp 11.0.0.4:18262, udp 11.0.0.4:3778: the router forwards them here (UPnP or NAT-PMP)"},
		{"forwarded, AutoNAT v2 could not dial it", portMap{found: true, blocked: []ma.Multiaddr{tcp}},
			"tcp 11.0.0.4:18262: the router says it forwards them here (UPnP or NAT-PMP), but no peer could dial them back"},
		{"behind another NAT", portMap{found: true, mapped: []ma.Multiaddr{cgnat}},
			"tcp 100.64.3.9:18262, but the router's address 100.64.3.9 is not public: another NAT stands in front"},
		{"forwarded by hand, port mapping off", portMap{off: true, byHand: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/tcp/4101"), ma.StringCast("/ip4/11.0.0.4/udp/4101/quic-v1")}},
			"tcp 11.0.0.4:4101, udp 11.0.0.4:4101: forwarded here in the router's settings (peers dialled them back)"},
		{"on request and by hand: the router's answer", portMap{found: true, mapped: []ma.Multiaddr{tcp}, byHand: []ma.Multiaddr{ma.StringCast("/ip4/11.0.0.4/udp/4101/quic-v1")}},
			"tcp 11.0.0.4:18262: the router forwards them here (UPnP or NAT-PMP)"},
	} {
		if got := portMapHow(tc.pm); got != tc.want {
			t.Errorf("%s: portMapHow = %q, want %q", tc.name, got, tc.want)
		}
	}
}
