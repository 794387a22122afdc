package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/node/reach"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// facts are what the doctor judges; gathered by Doctor, judged by diagnose
// (a pure function, table-tested).
type facts struct {
	reach        reach.Status
	ports        portMap         // what the router forwards on request
	announced    []announceState // network.announce_addrs
	dht          dht.Stats
	autonat      bool // AutoNAT on in the config
	relayClient  bool // autorelay on in the config
	relays       int  // relays of strangers holding a reservation for us
	groupRelays  int  // group members' relays holding a reservation for us
	relayPublic  bool // this node runs the limited relay now
	relayGroups  bool // this node runs the group relay now
	peers        int
	share        int    // addresses a friend on the internet can reach us at (internetReachable)
	port         string // the TCP (and UDP) port to forward to this node
	lanIP        string // this machine's private IPv4 address, to forward it to ("": none)
	inGroups     bool
	groupHasRely bool // some connected group member offers a relay
	// local is set when this node stays on the machine by design:
	// localRun (kith daemon --profile local on a repo that is not) or
	// localRepo (a repo made with the local profile).
	local string
	// announcedShares are roots a group of ours shares that this node
	// announces in the DHT (pinned before shares were kept private).
	announcedShares []string
	// downloadLimit and uploadLimit are the caps in force (bytes/s, 0:
	// none): a slow transfer may be this node's own doing.
	downloadLimit, uploadLimit int64
	// noAnnounce: dht.announce is off.
	noAnnounce bool
	// providerRouters and nameRouters say what each delegated router did
	// lately, as of now.
	providerRouters, nameRouters []delegated.Status
	now                          time.Time
}

// Doctor describes how the node stands on the network and what to do.
func (n *Node) Doctor(ctx context.Context) (api.Doctor, error) {
	f := n.facts()
	f.announcedShares = n.announcedShares(ctx)
	share, lan, _ := n.shareAddrs()
	strangers, members := n.relayCircuits()
	d := api.Doctor{
		Reachability:       n.reachability(),
		ReachabilityHow:    reachabilityHow(f),
		NAT:                f.reach.NAT.String(),
		NATHow:             natHow(f.reach),
		IPv6:               ipv6How(f.reach),
		PortMapping:        portMapHow(f.ports),
		Announced:          announceHow(f.announced),
		HolePunches:        f.reach.HolePunches,
		HolePunchesOK:      f.reach.HolePunchOK,
		LastHolePunchError: f.reach.LastHolePunchError,
		RelayAddrs:         addrStrings(strangers),
		GroupRelays:        addrStrings(members),
		RelayService:       relayServiceText(f),
		DHTProtocol:        string(f.dht.Protocol),
		DHTServer:          f.dht.Server,
		DHTWAN:             f.dht.WAN,
		DHTLAN:             f.dht.LAN,
		Bootstrap:          f.dht.Bootstrap,
		BootstrapConnected: f.dht.BootstrapConnected,
		Routers:            routersHow(f.providerRouters, f.nameRouters, f.now),
		Peers:              f.peers,
		Share:              addrStrings(share),
		LAN:                addrStrings(lan),
		Checks:             diagnose(f),
		Log:                n.logFile,
	}
	if f.local != "" {
		d.PortMapping = ""
	}
	return d, nil
}

// relayCircuits sorts the relay circuits this node holds reservations on:
// through strangers' relays (limited) and through group members' relays
// (unlimited for other members), whether autorelay or the group relay
// loop took them. A public node holds none (its old ones are stale).
func (n *Node) relayCircuits() (strangers, members []ma.Multiaddr) {
	if n.tracker.Reachability() == network.ReachabilityPublic {
		return nil, nil
	}
	mi := memberIndex{n}
	seen := map[string]bool{}
	for _, a := range append(n.tracker.Status().RelayAddrs, n.groupRes.Addrs()...) {
		if seen[string(a.Bytes())] {
			continue
		}
		seen[string(a.Bytes())] = true
		if r, ok := relayOf(a); ok && mi.IsMember(r) {
			members = append(members, a)
		} else {
			strangers = append(strangers, a)
		}
	}
	return strangers, members
}

