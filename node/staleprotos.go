package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Stale protocol lists. What a peer speaks is what identify last said, and
// a peer adds protocols after it started: a public node becomes a DHT
// server and a relay only once it knows it is reachable, a second or so
// in, and says so in an identify push. libp2p drops pushes beyond 10 per
// /24, then one every 5 s, whoever sends them, and a restarting server
// pushes that many on its own to a peer connected to it over both TCP and
// QUIC. A dropped push leaves the peer looking like a plain node to kad-dht
// and autorelay for as long as the connection lasts: a laptop whose
// servers restarted took no relay again (TestDHTServerRestart). Where such
// a protocol is missing and needed, kith asks the peer itself: the relay
// protocol here, the DHT's in dht.Bootstrap.

// protoProbeEvery spaces out the probes of one peer for one protocol.
const protoProbeEvery = 30 * time.Second

// confirmProtocol asks p, over a direct connection, whether it speaks
// proto when its identify did not say so, at most once per protoProbeEvery.
// If it does, libp2p records the protocol (it does for a negotiated stream)
// and an EvtPeerProtocolsUpdated tells the host's services, as identify
// would have. It returns at once; the probe runs in the background.
func (n *Node) confirmProtocol(p peer.ID, proto protocol.ID) {
	if ok, _ := n.host.Peerstore().SupportsProtocols(p, proto); len(ok) > 0 {
		return
	}
	if !n.protoProbes.due(string(p)+" "+string(proto), time.Now(), protoProbeEvery) {
		return
	}
	n.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(network.WithNoDial(ctx, "confirm a protocol"), 5*time.Second)
		defer cancel()
		s, err := n.host.NewStream(ctx, p, proto)
		if err != nil {
			return
		}
		_ = s.Reset()
		em, err := n.host.EventBus().Emitter(new(event.EvtPeerProtocolsUpdated))
		if err != nil {
			return
		}
		_ = em.Emit(event.EvtPeerProtocolsUpdated{Peer: p, Added: []protocol.ID{proto}})
		_ = em.Close()
		n.log.Debug("confirmed a protocol identify had not listed", "peer", p, "protocol", proto)
	})
}

// probeTimes spaces out probes.
type probeTimes struct {
	mu   sync.Mutex
	next map[string]time.Time
}

// due reports whether key may be probed at now, and if so counts the
// probe: the next one is due every later.
func (t *probeTimes) due(key string, now time.Time, every time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == nil {
		t.next = map[string]time.Time{}
	}
	if now.Before(t.next[key]) {
		return false
	}
	if len(t.next) >= maxProbed {
		for k, at := range t.next {
			if now.After(at) {
				delete(t.next, k)
			}
		}
	}
	t.next[key] = now.Add(every)
	return true
}

// maxProbed bounds probeTimes before it forgets keys whose time has come.
const maxProbed = 1024
