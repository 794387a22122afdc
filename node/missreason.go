package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
)

// missLookup bounds the DHT query made to explain a failed fetch.
const missLookup = 15 * time.Second

// missReason says in plain words why content could not be fetched: what
// IPFS users otherwise work out by hand with findprovs and swarm peers.
type missReason struct {
	text      string
	fix       string // what to do about it
	connected int    // peers connected when the fetch failed
	providers int    // providers the DHT and the delegated routers named
}

// explainMiss looks at the node's connections and asks the DHT (and the
// delegated routers) who provides c, then picks the most useful
// explanation. within are roots c may be part of (a path inside a folder
// a group shares).
func (n *Node) explainMiss(ctx context.Context, c cid.Cid, within ...cid.Cid) missReason {
	r := missReason{connected: len(n.host.Network().Peers())}
	if k, ok := n.keptOffline(ctx, append([]cid.Cid{c}, within...)); ok {
		return k
	}
	ctx, cancel := context.WithTimeout(ctx, missLookup)
	defer cancel()
	reachable, relayedOnly, hopeless := 0, 0, 0
	var httpFailed []string // HTTP providers that could not be asked, and why
	st := n.tracker.Status()
	for ai := range n.findProviders(ctx, c, 20) {
		if ai.ID == n.host.ID() {
			continue
		}
		r.providers++
		if base, ok := onlyHTTP(ai); ok && n.httpProviders != nil {
			if err := n.httpProviders.failure(ai.ID); err != nil {
				httpFailed = append(httpFailed, err.Error())
			} else if _, ok := n.httpProviders.endpoint(ai.ID); ok {
				reachable++
			} else {
				httpFailed = append(httpFailed, "HTTP provider "+base.Host+" was not asked")
			}
			continue
		}
		conns := n.host.Network().ConnsToPeer(ai.ID)
		if len(conns) == 0 || n.host.Network().Connectedness(ai.ID) != network.Connected {
			if len(conns) > 0 {
				relayedOnly++ // a limited (relayed) connection carries no transfers
				if n.punchHopeless(st, ai.ID) {
					hopeless++
				}
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
			if n.punchHopeless(st, ai.ID) {
				hopeless++
			}
		}
	}
	// symmetric: no hole punch can reach any of them (punchHopeless).
	symmetric := relayedOnly > 0 && hopeless == relayedOnly
	why := "this node is behind a symmetric NAT"
	if st.IPv6.IsValid() {
		why += " on IPv4 and they have no IPv6 address to punch through to"
	}
	unreached := n.ticketMisses.unreached(c, time.Now(), func(p peer.ID) bool {
		return n.host.Network().Connectedness(p) == network.Connected
	})
	switch {
	case len(unreached) > 0 && reachable == 0:
		r.text = ticketMissText(unreached)
		r.fix = "Is their kith running, and online? Run the same command again once it is; `kith doctor` on their side says whether peers can reach it."
	case r.providers == 0 && r.connected == 0:
		r.text = "No peers at all: this node is not connected to any peer, so nobody could be asked for this content."
		r.fix = "Are you offline? `kith doctor` checks the network."
	case r.providers == 0:
		r.text = fmt.Sprintf("No providers found: none of the %d connected peers has this content, and %s nobody else who does.", r.connected, n.providerSources("names", "name"))
		r.fix = "Check that the sharer's kith (or IPFS node) is running, or ask a kith sharer for a ticket (kith add prints one) and get that instead."
	case relayedOnly > 0 && relayedOnly == r.providers && symmetric:
		r.text = fmt.Sprintf("Only relayed connections: %d provider(s) found, reachable only through a stranger's relay, which does not carry transfers, and hole punching fails because %s.", r.providers, why)
		r.fix = "Turn UPnP (or NAT-PMP) on in your router or theirs (kith there sees it within 15 minutes, or at once when restarted; a port the router forwards needs no hole punch), share within a group that has a publicly reachable member (its relay carries group transfers), or forward port 4101 (TCP and UDP) on your router to this machine."
	case relayedOnly > 0 && relayedOnly == r.providers:
		r.text = fmt.Sprintf("Only relayed connections: %d provider(s) found, reachable only through a stranger's relay, which does not carry transfers, and hole punching to them has not succeeded.", r.providers)
		r.fix = "They may be behind a symmetric NAT: UPnP (or NAT-PMP) on their router gives them a port peers dial directly, and a group with a publicly reachable member carries transfers through its relay; `kith doctor` on their side tells."
	case reachable == 0 && len(httpFailed) > 0:
		r.text = fmt.Sprintf("Providers found but unreachable: %s %d provider(s), but none of them could be asked (%s).", n.providerSources("names", "name"), r.providers, strings.Join(httpFailed, "; "))
		r.fix = "An HTTP provider must answer over HTTPS with a certificate this machine trusts; try again later, or ask the sharer for a ticket."
	case reachable == 0:
		r.text = fmt.Sprintf("Providers found but unreachable: %s %d provider(s), but none of them could be dialled.", n.providerSources("names", "name"), r.providers)
		r.fix = "They may be offline; ask the sharer for a fresh ticket, and run `kith doctor` on both sides."
	default:
		r.text = fmt.Sprintf("Providers found, but none of the %d reachable ones has every block of this content.", reachable)
		r.fix = "Someone may hold only part of it; try again when the sharer is online."
	}
	return r
}

// missError is a fetch that found nobody to fetch from, explained. It
// matches blockstore.ErrNotFound, so it keeps the API's "not found" kind.
type missError struct{ reason missReason }

func (e *missError) Error() string {
	if e.reason.fix == "" {
		return e.reason.text
	}
	return e.reason.text + " " + e.reason.fix
}

func (e *missError) Is(target error) bool { return target == blockstore.ErrNotFound }
