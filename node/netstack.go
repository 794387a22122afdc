package node

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/node/reach"
)

// How the node follows its network: reachability decides the relay
// service and group relay reservations; waking from sleep or an address
// change makes it rejoin the DHT and re-announce its content, since
// records on the network point at addresses that may have stopped working.
const (
	// groupRelayEvery is how often reservations on group members' relays
	// are checked (renewed, taken on a member that became a relay).
	groupRelayEvery = 30 * time.Second
	// wakeCheckEvery and sleepJump detect a laptop that slept: the wall
	// clock moves on during suspend, the monotonic clock does not.
	wakeCheckEvery = 30 * time.Second
	sleepJump      = time.Minute
	// deadConnCheck is how often connections are checked against the
	// machine's addresses: one whose local address is gone (a new DHCP
	// lease, another access point) can never carry a packet again, and
	// waiting for its keepalive to time out would keep a laptop cut off
	// from its group for half a minute or more.
	deadConnCheck = 2 * time.Second
	// rejoinSettle lets a burst of address changes (a Wi-Fi handover
	// removes, then adds) settle before rejoining.
	rejoinSettle = 5 * time.Second
)

// memberIndex answers the relay service's membership questions from the
// node's groups.
type memberIndex struct{ n *Node }

func (m memberIndex) IsMember(p peer.ID) bool {
	gs := m.n.groupsReady.Load()
	if gs == nil {
		return false
	}
	for _, g := range gs.list() {
		if g.net.HasMember(p) {
			return true
		}
	}
	return false
}

func (m memberIndex) ShareGroup(a, b peer.ID) bool {
	gs := m.n.groupsReady.Load()
	if gs == nil {
		return false
	}
	for _, g := range gs.list() {
		if g.net.HasMember(a) && g.net.HasMember(b) {
			return true
		}
	}
	return false
}

// reachabilityChanged runs on every decision of the reach.Tracker.
func (n *Node) reachabilityChanged(r network.Reachability) {
	n.log.Info("reachability", "now", reach.Name(r))
	if err := n.relaySvc.SetReachability(r); err != nil {
		n.log.Warn("relay service", "err", err)
	}
	if r == network.ReachabilityPublic {
		n.groupRes.Drop()
	}
	n.rejoinSoon()
}

// groupRelayLoop keeps reservations on the relays of group members while
// this node is not publicly reachable.
func (n *Node) groupRelayLoop(ctx context.Context) {
	t := time.NewTicker(groupRelayEvery)
	defer t.Stop()
	for {
		if n.tracker.Status().Reachability != network.ReachabilityPublic {
			n.groupRes.Refresh(ctx, n.groupRelayCandidates())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.groupRelayNow:
		}
	}
}

// groupRelayCandidates are connected group members that offer a relay.
func (n *Node) groupRelayCandidates() []peer.AddrInfo {
	var out []peer.AddrInfo
	mi := memberIndex{n}
	for _, p := range n.host.Network().Peers() {
		if !mi.IsMember(p) {
			continue
		}
		if ok, _ := n.host.Peerstore().SupportsProtocols(p, proto.ProtoIDv2Hop); len(ok) == 0 {
			continue
		}
		if !hasDirectConn(n.host.Network().ConnsToPeer(p)) {
			continue
		}
		out = append(out, n.host.Peerstore().PeerInfo(p))
	}
	return out
}

func hasDirectConn(cs []network.Conn) bool {
	for _, c := range cs {
		if !isRelayed(c.RemoteMultiaddr()) {
			return true
		}
	}
	return false
}

// relayCandidates offers autorelay the peers most likely to relay: public
// DHT servers in the routing table (public Amino and kith nodes offer the
// limited relay), then other connected peers with public addresses.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	if n.host == nil || n.dht == nil {
		return out
	}
	seen := map[peer.ID]bool{n.host.ID(): true}
	offer := func(ai peer.AddrInfo) bool {
		if seen[ai.ID] || len(out) == num {
			return len(out) < num
		}
		seen[ai.ID] = true
		if !slices.ContainsFunc(ai.Addrs, manet.IsPublicAddr) {
			return true
		}
		out <- ai
		return len(out) < num
	}
	for _, ai := range n.dht.RoutingPeers() {
		if !offer(ai) {
			return out
		}
	}
	for _, p := range n.host.Network().Peers() {
		if !offer(n.host.Peerstore().PeerInfo(p)) {
			return out
		}
	}
	return out
}

