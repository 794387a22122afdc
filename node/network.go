package node

import (
	"context"
	"errors"
	"fmt"
	"github.com/ipfs/boxo/ipns"
	"os"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/web/api"
)

// newDHT starts Kademlia discovery with the config's network, mode and
// bootstrap peers, keeping its records and routing table in ds (the repo).
func newDHT(ctx context.Context, h host.Host, cfg Config, ds datastore.Batching) (*dht.DHT, error) {
	boot, err := parseAddrInfos(cfg.Network.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("config network.bootstrap: %w", err)
	}
	mode := map[string]dht.Mode{"auto": dht.ModeAuto, "server": dht.ModeServer, "client": dht.ModeClient}[cfg.DHT.Mode]
	d, err := dht.New(ctx, h,
		dht.WithMode(mode),
		dht.WithProtocolPrefix(protocol.ID(cfg.DHT.ProtocolPrefix)),
		dht.WithDual(cfg.DHT.Dual),
		dht.WithDatastore(ds),
		dht.WithBootstrapPeers(boot),
		dht.WithReprovideInterval(time.Duration(cfg.DHT.ReprovideInterval)),
	)
	if err != nil {
		return nil, fmt.Errorf("start DHT: %w", err)
	}
	return d, nil
}

func parseAddrInfos(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a multiaddr ending in /p2p/ID: %w", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

// joinNetwork makes the DHT's set of announced keys match the pins that
// should be announced (the config may have changed, a pin may have been
// made private), then bootstraps, so a restarted node is findable again
// without re-adding anything.
func (n *Node) joinNetwork(ctx context.Context) {
	if pins, err := n.store.Pins(ctx); err == nil {
		// A root is announced if any of its owners' records is (the
		// user's public pin), whatever the groups that keep it too.
		announce := map[cid.Cid]bool{}
		for _, p := range pins {
			announce[p.Cid] = announce[p.Cid] || n.announced(p)
		}
		for _, root := range blockstore.PinnedRoots(pins) {
			var err error
			if announce[root] {
				err = n.dht.Provide(ctx, root)
			} else {
				err = n.dht.StopProviding(ctx, root)
			}
			if err != nil && ctx.Err() == nil {
				n.log.Debug("provide pinned root", "cid", root, "err", err)
			}
		}
	}
	if err := n.dht.Bootstrap(ctx); err != nil && ctx.Err() == nil {
		if errors.Is(err, dht.ErrNoBootstrapPeer) {
			n.log.Warn("no bootstrap peer reachable: offline? kith keeps trying, and peers on the LAN still work", "dials", dialFailures(err, 5))
		} else {
			n.log.Warn("DHT bootstrap", "err", err)
		}
	}
}

// announced says whether a pin is announced in the DHT: content a person
// added or pinned is (as in IPFS), unless they asked for it to be private
// or turned announcing off; copies a group placed never are.
func (n *Node) announced(p blockstore.Pin) bool {
	return n.cfg.DHT.Announce && !p.Private && p.Owner.IsUser()
}

// announce tells the DHT about a pin in the background: an add or pin
// does not wait for a DHT walk, and a failure only delays discovery until
// the next reprovide.
func (n *Node) announce(p blockstore.Pin) {
	if !n.announced(p) {
		return
	}
	n.background(func(ctx context.Context) {
		if err := n.dht.Provide(ctx, p.Cid); err != nil && ctx.Err() == nil {
			n.log.Debug("provide", "cid", p.Cid, "err", err)
		}
	})
}

// reannounce follows a user pin rewritten as p (over old, when had): it is
// announced, or, made private, no longer provided.
func (n *Node) reannounce(ctx context.Context, old blockstore.Pin, had bool, p blockstore.Pin) {
	n.announce(p)
	if had && n.announced(old) && !n.announced(p) {
		n.stopProviding(ctx, p.Cid)
	}
}

// mdnsNotifee connects to kith peers found on the LAN.
type mdnsNotifee struct{ n *Node }

// lanDialDelays are the waits before each dial to a peer mDNS found, while
// it is not connected. mDNS reports a peer once for as long as its record
// lives (an hour), so a single failed dial (the peer's listener not up yet,
// a busy machine, a handshake cut short) would leave two laptops on one LAN
// apart until then.
var lanDialDelays = []time.Duration{0, 2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second}

func (m *mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.host.ID() {
		return
	}
	m.n.log.Debug("peer found on the LAN", "peer", ai.ID, "addrs", addrStrings(ai.Addrs))
	m.n.background(func(ctx context.Context) { m.n.dialLANPeer(ctx, ai) })
}

// dialLANPeer dials a peer found on the LAN until it is connected, waiting
// lanDialDelays between tries. The dials are direct and skip libp2p's
// backoff of addresses that failed a moment ago.
func (n *Node) dialLANPeer(ctx context.Context, ai peer.AddrInfo) {
	var err error
	for try, delay := range lanDialDelays {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if n.host.Network().Connectedness(ai.ID) == network.Connected {
			return
		}
		dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "found on the LAN"), 10*time.Second)
		err = n.host.Connect(dctx, ai)
		cancel()
		if err == nil {
			n.log.Debug("connected to LAN peer", "peer", ai.ID, "try", try+1)
			return
		}
		if ctx.Err() != nil {
			return
		}
		n.log.Debug("connect to LAN peer", "peer", ai.ID, "try", try+1, "err", err)
	}
	n.log.Info("could not connect to a peer found on the LAN", "peer", ai.ID, "tries", len(lanDialDelays), "err", err)
}

