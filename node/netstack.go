package node

import (
	"context"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/node/reach"
)

// groupRelayEvery is how often reservations on group members' relays are
// checked (renewed, taken on a member that became a relay).
const groupRelayEvery = 30 * time.Second

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
		if n.tracker.Reachability() != network.ReachabilityPublic {
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
		if !hasDirectConn(n.host.Network().ConnsToPeer(p)) {
			continue
		}
		if ok, _ := n.host.Peerstore().SupportsProtocols(p, proto.ProtoIDv2Hop); len(ok) == 0 {
			n.confirmProtocol(p, proto.ProtoIDv2Hop) // for the next round
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
		// autorelay rejects a candidate whose identify does not list the
		// relay protocol, and tries it again only after relayBackoff.
		n.confirmProtocol(ai.ID, proto.ProtoIDv2Hop)
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
