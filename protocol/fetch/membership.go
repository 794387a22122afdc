package fetch

import (
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
)

// Membership of the scheduler: peers joining (after a dial), leaving
// (dropped for misbehaviour), and deciding that a block can come from
// nobody, which fails the fetch.

// drop stops using p for this fetch: its streams are reset and its requests
// given to others.
func (s *scheduler) drop(p *peerState, kind dropKind, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(p, kind, reason)
}

func (s *scheduler) dropLocked(p *peerState, kind dropKind, reason string) {
	if p.gone() || s.finished {
		return
	}
	p.dropped = true
	p.cancel()
	s.usable--
	s.res.Dropped[p.id] = reason
	s.r.f.metrics.droppedPeer(kind)
	for _, b := range slices.Clone(p.batches) {
		s.endBatch(b)
	}
	s.checkStuck()
}

// noMorePeers reports whether no new peer can appear in this fetch.
func (s *scheduler) noMorePeers() bool { return s.sourceDone && s.connecting == 0 }

// lacksAll reports whether every usable peer answered NotFound for w.
func (s *scheduler) lacksAll(w *want) bool {
	for _, p := range s.peers {
		if !p.gone() && !slices.Contains(w.lacking, p) {
			return false
		}
	}
	return true
}

// checkStuck fails the fetch when some missing block can come from nobody:
// no new peers can appear and no usable peer has it.
func (s *scheduler) checkStuck() {
	if s.finished || !s.noMorePeers() || s.outstanding == 0 {
		return
	}
	if root, ok := s.wants[s.r.root.KeyString()]; ok && !root.done && s.lacksAll(root) {
		s.failMissing(root.c)
		return
	}
	for _, w := range s.wants {
		if !w.done && s.lacksAll(w) {
			s.failMissing(w.c)
			return
		}
	}
}

func (s *scheduler) failMissing(c cid.Cid) {
	n := len(s.peers)
	s.r.fail(fmt.Errorf("%w (no usable provider has it; %d tried, %d dropped)",
		blockstore.NotFound(c), n, len(s.res.Dropped)))
}

// connectStarted and connectEnded bracket a dial to a provider; a
// successful dial registers the peer and returns it. proto is how to ask
// it for blocks, empty for a peer that speaks neither protocol (it counts
// as tried, like a peer without the content, and is not listed as dropped).
func (s *scheduler) connectStarted() {
	s.mu.Lock()
	s.connecting++
	s.mu.Unlock()
}

func (s *scheduler) connectEnded(id peer.ID, proto Protocol, err error) *peerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connecting--
	if _, ok := s.peers[id]; ok || s.finished {
		s.checkStuck()
		return nil
	}
	p := newPeerState(s.r.net, id, proto)
	s.peers[id] = p
	switch {
	case err != nil:
		p.dropped = true
		p.cancel()
		s.res.Dropped[id] = "unreachable: " + err.Error()
		s.r.f.metrics.droppedPeer(dropUnreachable)
		s.checkStuck()
		return nil
	case proto == "":
		p.retired = true
		p.cancel()
		s.checkStuck()
		return nil
	}
	if proto.wantlisted() {
		p.bitswap = newBitswapPeer(s.r, p)
	}
	s.usable++
	s.broadcast()
	return p
}

func (s *scheduler) sourceExhausted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sourceDone = true
	s.checkStuck()
}