func addrStrings(addrs []ma.Multiaddr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

// ID describes this node.
func (n *Node) ID(ctx context.Context) (api.ID, error) {
	listen, _ := n.host.Network().InterfaceListenAddresses()
	share, lan, _ := n.shareAddrs()
	self := ma.StringCast("/p2p/" + n.host.ID().String())
	withID := func(as []ma.Multiaddr) []string {
		out := make([]string, 0, len(as))
		for _, a := range as {
			out = append(out, a.Encapsulate(self).String())
		}
		return out
	}
	home, _ := os.UserHomeDir()
	return api.ID{
		Home:         home,
		Share:        withID(share),
		LAN:          withID(lan),
		PeerID:       n.host.ID().String(),
		IPNSName:     ipns.NameFromPeer(n.host.ID()).String(),
		Version:      BuildVersion(),
		Repo:         n.repo.dir,
		API:          n.APIAddr(),
		Listen:       addrStrings(listen),
		Addresses:    addrStrings(n.host.Addrs()),
		Reachability: n.reachability(),
		DHTPeers:     n.dht.RoutingTableSize(),
	}, nil
}

// Peers lists the connections to peers (a peer reached directly and
// through a relay has two rows), with the bytes kith's protocols moved on
// each.
func (n *Node) Peers(ctx context.Context) ([]api.Peer, error) {
	var out []api.Peer
	names := n.memberNames()
	for _, c := range n.host.Network().Conns() {
		p := c.RemotePeer()
		addr := c.RemoteMultiaddr()
		bytesIn, bytesOut := n.connBytes.get(c)
		info := api.Peer{
			ID:        p.String(),
			Addr:      addr.String(),
			Relayed:   isRelayed(addr),
			Transport: transportOf(addr),
			Direction: strings.ToLower(c.Stat().Direction.String()),
			LatencyMs: float64(n.host.Peerstore().LatencyEWMA(p)) / float64(time.Millisecond),
			BytesIn:   bytesIn,
			BytesOut:  bytesOut,
			Limited:   c.Stat().Limited,
			Name:      names[p],
		}
		if av, err := n.host.Peerstore().Get(p, "AgentVersion"); err == nil {
			info.Agent, _ = av.(string)
		}
		out = append(out, info)
	}
	if out == nil {
		out = []api.Peer{}
	}
	return out, nil
}

func isRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

func transportOf(a ma.Multiaddr) string {
	for _, p := range []struct {
		code int
		name string
	}{{ma.P_QUIC_V1, "quic"}, {ma.P_WEBTRANSPORT, "webtransport"}, {ma.P_TCP, "tcp"}} {
		if _, err := a.ValueForProtocol(p.code); err == nil {
			return p.name
		}
	}
	return "other"
}

// Connect dials a peer by a multiaddr ending in /p2p/ID.
func (n *Node) Connect(ctx context.Context, addr string) (api.PeerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ai, err := peer.AddrInfoFromString(addr)
	if err != nil {
		// A bare peer ID: its addresses come from the peerstore or the DHT.
		p, perr := peer.Decode(strings.TrimPrefix(addr, "/p2p/"))
		if perr != nil {
			return api.PeerInfo{}, fmt.Errorf("%q is neither a peer ID nor a multiaddr ending in /p2p/ID: %w", addr, api.ErrInvalid)
		}
		ai = &peer.AddrInfo{ID: p}
		if len(n.host.Peerstore().Addrs(p)) > 0 {
			n.clearBackoff(p)
			if err := n.host.Connect(ctx, *ai); err == nil {
				return toPeerInfo(n.host.Peerstore().PeerInfo(p)), nil
			}
			// The addresses known here are stale (it moved): ask the DHT.
		}
		n.dht.Forget(p)
		found, err := n.dht.FindPeer(ctx, p)
		if err != nil {
			return api.PeerInfo{}, fmt.Errorf("no working address known for %s and the DHT did not find it (%v): give a full address (/ip4/.../p2p/ID) or a ticket: %w", p, err, api.ErrUnavailable)
		}
		ai = &found
	}
	n.clearBackoff(ai.ID)
	if err := n.host.Connect(ctx, *ai); err != nil {
		return api.PeerInfo{}, fmt.Errorf("connect to %s: %s: %w", ai.ID, dialReason(err), api.ErrUnavailable)
	}
	return toPeerInfo(n.host.Peerstore().PeerInfo(ai.ID)), nil
}

// clearBackoff forgets the failed dials to p: a person who asks to connect
// again (they started the other daemon, fixed an address) means now, not
// once the swarm's backoff of the last failure has run out.
func (n *Node) clearBackoff(p peer.ID) {
	if sw, ok := n.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p)
	}
}

func toPeerInfo(ai peer.AddrInfo) api.PeerInfo {
	return api.PeerInfo{ID: ai.ID.String(), Addrs: addrStrings(ai.Addrs)}
}

// FindProviders asks the DHT and the delegated routers who provides c.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid, max int) ([]api.PeerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out := []api.PeerInfo{}
	for ai := range n.findProviders(ctx, c, max) {
		out = append(out, toPeerInfo(ai))
	}
	return out, nil
}

// FindPeer asks the DHT where a peer is.
func (n *Node) FindPeer(ctx context.Context, id string) (api.PeerInfo, error) {
	p, err := peer.Decode(id)
	if err != nil {
		return api.PeerInfo{}, fmt.Errorf("%q is not a peer ID: %w", id, api.ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ai, err := n.dht.FindPeer(ctx, p)
	if err != nil {
		return api.PeerInfo{}, fmt.Errorf("find peer %s: %v: %w", p, err, api.ErrUnavailable)
	}
	return toPeerInfo(ai), nil
}