// distinctRelays counts the relays behind a list of circuits.
func distinctRelays(as []ma.Multiaddr) int {
	ids := map[string]bool{}
	for _, a := range as {
		if r, ok := relayOf(a); ok {
			ids[string(r)] = true
		}
	}
	return len(ids)
}

func (n *Node) facts() facts {
	strangers, members := n.relayCircuits()
	pub, grp := n.relaySvc.Running()
	f := facts{
		reach:       n.tracker.Status(),
		dht:         n.dht.Stats(),
		autonat:     n.cfg.Network.AutoNAT,
		relayClient: n.cfg.Network.RelayClient,
		relays:      distinctRelays(strangers),
		groupRelays: distinctRelays(members),
		relayPublic: pub,
		relayGroups: grp,
		peers:       len(n.host.Network().Peers()),
		port:        fmt.Sprint(DefaultP2PPort),
		inGroups:    n.groups != nil && len(n.groups.list()) > 0,
		local:       n.local,
	}
	f.ports = n.addrs.ports.state()
	f.ports.blocked = slices.DeleteFunc(slices.Clone(f.ports.mapped), func(a ma.Multiaddr) bool { return !n.tracker.IsUnreachable(a) })
	f.ports.mapped = slices.DeleteFunc(f.ports.mapped, n.tracker.IsUnreachable)
	f.ports.byHand = slices.DeleteFunc(n.addrs.ports.Guesses(), func(a ma.Multiaddr) bool { return !n.tracker.IsReachable(a) })
	f.announced = n.addrs.ports.announceStates(n.tracker.IsReachable, n.tracker.IsUnreachable)
	f.downloadLimit, f.uploadLimit = fetch.LimitOf(n.download), fetch.LimitOf(n.upload)
	f.noAnnounce = !n.cfg.DHT.Announce
	f.providerRouters, f.nameRouters, f.now = n.delegated.Status(), n.nameStore.routers.Status(), time.Now()
	share, lan, _ := n.shareAddrs()
	f.share = n.internetReachable(share)
	f.groupHasRely = len(n.groupRelayCandidates()) > 0
	if a, err := ma.NewMultiaddr(firstOr(n.cfg.Network.ListenAddrs, "")); err == nil {
		if p, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			f.port = p
		}
	}
	f.port, f.lanIP = forwardTarget(n.host.Network().ListenAddresses(), lan, f.port)
	return f
}

// forwardTarget is what a port forward in the router should name: the
// TCP port this node listens on over IPv4 (the config's may have been
// taken, and another chosen: stickyPorts), else port; and this machine's
// private IPv4 address, if it has one.
func forwardTarget(listen, lan []ma.Multiaddr, port string) (string, string) {
	for _, a := range listen {
		if len(a) == 2 && a[0].Code() == ma.P_IP4 && !manet.IsIPLoopback(a) {
			if p, err := a.ValueForProtocol(ma.P_TCP); err == nil {
				port = p
				break
			}
		}
	}
	for _, a := range lan {
		if ip, err := manet.ToIP(a); err == nil && ip.To4() != nil && ip.IsPrivate() {
			return port, ip.String()
		}
	}
	return port, ""
}

