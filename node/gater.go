package node

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// groupPathGater steers dials to group members onto their group's relay.
// A member behind a NAT has two kinds of relay circuit: through a
// stranger's relay (limited: it starts a hole punch but carries no
// transfer) and through a publicly reachable member's relay (unlimited).
// libp2p dials every address at once and keeps the first connection, and
// it never dials again while a limited one is up, so a member whose hole
// punch fails (symmetric NAT) would stay stuck behind a limited circuit.
// When a member's addresses include a circuit through a relay of one of
// its groups, the other circuits are not dialled. A connection gater set
// for tests (NetworkConfig.gater) is consulted first.
type groupPathGater struct {
	test connmgr.ConnectionGater
	node atomic.Pointer[Node]
}

var _ connmgr.ConnectionGater = (*groupPathGater)(nil)

func (g *groupPathGater) InterceptPeerDial(p peer.ID) bool {
	return g.test == nil || g.test.InterceptPeerDial(p)
}

func (g *groupPathGater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	if g.test != nil && !g.test.InterceptAddrDial(p, a) {
		return false
	}
	n := g.node.Load()
	if n == nil || !isRelayed(a) {
		return true
	}
	relay, ok := relayOf(a)
	if !ok {
		return true
	}
	mi := memberIndex{n}
	if !mi.IsMember(p) || mi.ShareGroup(p, relay) {
		return true
	}
	return !n.hasGroupCircuit(p) // a group relay reaches p: use that one
}

// hasGroupCircuit reports whether one of p's known addresses is a circuit
// through a relay that shares a group with p (whose relay carries
// transfers between members).
func (n *Node) hasGroupCircuit(p peer.ID) bool {
	mi := memberIndex{n}
	for _, a := range n.host.Peerstore().Addrs(p) {
		if r, ok := relayOf(a); ok && mi.ShareGroup(p, r) {
			return true
		}
	}
	return false
}

func (g *groupPathGater) InterceptAccept(cm network.ConnMultiaddrs) bool {
	return g.test == nil || g.test.InterceptAccept(cm)
}

func (g *groupPathGater) InterceptSecured(d network.Direction, p peer.ID, cm network.ConnMultiaddrs) bool {
	return g.test == nil || g.test.InterceptSecured(d, p, cm)
}

func (g *groupPathGater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	if g.test == nil {
		return true, 0
	}
	return g.test.InterceptUpgraded(c)
}

// relayOf returns the relay's peer ID in a circuit address
// (.../p2p/RELAY/p2p-circuit[/p2p/TARGET]).
func relayOf(a ma.Multiaddr) (peer.ID, bool) {
	var relay peer.ID
	found := false
	for _, c := range a {
		switch c.Code() {
		case ma.P_P2P:
			if !found {
				if id, err := peer.IDFromBytes(c.RawValue()); err == nil {
					relay = id
				}
			}
		case ma.P_CIRCUIT:
			found = true
		}
	}
	return relay, found && relay != ""
}