// rejoinSoon asks watchNetwork to rejoin the DHT and re-announce.
func (n *Node) rejoinSoon() {
	select {
	case n.rejoin <- struct{}{}:
	default:
	}
}

// watchNetwork rejoins after sleep or an address change.
func (n *Node) watchNetwork(ctx context.Context) {
	sub, err := n.host.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated), eventbus.Name("kith network watch"))
	if err != nil {
		n.log.Warn("cannot watch address changes", "err", err)
		return
	}
	defer sub.Close()
	wake := time.NewTicker(wakeCheckEvery)
	defer wake.Stop()
	dead := time.NewTicker(deadConnCheck)
	defer dead.Stop()
	last := time.Now()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-sub.Out():
			if ev, ok := e.(event.EvtLocalAddressesUpdated); ok && lostDirectAddr(ev) {
				n.tracker.Forget()
				n.groupRes.Drop()
				settle = time.After(rejoinSettle)
			}
		case now := <-wake.C:
			// Round(0) strips the monotonic reading: wall minus monotonic
			// elapsed is the time spent suspended.
			if now.Round(0).Sub(last.Round(0))-now.Sub(last) > sleepJump {
				n.log.Info("woke from sleep: rejoining the network")
				settle = time.After(rejoinSettle)
			}
			last = now
		case <-dead.C:
			if n.closeDeadConns() > 0 {
				n.tracker.Forget()
				n.groupRes.Drop()
				settle = time.After(time.Second)
				n.background(n.redialKept)
			}
		case <-n.rejoin:
			settle = time.After(rejoinSettle)
		case <-settle:
			settle = nil
			n.rejoinNetwork(ctx)
		}
	}
}

// closeDeadConns closes the direct connections that went with an address
// this machine lost, and returns how many. A connection bound to an IP no
// interface has any more is dead; so are QUIC connections, which report
// the unspecified listen address as their local one and so cannot be told
// apart: when any address was lost since the last check, they are all
// closed (as Syncthing and Tailscale rebind on a link change), and peers
// are redialled from the new address.
func (n *Node) closeDeadConns() int {
	ifaces, err := manet.InterfaceMultiaddrs()
	if err != nil {
		return 0
	}
	have := map[string]bool{}
	for _, a := range ifaces {
		if ip, err := manet.ToIP(a); err == nil && !ip.IsLoopback() {
			have[ip.String()] = true
		}
	}
	lost := false
	for ip := range n.ifaceIPs {
		if !have[ip] {
			lost = true
		}
	}
	first := n.ifaceIPs == nil
	n.ifaceIPs = have
	if first {
		return 0
	}
	closed := 0
	for _, c := range n.host.Network().Conns() {
		if isRelayed(c.RemoteMultiaddr()) {
			continue
		}
		ip, err := manet.ToIP(c.LocalMultiaddr())
		if err != nil || ip.IsLoopback() {
			continue
		}
		if have[ip.String()] || (ip.IsUnspecified() && !lost) {
			continue
		}
		_ = c.Close()
		closed++
	}
	if closed > 0 {
		n.log.Info("this machine's address changed: closed connections through the old one", "closed", closed)
	}
	return closed
}

// redialKept dials, at once and in parallel, the peers kept connected
// (group members, ticket peers) after the machine's address changed,
// rather than waiting for the peering service's back-off; a peer reached
// only through a relay then gets its hole punch.
func (n *Node) redialKept(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ai := range n.peering.ListPeers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, ticketDialTimeout)
			defer cancel()
			if err := n.host.Connect(cctx, peer.AddrInfo{ID: ai.ID}); err == nil {
				n.awaitDirect(cctx, peer.AddrInfo{ID: ai.ID})
			}
		}()
	}
	wg.Wait()
}

// lostDirectAddr reports whether an address update removed a direct (not
// relayed) address: the node moved or its router changed.
func lostDirectAddr(ev event.EvtLocalAddressesUpdated) bool {
	for _, u := range ev.Removed {
		if !isRelayed(u.Address) {
			return true
		}
	}
	return false
}

