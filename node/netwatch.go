package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	manet "github.com/multiformats/go-multiaddr/net"
)

// How the node follows its network: reachability decides the relay
// service and group relay reservations; waking from sleep or an address
// change makes it rejoin the DHT and re-announce its content, since
// records on the network point at addresses that may have stopped working.
const (
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
	// lonelyFirst and lonelyMax bound the wait before a node left without
	// any peer rejoins (doubling in between).
	lonelyFirst = 4 * time.Second
	lonelyMax   = 2 * time.Minute
	// rejoinSettle lets a burst of address changes (a Wi-Fi handover
	// removes, then adds) settle before rejoining.
	rejoinSettle = 5 * time.Second
	// portMapRetry is how often a node whose router forwarded nothing
	// looks again (someone may have turned UPnP on), as Syncthing does.
	portMapRetry = 15 * time.Minute
)

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
	remap := time.NewTicker(portMapRetry)
	defer remap.Stop()
	last := time.Now()
	var settle <-chan time.Time
	// A node with bootstrap peers that finds itself with no peer at all
	// (its servers restarted, the network came back) rejoins, first after
	// lonelyFirst, then less and less often.
	lonelyWait, lonelyAt := lonelyFirst, time.Time{}
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
		case now := <-dead.C:
			if n.lonely() {
				switch {
				case lonelyAt.IsZero():
					lonelyAt = now.Add(lonelyWait)
				case now.After(lonelyAt) && n.rejoining.CompareAndSwap(false, true):
					n.log.Info("no DHT peers left: rejoining the network")
					n.remapPorts()
					lonelyWait = min(2*lonelyWait, lonelyMax)
					lonelyAt = now.Add(lonelyWait)
					// In the background: a rejoin may take a minute, and
					// this loop also watches addresses.
					n.background(func(ctx context.Context) {
						defer n.rejoining.Store(false)
						n.rejoinNetwork(ctx)
					})
				}
			} else {
				lonelyWait, lonelyAt = lonelyFirst, time.Time{}
			}
			if n.closeDeadConns() > 0 {
				n.tracker.Forget()
				n.groupRes.Drop()
				settle = time.After(time.Second)
				n.background(n.redialKept)
			}
		case <-remap.C:
			n.remapPorts()
		case <-n.rejoin:
			settle = time.After(rejoinSettle)
		case <-settle:
			settle = nil
			n.remapPorts()
			if n.rejoining.CompareAndSwap(false, true) {
				n.background(func(ctx context.Context) {
					defer n.rejoining.Store(false)
					n.rejoinNetwork(ctx)
				})
			}
		}
	}
}

// lonely reports whether a node that has bootstrap peers has lost its
// place in the network: an empty routing table, or no bootstrap peer and
// no peer at all connected. (A full routing table alone can mislead: it
// keeps peers that restarted until a query fails.) An empty routing table
// is lonely even with a bootstrap peer connected: a server that restarted
// answers DHT queries only once it knows it is publicly reachable, and
// the node that reconnected to it before then never added it (seen under
// load: connected to one of two restarted servers, never redialling the
// other, with an empty table for good).
func (n *Node) lonely() bool {
	if len(n.cfg.Network.Bootstrap) == 0 {
		return false
	}
	if n.dht.RoutingTableSize() == 0 {
		return true
	}
	return n.dht.Stats().BootstrapConnected == 0 && len(n.host.Network().Peers()) == 0
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

// remapPorts asks the router for port mappings again when the network
// changed (see portMapper.Rediscover), closing the old mappings in the
// background.
func (n *Node) remapPorts() {
	if old := n.addrs.ports.Rediscover(); old != nil {
		n.log.Info("looking for a router that forwards ports (UPnP, NAT-PMP) on this network")
		n.background(func(context.Context) { old.Close() })
	}
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
	if err := n.dht.Bootstrap(cctx); err != nil {
		// Nobody to announce to (a reprovide would wait out its timeout,
		// holding back the next rejoin): a node left without peers tries
		// again (see lonely).
		if ctx.Err() == nil {
			n.log.Debug("rejoin: DHT bootstrap", "err", err)
		}
		return
	}
	if err := n.dht.Reprovide(cctx); err != nil && ctx.Err() == nil {
		n.log.Debug("rejoin: reprovide", "err", err)
	}
}
