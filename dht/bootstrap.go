package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// ErrNoBootstrapPeer means that none of the bootstrap peers (nor any peer
// saved from the last run) could be reached: the node is probably offline.
var ErrNoBootstrapPeer = errors.New("no bootstrap peer reachable")

// Bootstrap joins the network: it connects to the bootstrap peers and to the
// routing-table peers saved by the last run (in parallel), waits until at least one connected peer has entered the routing
// table, then runs a routing table refresh (lookups that discover the peers
// near this node) and waits for it to finish.
//
// It fails if bootstrap peers are configured and none can be reached, or if
// the host has connections but none of those peers joins the routing table
// (they are not kith DHT servers) within ctx or 10s, whichever ends first.
// A node with neither bootstrap peers nor connections (the first node of a
// network) succeeds immediately with an empty routing table. Bootstrap may be
// called again at any time, e.g. after the network was lost.
//
// The provider starts announcing once a lookup succeeds; it checks with a
// backoff that starts at 100ms and grows to one minute while the node has no
// peers, so keys provided before Bootstrap are announced shortly after it.
func (d *DHT) Bootstrap(ctx context.Context) error {
	if d.closed() {
		return ErrClosed
	}
	if err := d.connectBootstrapPeers(ctx); err != nil {
		return fmt.Errorf("dht: bootstrap: %w", err)
	}
	if len(d.host.Network().Peers()) == 0 {
		return nil
	}
	// Asks kad-dht to consider every connected peer for the routing table
	// and to refresh without waiting.
	_ = d.router.Bootstrap(ctx)
	if err := d.waitRoutingTable(ctx); err != nil {
		return fmt.Errorf("dht: bootstrap: %w", err)
	}
	// Refresh every table that has peers; an empty LAN table (no kith or
	// IPFS peer on this LAN) is normal.
	var refreshed []<-chan error
	for _, k := range d.kads {
		if k.RoutingTable().Size() > 0 {
			refreshed = append(refreshed, k.RefreshRoutingTable())
		}
	}
	for _, ch := range refreshed {
		select {
		case err := <-ch:
			if err != nil {
				return fmt.Errorf("dht: bootstrap: refresh routing table: %w", err)
			}
		case <-ctx.Done():
			return fmt.Errorf("dht: bootstrap: refresh routing table: %w", ctx.Err())
		}
	}
	return nil
}

// connectBootstrapPeers dials all configured bootstrap peers and the saved
// routing-table peers concurrently. It succeeds if there are none or at
// least one connection is up.
func (d *DHT) connectBootstrapPeers(ctx context.Context) error {
	peers := append(append([]peer.AddrInfo(nil), d.cfg.bootstrapPeers...), d.cfg.savedPeers...)
	if len(peers) == 0 {
		return nil
	}
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, ai := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// An explicit (re)join is not refused for an earlier failure:
			// a peer that was down a minute ago (a restarting server) is
			// dialled again.
			if sw, ok := d.host.Network().(*swarm.Swarm); ok {
				sw.Backoff().Clear(ai.ID)
			}
			if err := d.host.Connect(ctx, ai); err != nil {
				errs[i] = fmt.Errorf("connect to %s: %w", ai.ID, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w (%d tried): %w", ErrNoBootstrapPeer, len(peers), errors.Join(errs...))
}

// waitRoutingTable waits until the routing table is not empty. Peers enter
// it asynchronously, after identify has confirmed they speak ProtocolID.
//
// Every rtNudgeInterval while it waits, it confirms the DHT protocol of
// connected peers whose identify does not list it (confirmDHTPeers) and
// asks kad-dht again to consider every connected peer: a DHT server that
// had just started announced the protocol in an identify push, and pushes
// are rate-limited per /24 (10 at once, then one every 5 s, whoever sends
// them), so a server restarting beside others can have its one push that
// matters dropped; kad-dht then never looks at it again while the
// connection lasts.
func (d *DHT) waitRoutingTable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, bootstrapRTWait)
	defer cancel()
	tick := time.NewTicker(rtPollInterval)
	defer tick.Stop()
	nudge := time.NewTicker(rtNudgeInterval)
	defer nudge.Stop()
	for d.RoutingTableSize() == 0 {
		select {
		case <-tick.C:
		case <-nudge.C:
			d.confirmDHTPeers(ctx)
			// Also retries peers whose check failed (a server whose DHT
			// handler was not registered yet when it was checked).
			_ = d.router.Bootstrap(ctx)
		case <-d.closing:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("no connected peer (of %d) entered the routing table; are they %s servers? %w",
				len(d.host.Network().Peers()), d.cfg.protocols()[0], ctx.Err())
		}
	}
	return nil
}

// confirmDHTPeers opens a stream of each DHT protocol (WAN, and LAN for a
// dual DHT) to every connected peer whose identify does not list it (over
// a direct connection: a limited one cannot carry the DHT) and records the
// protocol where the peer accepts it, so that kad-dht's check of the peer
// passes. A restarting server lists the LAN protocol at once and the WAN
// one only once it knows it is reachable, so each protocol is confirmed on
// its own. It returns how many were confirmed.
func (d *DHT) confirmDHTPeers(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(network.WithNoDial(ctx, "confirm DHT protocol"), confirmTimeout)
	defer cancel()
	var mu sync.Mutex
	confirmed := 0
	var wg sync.WaitGroup
	for _, p := range d.host.Network().Peers() {
		for _, proto := range d.cfg.protocols() {
			if known, err := d.host.Peerstore().SupportsProtocols(p, proto); err != nil || len(known) > 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := d.host.NewStream(ctx, p, proto)
				if err != nil {
					return
				}
				_ = s.Reset() // libp2p recorded the protocol on negotiating it
				mu.Lock()
				confirmed++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return confirmed
}
