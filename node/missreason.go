package node

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
)

// missLookup bounds the DHT query made to explain a failed fetch.
const missLookup = 15 * time.Second

// missReason says in plain words why content could not be fetched: what
// IPFS users otherwise work out by hand with findprovs and swarm peers.
type missReason struct {
	text      string
	connected int // peers connected when the fetch failed
	providers int // providers the DHT named
}

// explainMiss looks at the node's connections and asks the DHT who
// provides c, then picks the most useful explanation.
func (n *Node) explainMiss(ctx context.Context, c cid.Cid) missReason {
	r := missReason{connected: len(n.host.Network().Peers())}
	ctx, cancel := context.WithTimeout(ctx, missLookup)
	defer cancel()
	reachable, relayedOnly := 0, 0
	for ai := range n.dht.FindProviders(ctx, c, 20) {
		if ai.ID == n.host.ID() {
			continue
		}
		r.providers++
		conns := n.host.Network().ConnsToPeer(ai.ID)
		if len(conns) == 0 || n.host.Network().Connectedness(ai.ID) != network.Connected {
			if len(conns) > 0 {
				relayedOnly++ // a limited (relayed) connection carries no transfers
			}
			continue
		}
		reachable++
		direct := false
		for _, cn := range conns {
			if !isRelayed(cn.RemoteMultiaddr()) {
				direct = true
			}
		}
		if !direct {
			relayedOnly++
		}
	}
	switch {
	case r.providers == 0 && r.connected == 0:
		r.text = "No providers found: this node is not connected to any peer, and the DHT names nobody who has this content."
	case r.providers == 0:
		r.text = fmt.Sprintf("No providers found: none of the %d connected peers has this content, and the DHT names nobody else who does.", r.connected)
	case relayedOnly > 0 && relayedOnly == r.providers:
		r.text = fmt.Sprintf("Only relayed connections: %d providers were found, but they are reachable only through a relay, which does not carry file transfers.", r.providers)
	case reachable == 0:
		r.text = fmt.Sprintf("Providers found but unreachable: the DHT names %d providers, but none of them could be dialled.", r.providers)
	default:
		r.text = fmt.Sprintf("Providers found, but none of the %d reachable ones has every block of this content.", reachable)
	}
	return r
}
