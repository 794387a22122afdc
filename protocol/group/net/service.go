// Package groupnet carries kith's group replication over libp2p: one
// GossipSub topic per group (that of its current key epoch, epoch.go) for
// updates and heartbeats, and the /kith/sync/1.0.0 stream protocol for
// anti-entropy between members, which also hands epoch keys to members
// that lack them.
//
// The replicated logic (state, placement, liveness) is package group; this
// package only moves its messages, checks them at the trust boundary and
// decides when to sync. A topic's messages go to the peers its group lists
// as members and to no one else (Service.mayHear). It never touches the
// block store: the daemon reads a Group's state and decides what to fetch
// and release.
package groupnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/protocol/group"
)

// Service is the node's group networking: one PubSub shared by every group,
// and the sync protocol handler that routes streams to the group they name.
// Safe for concurrent use.
type Service struct {
	host host.Host
	ps   *pubsub.PubSub
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	groups map[group.GroupID]*Group
	// byTopic maps each open group's topic (one per group: the topic of
	// the epoch it talks in) to it, for mayHear (which must not take
	// locks).
	byTopic sync.Map
	// redeem answers invite redemptions (HandleInvites); nil: refuse all.
	redeem atomic.Pointer[InviteRedeemer]
	// meshDelay is how long GossipSub may take to graft a new member
	// into a topic's mesh (two of its heartbeats): what is published
	// before then does not reach it, and a sync after it repairs that.
	meshDelay time.Duration
}

// Option adjusts a Service.
type Option func(*options)

type options struct {
	log       *slog.Logger
	heartbeat time.Duration
}

// WithLogger sets the logger (slog.Default when unset).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithGossipHeartbeat sets GossipSub's own heartbeat (mesh maintenance), not
// the group heartbeat. Tests shorten it so meshes form in milliseconds;
// leave it at GossipSub's default (1 s) otherwise.
func WithGossipHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// NewService starts GossipSub on h (signed messages, strict verification:
// the signer is the sender every payload is opened for) and serves the
// sync protocol. Close stops both.
func NewService(h host.Host, opts ...Option) (*Service, error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := gossipParams()
	if o.heartbeat > 0 {
		p.HeartbeatInterval = o.heartbeat
		p.HeartbeatInitialDelay = o.heartbeat / 10
	}
	s := &Service{host: h, log: o.log, ctx: ctx, stop: cancel, groups: make(map[group.GroupID]*Group), meshDelay: 2 * p.HeartbeatInterval}
	psOpts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithGossipSubParams(p),
		pubsub.WithMessageIdFn(messageID),
		// A group's messages go to its members only (see mayHear).
		pubsub.WithPeerFilter(s.mayHear),
		pubsub.WithFloodPublish(false),
		pubsub.WithGossipSubProtocols(meshProtocols(), meshFeatures),
	}
	ps, err := pubsub.NewGossipSub(ctx, h, psOpts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start gossipsub: %w", err)
	}
	s.ps = ps
	h.SetStreamHandler(SyncProtocol, s.handleSync)
	h.Network().Notify(&connNotifee{s: s})
	return s, nil
}

// gossipParams tunes GossipSub for group topics. Its defaults suit large
// networks; a group is a few to a few dozen members exchanging a few small
// messages a minute, and a member's idle traffic is what its user notices.
// Every message costs each member about 2(D-1) transmissions, so the mesh
// is narrower (D=4 instead of 6; diameter stays a few hops at 50 members)
// and IHAVE gossip goes to 2 peers, for 2 heartbeats, instead of to a
// quarter of the topic's peers for 3: anti-entropy sync, not gossip,
// repairs what the mesh misses.
func gossipParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dscore, p.Dout = 4, 3, 6, 2, 1
	p.Dlazy, p.GossipFactor, p.HistoryGossip = 2, 0, 2
	return p
}

// messageID names a message by a 16-byte hash of its signer and sequence
// number (GossipSub's default is the two concatenated, 46 bytes): IDs are
// repeated in every IHAVE, IWANT and IDONTWANT.
func messageID(m *pb.Message) string {
	h := sha256.New()
	h.Write(m.GetFrom())
	h.Write(m.GetSeqno())
	return string(h.Sum(nil)[:16])
}

// mayHear is GossipSub's peer filter: a group's topic is exchanged only
// with the peers its state lists as members. Payloads are sealed with the
// group's key, but who sends them is not: without the filter a peer
// connected to one member could subscribe to the topic (members announce
// it to every peer) and learn every member's peer ID from the messages'
// signers. GossipSub then never grafts an outsider into the topic's mesh,
// gossips to it or answers its IWANTs; publishing goes through the mesh
// (flood publishing, which sends to every subscriber, is off), and
// floodsub, whose peers get every message, is not spoken. It runs in
// GossipSub's event loop, so it reads a snapshot, without locks.
func (s *Service) mayHear(p peer.ID, topic string) bool {
	v, ok := s.byTopic.Load(topic)
	if !ok {
		return false // not a topic of ours: nothing to exchange
	}
	return v.(*Group).mayHear(p)
}

// meshFeatures is GossipSub's feature test, except that a peer whose
// protocol is not known yet counts as a mesh peer. GossipSub learns a
// peer's protocol only once its own stream to the peer is open, and until
// then takes the peer for a floodsub peer, which gets every message of the
// topics it subscribed to, past the peer filter (seen once under load: an
// outsider received a group message). Only mesh protocols are spoken here
// (meshProtocols), so the peer will turn out to be one.
func meshFeatures(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
	if proto == "" {
		return feat == pubsub.GossipSubFeatureMesh
	}
	return pubsub.GossipSubDefaultFeatures(feat, proto)
}

// meshProtocols is GossipSub's protocol list without floodsub.
func meshProtocols() []protocol.ID {
	var out []protocol.ID
	for _, p := range pubsub.GossipSubDefaultProtocols {
		if p != pubsub.FloodSubID {
			out = append(out, p)
		}
	}
	return out
}

// Close leaves every group and stops the sync handler and GossipSub.
func (s *Service) Close() {
	s.host.RemoveStreamHandler(SyncProtocol)
	s.host.RemoveStreamHandler(InviteProtocol)
	s.mu.Lock()
	gs := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	s.mu.Unlock()
	for _, g := range gs {
		g.Close()
	}
	s.stop()
	s.wg.Wait()
}

// lookup returns the open group with id.
func (s *Service) lookup(id group.GroupID) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[id]
}

func (s *Service) forget(g *Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[g.id] == g {
		delete(s.groups, g.id)
	}
}

// go runs fn until the service stops.
func (s *Service) goFn(fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// connNotifee starts a sync when we connect to a member of one of our
// groups: after a partition or a restart, that is when states diverge.
type connNotifee struct{ s *Service }

func (c *connNotifee) Connected(_ network.Network, conn network.Conn) {
	p := conn.RemotePeer()
	c.s.mu.Lock()
	gs := make([]*Group, 0, len(c.s.groups))
	for _, g := range c.s.groups {
		gs = append(gs, g)
	}
	c.s.mu.Unlock()
	for _, g := range gs {
		if g.isMember(p) {
			g.SyncSoon(p)
		}
	}
}

func (c *connNotifee) Disconnected(network.Network, network.Conn) {}
func (c *connNotifee) Listen(network.Network, ma.Multiaddr)       {}
func (c *connNotifee) ListenClose(network.Network, ma.Multiaddr)  {}

var _ network.Notifiee = (*connNotifee)(nil)