// announcedShares lists the user's pins that this node announces in the
// DHT although a group of ours shares them: what a kith older than
// private shares pinned when it shared, or a pin made announced by hand.
func (n *Node) announcedShares(ctx context.Context) []string {
	shared := n.groupShares()
	if len(shared) == 0 {
		return nil
	}
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range pins {
		if shared[p.Cid] && n.announced(p) {
			out = append(out, p.Cid.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

func reachabilityHow(f facts) string {
	st := f.reach
	switch {
	case f.local == localRun:
		return "this run of kith daemon --profile local stays on 127.0.0.1"
	case f.local == localRepo:
		return "the repo was made with --profile local: it stays on 127.0.0.1"
	case st.Forced && !f.autonat:
		return "assumed: AutoNAT is off in the config, so nothing tests it"
	case st.Forced:
		return "set in the config (network.reachability)"
	case len(st.Reachable) > 0:
		return "AutoNAT v2: a peer dialled back " + st.Reachable[0].String()
	case len(st.Unreachable) > 0:
		return "AutoNAT v2: no peer could dial back " + st.Unreachable[0].String()
	case st.Observers < 2:
		return fmt.Sprintf("not known yet: %s on the internet reported this node's public address, 2 are needed before it is tested", peersText(st.Observers))
	default:
		return "not known yet: waiting for an AutoNAT v2 server to test the address peers see"
	}
}

func natHow(st reach.Status) string {
	switch st.NAT {
	case reach.NATNone:
		return "peers see the address this node listens on"
	case reach.NATCone:
		return fmt.Sprintf("%s saw the same public port (%s)", peersText(st.Observers), strings.Join(st.Observed, ", "))
	case reach.NATSymmetric:
		return fmt.Sprintf("peers saw different public ports (%s)", strings.Join(st.Observed, ", "))
	}
	if st.Observers < 2 {
		return fmt.Sprintf("%s on the internet reported this node's address; 2 are needed", peersText(st.Observers))
	}
	return fmt.Sprintf("the addresses %s reported do not tell yet (%s)", peersText(st.Observers), strings.Join(st.Observed, ", "))
}

// What AutoNAT v2 says of this node's public IPv6 address (ipv6Verdict).
const (
	ipv6Open       = "open"
	ipv6Firewalled = "firewalled"
	ipv6Untested   = "untested"
)

// ipv6Verdict is whether peers can dial this node's public IPv6 address
// (st.IPv6): ipv6Open when AutoNAT v2 dialled an address on it back,
// ipv6Firewalled when every dial back failed, ipv6Untested before; "" when
// it has none.
func ipv6Verdict(st reach.Status) string {
	if !st.IPv6.IsValid() {
		return ""
	}
	on := func(a ma.Multiaddr) bool {
		ip, err := manet.ToIP(a)
		return err == nil && ip.Equal(st.IPv6.AsSlice())
	}
	switch {
	case slices.ContainsFunc(st.Reachable, on):
		return ipv6Open
	case slices.ContainsFunc(st.Unreachable, on):
		return ipv6Firewalled
	}
	return ipv6Untested
}

// ipv6How is the doctor's IPv6 line: the node's public IPv6 address and
// what it lets in; "" when it has none.
func ipv6How(st reach.Status) string {
	switch ipv6Verdict(st) {
	case ipv6Open:
		return st.IPv6.String() + ", open: AutoNAT v2 dialled it back"
	case ipv6Firewalled:
		return st.IPv6.String() + ", behind a firewall (no peer could dial it back): peers with IPv6 connect by a hole punch"
	case ipv6Untested:
		return st.IPv6.String() + ", not tested yet"
	}
	return ""
}

func relayServiceText(f facts) string {
	switch {
	case f.relayPublic && f.relayGroups:
		return "a limited relay for everyone and an unlimited one for group members"
	case f.relayPublic:
		return "a limited relay for everyone"
	case f.relayGroups:
		return "an unlimited relay for group members"
	case f.reach.Reachability != network.ReachabilityPublic:
		return "none (only a publicly reachable node can relay)"
	}
	return "none (off in the config)"
}

// reachability names how peers reach this node, as the API says it:
// "local" for a node kept on this machine by design (nothing tests it,
// and "private" would say it is behind a NAT), else what the reach
// tracker decided: "public", "private" or "unknown".
func (n *Node) reachability() string {
	if n.local != "" {
		return "local"
	}
	return reach.Name(n.tracker.Reachability())
}

// The two ways a node stays on its machine (facts.local).
const (
	localRun  = "run"
	localRepo = "repo"
)

// diagnose turns facts into findings, worst first.
func diagnose(f facts) []api.Check {
	var fails, warns, oks []api.Check
	warn := func(text, fix string) { warns = append(warns, api.Check{Status: "warn", Text: text, Fix: fix}) }
	ok := func(text string) { oks = append(oks, api.Check{Status: "ok", Text: text}) }

	// A node kept on this machine on purpose: what the internet checks
	// would say (no bootstrap peers, no relay, no address to give) is what
	// was asked for, and their fixes would not apply.
	const stays = "listens on 127.0.0.1 only, with no mDNS, port mapping, relay or public peers: daemons on this machine reach it by address or ticket, other computers cannot"
	switch f.local {
	case localRun:
		ok("This run stays on this machine (kith daemon --profile local): it " + stays + ". Start the daemon without --profile local to reach them.")
	case localRepo:
		ok("This repo was made with --profile local: it " + stays + ". A repo made without it (kith --repo DIR daemon) joins the network.")
	default:
		fails, warns, oks = diagnoseNetwork(f)
	}

	var caps []string
	for _, c := range []struct {
		what, key string
		limit     int64
	}{{"downloads", "fetch.download_limit", f.downloadLimit}, {"uploads", "fetch.upload_limit", f.uploadLimit}} {
		if c.limit > 0 {
			caps = append(caps, fmt.Sprintf("%s at %s/s (%s)", c.what, humanize.IBytes(uint64(c.limit)), c.key))
		}
	}
	if len(caps) > 0 {
		ok("Transfers are capped: " + strings.Join(caps, ", ") + "; `kith config unset KEY` lifts a cap at once.")
	}

	if f.noAnnounce && f.local == "" {
		ok("Nothing is announced in the DHT (dht.announce is off): what you add is found by its ticket, in your groups, or by peers connected to this one, never by its CID alone; the codes kith send prints, only by connected peers. `kith config set dht.announce true` (then restart) announces.")
	}

	if n := len(f.announcedShares); n > 0 {
		what := fmt.Sprintf("%d things your groups share are", n)
		if n == 1 {
			what = "1 thing your groups share is"
		}
		shown := f.announcedShares[:min(n, 5)]
		more := ""
		if n > len(shown) {
			more = fmt.Sprintf(" (and %d more: `kith pin ls` marks the private ones)", n-len(shown))
		}
		warn(what+" announced in the public DHT: anyone who learns the CID can fetch it (kith keeps group shares private since; these were pinned before, or made announced by hand).",
			"to keep them to the group: `kith pin add CID --private` for "+strings.Join(shown, ", ")+more)
	}
	return append(append(fails, warns...), oks...)
}

// diagnoseNetwork judges how the node stands on the network.
func diagnoseNetwork(f facts) (fails, warns, oks []api.Check) {
	fail := func(text, fix string) { fails = append(fails, api.Check{Status: "fail", Text: text, Fix: fix}) }
	warn := func(text, fix string) { warns = append(warns, api.Check{Status: "warn", Text: text, Fix: fix}) }
	ok := func(text string) { oks = append(oks, api.Check{Status: "ok", Text: text}) }

	rt := f.dht.WAN + f.dht.LAN
	switch {
	case f.dht.Bootstrap > 0 && f.dht.BootstrapConnected == 0 && rt == 0:
		fail("No bootstrap peer reachable and no DHT peers: are you offline?",
			"check this machine's internet connection; kith keeps trying, and peers on your LAN still work")
	case f.dht.Bootstrap == 0 && rt == 0:
		warn("No bootstrap peers are configured, so this node finds others only on the LAN (mDNS) or when given an address or ticket.",
			"to join the public IPFS network, run `kith config set dht.protocol_prefix /ipfs` and `kith config unset network.bootstrap` (the public bootstrap peers), then restart the daemon")
	default:
		ok(fmt.Sprintf("DHT (%s): %s in the routing table, %s", f.dht.Protocol, peersText(rt), map[bool]string{true: "serving queries", false: "as a client"}[f.dht.Server]))
	}

	if rt > 0 || f.dht.BootstrapConnected > 0 {
		// Online (offline, every router fails, and the check above says why).
		routerWarnings(f, warn)
	}

	switch f.reach.Reachability {
	case network.ReachabilityPublic:
		ok("Reachable from the internet: " + reachabilityHow(f))
	case network.ReachabilityPrivate:
		if f.relayClient || f.groupRelays > 0 {
			ok("Behind a NAT or firewall (" + reachabilityHow(f) + "): others reach this node through a relay, then a hole punch")
		} else {
			ok("Behind a NAT or firewall (" + reachabilityHow(f) + "): peers on the LAN, and peers this node dials, can connect")
		}
	default:
		if f.autonat {
			warn("Reachability is not known yet ("+reachabilityHow(f)+").", "wait a minute after start; if it stays unknown, check that bootstrap peers are reachable")
		}
	}

	// forwarded: ports the router forwards here on request, which peers
	// behind any NAT can dial.
	forwarded := f.ports.public()
	if len(forwarded) > 0 {
		ok("The router forwards " + transportsText(forwarded) + " to this node (UPnP or NAT-PMP): peers on the internet dial it there directly, whatever NAT they are behind")
	} else if len(f.ports.byHand) > 0 {
		ok("The router forwards " + transportsText(f.ports.byHand) + " to this node (set in its settings): peers on the internet dial it there directly, whatever NAT they are behind")
	} else if len(f.ports.blocked) > 0 {
		warn("The router says it forwards "+transportsText(f.ports.blocked)+" to this node (UPnP or NAT-PMP), but no peer could dial it back (AutoNAT v2): something between the router and the internet drops it (a second router, the ISP). Peers reach this node through a relay and a hole punch instead.",
			"with a second router of yours in front, forward port "+f.port+" (TCP and UDP) on it too, or put one of the two in bridge mode")
	} else if ra, ok := f.ports.behindAnotherNAT(); ok && f.reach.Reachability != network.ReachabilityPublic {
		warn("The router forwards "+transportsText(f.ports.mapped)+" to this node (UPnP or NAT-PMP), but its own address "+ra.String()+" is not public: another NAT stands in front (the ISP's carrier-grade NAT, or a second router), so peers cannot reach that port.",
			"with a second router of yours in front, forward port "+f.port+" (TCP and UDP) on it too, or put one of the two in bridge mode; behind a carrier-grade NAT, ask the ISP for a public IPv4 address (relays and hole punching work meanwhile)")
	}

	// direct: also the addresses of network.announce_addrs, on the user's
	// word until a peer could not dial one back.
	confirmed := announceAddrs(f.announced, announceReachable)
	direct := slices.Concat(forwarded, confirmed,
		announceAddrs(f.announced, announceUntested), announceAddrs(f.announced, announceName))
	if len(confirmed) > 0 {
		ok("Peers on the internet dial this node at " + transportsText(confirmed) + " (network.announce_addrs): they dialled it back")
	}
	if a := announceAddrs(f.announced, announceUnreachable); len(a) > 0 {
		warn("No peer could dial "+transportsText(a)+" back (network.announce_addrs), so kith gives it out no more.",
			"check that the router forwards that port (TCP for tcp, UDP for udp) to this machine"+parenthesized(f.lanIP)+" at port "+f.port+", and that the address is still this home's; peers try it again within the hour, or when the daemon restarts")
	}

	v6 := ipv6Verdict(f.reach)
	switch f.reach.NAT {
	case reach.NATSymmetric:
		fix := "share within a group that has a publicly reachable member (a NAS with a port forward, a VPS): transfers then go through its relay; or forward port " + f.port + " (TCP and UDP) on your router to this machine" + parenthesized(f.lanIP) +
			", and if the router forwards another port outside, name it in network.announce_addrs"
		switch {
		case f.ports.off:
			fix = "turn port mapping on (`kith config set network.port_mapping true`, then restart the daemon) if your router forwards ports on request (UPnP, NAT-PMP); else " + fix
		case !f.ports.found && !f.ports.looking:
			fix = "if your router can forward ports on request, turn UPnP (or NAT-PMP) on in its settings (kith looks again within 15 minutes, or when the daemon restarts); else " + fix
		}
		switch {
		case len(direct) > 0 || f.reach.Reachability == network.ReachabilityPublic:
			ok("Behind a symmetric NAT (peers see a different port each), but peers dial this node directly: no hole punch needed")
		case f.groupRelays > 0:
			warn("Behind a symmetric NAT (peers see a different port each): hole punching will fail; group transfers go through a group member's relay.", "")
		case v6 != "":
			warn("Behind a symmetric NAT on IPv4 (peers see a different port each): hole punching over IPv4 will fail, so peers with IPv4 only cannot connect to you directly; peers that have IPv6 still can, over it.",
				"for peers with IPv4 only: "+fix)
		default:
			warn("Behind a symmetric NAT (peers see a different port each): hole punching will fail, so peers behind NATs cannot connect to you directly.", fix)
		}
	case reach.NATCone:
		ok("The NAT keeps ports (cone): hole punching can connect you directly to peers behind NATs")
	}
	switch v6 {
	case ipv6Open:
		ok("IPv6 (" + f.reach.IPv6.String() + ") is open: peers that have IPv6 dial this node directly")
	case ipv6Firewalled:
		ok("IPv6 (" + f.reach.IPv6.String() + ") is behind a firewall with no address translation: peers that have IPv6 connect by a hole punch, whatever NAT is in front of IPv4")
	}

	if f.reach.Reachability != network.ReachabilityPublic {
		switch {
		case f.relays == 0 && f.groupRelays == 0 && len(direct) > 0:
			// reachable at the forwarded ports or announced addresses
		case f.relays == 0 && f.groupRelays == 0 && f.relayClient:
			fail("No relay reservation yet: peers on the internet cannot reach this node.",
				"this takes seconds after start when bootstrap peers are reachable; see the DHT line above")
		case f.relays == 0 && f.groupRelays == 0:
			warn("No relay: network.relay_client is off, so peers on the internet cannot reach this node.", "run `kith config set network.relay_client true`, then restart the daemon")
		default:
			ok(fmt.Sprintf("Reachable through %d relay(s) (%d of them a group member's, which carries group transfers)", f.relays+f.groupRelays, f.groupRelays))
		}
		if f.inGroups && f.groupRelays == 0 && !f.groupHasRely && f.reach.NAT == reach.NATSymmetric && len(direct) == 0 {
			warn("No member of your groups offers a relay: if hole punching fails, group transfers cannot reach this node.",
				"add a publicly reachable device (a NAS with port "+fmt.Sprint(DefaultP2PPort)+" forwarded, a VPS) to the group")
		}
	}

	if f.reach.HolePunches > 0 && f.reach.HolePunchOK == 0 {
		warn(fmt.Sprintf("%d hole punch(es) tried, none succeeded (last: %s).", f.reach.HolePunches, f.reach.LastHolePunchError),
			"usually a symmetric NAT on this side or the other; a group member's relay or a port forward gets around it")
	} else if f.reach.HolePunchOK > 0 {
		ok(fmt.Sprintf("Hole punching works: %d of %d succeeded", f.reach.HolePunchOK, f.reach.HolePunches))
	}

	if f.share == 0 && f.reach.Reachability != network.ReachabilityUnknown {
		warn("No address a friend on the internet can dial yet.", "see the relay and reachability lines above")
	}
	return fails, warns, oks
}

// peersText is "1 peer", "2 peers".
func peersText(n int) string {
	if n == 1 {
		return "1 peer"
	}
	return fmt.Sprintf("%d peers", n)
}

// parenthesized is " (s)", or "" for no s.
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
