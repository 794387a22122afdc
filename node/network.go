package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/web/api"
)

// newDHT starts Kademlia discovery with the config's mode and bootstrap peers.
func newDHT(ctx context.Context, h host.Host, cfg Config) (*dht.DHT, error) {
	boot, err := parseAddrInfos(cfg.Network.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("config network.bootstrap: %w", err)
	}
	mode := map[string]dht.Mode{"auto": dht.ModeAuto, "server": dht.ModeServer, "client": dht.ModeClient}[cfg.DHT.Mode]
	d, err := dht.New(ctx, h,
		dht.WithMode(mode),
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

// joinNetwork bootstraps the DHT and announces every pinned root, so a
// restarted node is findable again without re-adding anything.
func (n *Node) joinNetwork(ctx context.Context) {
	if err := n.dht.Bootstrap(ctx); err != nil && ctx.Err() == nil {
		n.log.Warn("DHT bootstrap", "err", err)
	}
	pins, err := n.store.Pins(ctx)
	if err != nil {
		return
	}
	for _, p := range pins {
		if err := n.dht.Provide(ctx, p.Cid); err != nil && ctx.Err() == nil {
			n.log.Debug("provide pinned root", "cid", p.Cid, "err", err)
		}
	}
}

// provide announces c in the background: an add or pin does not wait for a
// DHT walk, and a failure only delays discovery until the next reprovide.
func (n *Node) provide(c cid.Cid) {
	n.background(func(ctx context.Context) {
		if err := n.dht.Provide(ctx, c); err != nil && ctx.Err() == nil {
			n.log.Debug("provide", "cid", c, "err", err)
		}
	})
}

// relayCandidates offers autorelay the peers the node knows, DHT servers
// first among them being whoever it is connected to.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	if n.host == nil {
		return out
	}
	for _, p := range n.host.Network().Peers() {
		if len(out) == num {
			break
		}
		out <- n.host.Peerstore().PeerInfo(p)
	}
	return out
}

// mdnsNotifee connects to kith peers found on the LAN.
type mdnsNotifee struct{ n *Node }

func (m *mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.host.ID() {
		return
	}
	m.n.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := m.n.host.Connect(ctx, ai); err != nil {
			m.n.log.Debug("connect to LAN peer", "peer", ai.ID, "err", err)
		}
	})
}

// reachability tracks what AutoNAT concluded about this node.
type reachability struct {
	mu   sync.Mutex
	v    network.Reachability
	sub  event.Subscription
	done chan struct{}
}

func watchReachability(h host.Host) *reachability {
	r := &reachability{done: make(chan struct{})}
	sub, err := h.EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
	if err != nil {
		close(r.done)
		return r
	}
	r.sub = sub
	go func() {
		defer close(r.done)
		for ev := range sub.Out() {
			r.mu.Lock()
			r.v = ev.(event.EvtLocalReachabilityChanged).Reachability
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *reachability) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.v {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}

func (r *reachability) close() {
	if r.sub != nil {
		r.sub.Close()
	}
	<-r.done
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
	return api.ID{
		PeerID:       n.host.ID().String(),
		Version:      Version,
		Repo:         n.repo.dir,
		API:          n.APIAddr(),
		Listen:       addrStrings(listen),
		Addresses:    addrStrings(n.host.Addrs()),
		Reachability: n.reach.String(),
		DHTPeers:     n.dht.RoutingTableSize(),
	}, nil
}

// Peers lists the connected peers with how they are connected.
func (n *Node) Peers(ctx context.Context) ([]api.Peer, error) {
	var out []api.Peer
	for _, c := range n.host.Network().Conns() {
		p := c.RemotePeer()
		addr := c.RemoteMultiaddr()
		st := n.bw.GetBandwidthForPeer(p)
		info := api.Peer{
			ID:        p.String(),
			Addr:      addr.String(),
			Relayed:   isRelayed(addr),
			Transport: transportOf(addr),
			Direction: strings.ToLower(c.Stat().Direction.String()),
			LatencyMs: float64(n.host.Peerstore().LatencyEWMA(p)) / float64(time.Millisecond),
			BytesIn:   st.TotalIn,
			BytesOut:  st.TotalOut,
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
	ai, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return api.PeerInfo{}, fmt.Errorf("%q is not a multiaddr ending in /p2p/ID: %w", addr, api.ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := n.host.Connect(ctx, *ai); err != nil {
		return api.PeerInfo{}, fmt.Errorf("connect to %s: %v: %w", ai.ID, err, api.ErrUnavailable)
	}
	return toPeerInfo(n.host.Peerstore().PeerInfo(ai.ID)), nil
}

func toPeerInfo(ai peer.AddrInfo) api.PeerInfo {
	return api.PeerInfo{ID: ai.ID.String(), Addrs: addrStrings(ai.Addrs)}
}

// FindProviders asks the DHT who provides c.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid, max int) ([]api.PeerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out := []api.PeerInfo{}
	for ai := range n.dht.FindProviders(ctx, c, max) {
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
