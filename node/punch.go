package node

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	msmux "github.com/multiformats/go-multistream"

	"github.com/kith-p2p/kith/node/reach"
)

// Hole punching after a relayed dial. The peer that accepts a relayed
// connection starts the hole punch, and it tries once: if this node had
// only just started, its hole-punch service may not have been listening yet
// (libp2p starts it once the node knows a public address of its own), and
// the connection stays relayed and limited, useless for a transfer. A new
// relayed connection makes the other side try again.
const (
	punchWait    = 6 * time.Second
	punchRetries = 2
)

// awaitDirect waits for a direct connection to a peer reached through a
// relay, redialling through the relay when the hole punch does not come.
// When the punch cannot work (punchHopeless) it does not wait.
func (n *Node) awaitDirect(ctx context.Context, ai peer.AddrInfo) {
	for try := 0; ; try++ {
		if !onlyLimited(n.host.Network().ConnsToPeer(ai.ID)) || n.punchHopeless(n.tracker.Status(), ai.ID) {
			return
		}
		deadline := time.Now().Add(punchWait)
		for time.Now().Before(deadline) && onlyLimited(n.host.Network().ConnsToPeer(ai.ID)) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		if !onlyLimited(n.host.Network().ConnsToPeer(ai.ID)) || try == punchRetries {
			return
		}
		n.log.Debug("no hole punch yet; reconnecting through the relay", "peer", ai.ID)
		_ = n.host.Network().ClosePeer(ai.ID)
		if err := n.host.Connect(ctx, ai); err != nil {
			return
		}
	}
}

// punchHopeless reports whether a hole punch to p cannot work, st being
// this node's reach status: it is behind a symmetric NAT on IPv4, and IPv6,
// which has no NAT to get round, is not there on both sides (a public IPv6
// address here, and one among p's known addresses).
func (n *Node) punchHopeless(st reach.Status, p peer.ID) bool {
	if st.NAT != reach.NATSymmetric {
		return false
	}
	return !st.IPv6.IsValid() || !slices.ContainsFunc(n.host.Peerstore().Addrs(p), isPublicIP6)
}

// isPublicIP6 reports whether a is a direct public IPv6 address.
func isPublicIP6(a ma.Multiaddr) bool {
	return len(a) > 0 && a[0].Code() == ma.P_IP6 && !isRelayed(a) && manet.IsPublicAddr(a)
}

// onlyLimited reports whether every connection in cs is limited (and there
// is at least one).
func onlyLimited(cs []network.Conn) bool {
	for _, c := range cs {
		if !c.Stat().Limited {
			return false
		}
	}
	return len(cs) > 0
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
		rs := n.tracker.Status()
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
			// Where no punch can work, a redial helps only if it can go
			// through a group member's relay (the dial gater then keeps
			// it off strangers' relays).
			if n.punchHopeless(rs, p) && !n.hasGroupCircuit(p) {
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
// relay while we hold a direct connection to it may have lost that
// connection on its side (it moved, its router restarted); ours is then a
// corpse that would swallow our writes until a keepalive times out, half a
// minute or more, and it stops the hole punch that would replace it
// ("already connected"). A relayed dial proves nothing by itself, though (a
// redial after a missed punch, a ticket's relay address, a group join all
// arrive that way while the direct connection is fine), so the old
// connection is pinged first and closed only if it does not answer.
func (n *Node) dropStaleDirect(_ network.Network, c network.Conn) {
	if c.Stat().Direction != network.DirInbound || !isRelayed(c.RemoteMultiaddr()) || n.ctx.Err() != nil {
		return
	}
	p := c.RemotePeer()
	for _, old := range n.host.Network().ConnsToPeer(p) {
		if isRelayed(old.RemoteMultiaddr()) || time.Since(old.Stat().Opened) < staleAfter {
			continue
		}
		n.background(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, staleProbe)
			defer cancel()
			if err := pingConn(ctx, old); err != nil && ctx.Err() != context.Canceled {
				n.log.Debug("peer came back through a relay and our direct connection is dead: closing it", "peer", p, "addr", old.RemoteMultiaddr(), "err", err)
				_ = old.Close()
			}
		})
	}
}

// staleProbe bounds the ping of a direct connection suspected dead.
const staleProbe = 3 * time.Second

// pingConn runs one libp2p ping over c itself (not whichever connection to
// its peer the host would pick).
func pingConn(ctx context.Context, c network.Conn) error {
	s, err := c.NewStream(ctx)
	if err != nil {
		return err
	}
	defer s.Reset()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if err := msmux.SelectProtoOrFail(ping.ID, s); err != nil {
		return err
	}
	var out, in [ping.PingSize]byte
	_, _ = rand.Read(out[:])
	if _, err := s.Write(out[:]); err != nil {
		return err
	}
	if _, err := io.ReadFull(s, in[:]); err != nil {
		return err
	}
	if in != out {
		return errors.New("ping answered with other bytes")
	}
	return nil
}
