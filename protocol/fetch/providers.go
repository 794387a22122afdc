package fetch

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// connectTimeout bounds one dial to a provider.
const connectTimeout = 15 * time.Second

// findPeers reads providers once the first missing block is known (a DAG
// that is already complete locally never touches the network), dials each
// new one with bounded concurrency and runs it.
func (r *run) findPeers(ctx context.Context, providers Providers) {
	select {
	case <-r.sched.wantSeen:
	case <-ctx.Done():
		return
	}
	ch := providers.FindProviders(ctx, r.root)
	sem := make(chan struct{}, r.f.connectLimit)
	seen := make(map[peer.ID]bool)
	for {
		var ai peer.AddrInfo
		var ok bool
		select {
		case ai, ok = <-ch:
		case <-ctx.Done():
			return
		}
		if !ok {
			r.sched.sourceExhausted()
			return
		}
		if ai.ID == "" || ai.ID == r.f.h.ID() || seen[ai.ID] {
			continue
		}
		seen[ai.ID] = true
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		r.sched.connectStarted()
		r.wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err := r.f.connect(cctx, ai)
			var proto Protocol
			if err == nil {
				proto = r.protocolOf(cctx, ai.ID)
			}
			cancel()
			<-sem
			p := r.sched.connectEnded(ai.ID, proto, err)
			switch {
			case p == nil:
			case p.proto.wantlisted():
				r.runBitswapPeer(p)
			default:
				r.runPeer(p)
			}
		})
	}
}

// identifyWait bounds the wait for a connected peer's identify, which
// says what it speaks: Connect waits for it on a new connection, not on
// one that was already open (and perhaps still being identified).
const identifyWait = 5 * time.Second

// neitherGrace is how long a peer's identify must go on listing neither
// protocol before it counts as speaking neither: a peer that registered
// its handlers moments before the connection may have answered identify
// from its earlier protocol list (libp2p updates that list
// asynchronously), and its identify push follows within milliseconds, or
// over half a second on a machine under load (a full -race test run saw
// a server taken for one that speaks neither at 500 ms). A peer that
// really speaks neither is rare (a provider the DHT named that runs
// another exchange), so waiting longer for it costs little.
const neitherGrace = 2 * time.Second

// protocolOf decides how to ask id for blocks, from the protocols its
// identify listed: /kith/fetch if it speaks it, else Bitswap if it speaks
// that and the Fetcher has a Bitswap; "" if it speaks neither. A peer whose
// protocols are still unknown when the wait ends is tried as a kith peer
// (a failed stream then drops it, as before identify was consulted).
func (r *run) protocolOf(ctx context.Context, id peer.ID) Protocol {
	ps := r.f.h.Peerstore()
	deadline := time.Now().Add(identifyWait)
	var neitherSince time.Time
	for {
		if ok, _ := ps.SupportsProtocols(id, ID); len(ok) > 0 {
			return ProtocolKith
		}
		if r.f.bitswap != nil && r.f.bitswap.Speaks(id) {
			if n, ok := r.f.bitswap.(ProtocolNamer); ok {
				return n.ProtocolOf(id)
			}
			return ProtocolBitswap
		}
		// The protocol list is complete once identify has run, which is
		// when it records the agent version (after the protocols). Before
		// that it may hold only what we negotiated ourselves (identify's
		// own protocol), and "speaks neither" would be wrong.
		if _, err := ps.Get(id, "AgentVersion"); err == nil {
			if neitherSince.IsZero() {
				neitherSince = time.Now()
			}
			if time.Since(neitherSince) >= neitherGrace {
				return ""
			}
		}
		if time.Now().After(deadline) {
			return ProtocolKith
		}
		select {
		case <-ctx.Done():
			return ProtocolKith
		case <-time.After(20 * time.Millisecond):
		}
	}
}