// rejoinNetwork bootstraps the DHT again, re-announces every provided key
// and renews group relay reservations.
func (n *Node) rejoinNetwork(ctx context.Context) {
	select {
	case n.groupRelayNow <- struct{}{}:
	default:
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := n.dht.Bootstrap(cctx); err != nil && ctx.Err() == nil {
		n.log.Debug("rejoin: DHT bootstrap", "err", err)
	}
	if err := n.dht.Reprovide(cctx); err != nil && ctx.Err() == nil {
		n.log.Debug("rejoin: reprovide", "err", err)
	}
}

// Upgrading relayed connections. A group member or a ticket's peer reached
// only through a stranger's relay cannot carry a transfer; the hole punch
// that should follow is attempted once per relayed connection, by the side
// that accepted it, and a punch can be missed (the other side had just
// started or just changed address). punchLoop notices such peers and
// redials them through the relay, which makes the other side try again;
// or, for a member that a group relay reaches, redials it through that
// relay.
const (
	punchCheckEvery = 5 * time.Second
	// punchBudget bounds the redials per peer within punchBudgetWindow:
	// behind a NAT that cannot be punched they only cost.
	punchBudget       = 3
	punchBudgetWindow = 10 * time.Minute
)

type punchState struct {
	limitedSince time.Time
	tries        []time.Time
}

func (n *Node) punchLoop(ctx context.Context) {
	t := time.NewTicker(punchCheckEvery)
	defer t.Stop()
	state := map[peer.ID]*punchState{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		symmetric := n.tracker.Status().NAT == reach.NATSymmetric
		now := time.Now()
		wanted := n.wantedPeers()
		for p := range state {
			if !wanted[p] {
				delete(state, p)
			}
		}
		for p := range wanted {
			if !onlyLimited(n.host.Network().ConnsToPeer(p)) {
				if st := state[p]; st != nil {
					st.limitedSince = time.Time{}
				}
				continue
			}
			st := state[p]
			if st == nil {
				st = &punchState{}
				state[p] = st
			}
			if st.limitedSince.IsZero() {
				st.limitedSince = now
				continue
			}
			st.tries = slices.DeleteFunc(st.tries, func(at time.Time) bool { return now.Sub(at) > punchBudgetWindow })
			if now.Sub(st.limitedSince) < punchWait || len(st.tries) >= punchBudget {
				continue
			}
			// Behind a symmetric NAT no punch will come; a redial helps
			// only if it can go through a group member's relay (the dial
			// gater then keeps it off strangers' relays).
			if symmetric && !n.hasGroupCircuit(p) {
				continue
			}
			st.tries = append(st.tries, now)
			st.limitedSince = time.Time{}
			n.background(func(ctx context.Context) {
				ai := peer.AddrInfo{ID: p}
				n.log.Debug("only a limited relayed connection; redialling for a hole punch", "peer", p)
				_ = n.host.Network().ClosePeer(p)
				cctx, cancel := context.WithTimeout(ctx, ticketDialTimeout)
				defer cancel()
				if err := n.host.Connect(cctx, ai); err == nil {
					n.awaitDirect(cctx, ai)
				}
			})
		}
	}
}

// wantedPeers are the peers worth a direct connection: group members and
// the peers of recently used tickets.
func (n *Node) wantedPeers() map[peer.ID]bool {
	out := map[peer.ID]bool{}
	for _, ai := range n.keep.want(time.Now()) {
		out[ai.ID] = true
	}
	if gs := n.groupsReady.Load(); gs != nil {
		for _, p := range n.host.Network().Peers() {
			if (memberIndex{n}).IsMember(p) {
				out[p] = true
			}
		}
	}
	return out
}

// staleAfter is how old a direct connection must be before a relayed
// connection from the same peer is taken as proof that it died (a parallel
// dial may open both at once).
const staleAfter = 10 * time.Second

// dropStaleDirect is a network notifiee: a peer that dials us through a
// relay while we hold a direct connection to it has lost that connection on
// its side (it moved, its router restarted); ours is a corpse that would
// swallow our writes until a keepalive times out, half a minute or more,
// and it stops the hole punch that would replace it ("already
// connected"). Close it.
func (n *Node) dropStaleDirect(_ network.Network, c network.Conn) {
	if c.Stat().Direction != network.DirInbound || !isRelayed(c.RemoteMultiaddr()) {
		return
	}
	p := c.RemotePeer()
	for _, old := range n.host.Network().ConnsToPeer(p) {
		if isRelayed(old.RemoteMultiaddr()) || time.Since(old.Stat().Opened) < staleAfter {
			continue
		}
		n.log.Debug("peer came back through a relay: closing our old direct connection", "peer", p, "addr", old.RemoteMultiaddr())
		_ = old.Close()
	}
}
