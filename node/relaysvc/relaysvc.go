// Package relaysvc runs the circuit relay (libp2p circuit v2) a publicly
// reachable kith node offers, in two flavours on the one hop protocol:
//
//   - to everyone, the limited relay every public IPFS node offers (two
//     minutes and 128 KiB per circuit: enough to coordinate a hole punch,
//     never enough to carry a file), so that peers behind NAT can be
//     reached at all;
//   - to the members of this node's groups, a relay without limits, so
//     that when hole punching fails (symmetric NAT, CGNAT: about one home
//     pair in three) group transfers go through a member that is reachable
//     (a NAS with a port forward, a VPS) instead of failing.
//
// libp2p's relay applies one set of limits to every circuit, so the Service
// runs two relays and routes each hop stream by its first message: a
// reservation by a member of one of this node's groups, or a circuit
// between two members of one group, goes to the unlimited relay; anything
// else to the limited one. Reservations live in the relay that took them,
// so a member's reservation serves only other members (the unlimited
// relay's ACL refuses everyone else as well).
package relaysvc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	gproto "google.golang.org/protobuf/proto"
)

// Members tells the Service who belongs to this node's groups.
type Members interface {
	// IsMember reports whether p is a member of one of this node's groups.
	IsMember(p peer.ID) bool
	// ShareGroup reports whether a and b are both members of one of this
	// node's groups.
	ShareGroup(a, b peer.ID) bool
}

// Options choose which relays run while the node is public.
type Options struct {
	// Public offers the limited relay to everyone.
	Public bool
	// Groups offers the unlimited relay to group members.
	Groups bool
	// Members is consulted for every hop stream and by the ACL; required
	// when Groups is set.
	Members Members
}

// groupResources are the unlimited relay's: no per-circuit limit, larger
// copy buffers (a relayed transfer is bulk data, 2 KiB buffers would make it
// syscall-bound) and room for several members behind one home router.
func groupResources() relay.Resources {
	rc := relay.DefaultResources()
	rc.Limit = nil
	rc.BufferSize = 64 << 10
	rc.MaxReservations = 256
	rc.MaxCircuits = 64
	rc.MaxReservationsPerIP = 32
	return rc
}

// Service starts and stops the relays as the node's reachability changes.
type Service struct {
	h    host.Host
	opts Options

	mu      sync.Mutex
	public  *relay.Relay
	group   *relay.Relay
	handles map[*relay.Relay]network.StreamHandler
	running bool
}

// New returns a Service for h; it offers nothing until SetReachability
// says the node is public.
func New(h host.Host, opts Options) *Service {
	return &Service{h: h, opts: opts, handles: map[*relay.Relay]network.StreamHandler{}}
}

// SetReachability starts the relays when r is public and stops them
// otherwise: a relay behind NAT can relay for nobody.
func (s *Service) SetReachability(r network.Reachability) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == network.ReachabilityPublic {
		return s.startLocked()
	}
	s.stopLocked()
	return nil
}

func (s *Service) startLocked() error {
	if s.running || (!s.opts.Public && !s.opts.Groups) {
		return nil
	}
	if s.opts.Public {
		r, err := s.newRelay()
		if err != nil {
			return fmt.Errorf("start relay service: %w", err)
		}
		s.public = r
	}
	if s.opts.Groups && s.opts.Members != nil {
		r, err := s.newRelay(relay.WithResources(groupResources()), relay.WithACL(groupACL{s.opts.Members}))
		if err != nil {
			s.stopLocked()
			return fmt.Errorf("start group relay: %w", err)
		}
		s.group = r
	}
	s.h.SetStreamHandler(proto.ProtoIDv2Hop, s.dispatch)
	s.running = true
	return nil
}

// newRelay builds a relay whose hop handler is captured instead of
// installed, so dispatch can choose between relays.
func (s *Service) newRelay(opts ...relay.Option) (*relay.Relay, error) {
	ch := &capturingHost{Host: s.h}
	r, err := relay.New(ch, opts...)
	if err != nil {
		return nil, err
	}
	s.handles[r] = ch.handler
	return r, nil
}

func (s *Service) stopLocked() {
	if s.running {
		s.h.RemoveStreamHandler(proto.ProtoIDv2Hop)
	}
	for _, r := range []*relay.Relay{s.public, s.group} {
		if r != nil {
			_ = r.Close()
			delete(s.handles, r)
		}
	}
	s.public, s.group, s.running = nil, nil, false
}

// dispatch reads a hop stream's first message and hands the stream (that
// message included) to the group relay for a member's reservation or a
// circuit between two members of one group, else to the public relay.
func (s *Service) dispatch(st network.Stream) {
	_ = st.SetReadDeadline(time.Now().Add(hopReadTimeout))
	raw, msg, err := readHop(st)
	_ = st.SetReadDeadline(time.Time{})
	if err != nil {
		_ = st.Reset()
		return
	}
	src := st.Conn().RemotePeer()
	s.mu.Lock()
	toGroup := false
	if s.group != nil {
		switch msg.GetType() {
		case pbv2.HopMessage_RESERVE:
			toGroup = s.opts.Members.IsMember(src)
		case pbv2.HopMessage_CONNECT:
			if dest, err := peer.IDFromBytes(msg.GetPeer().GetId()); err == nil {
				toGroup = s.opts.Members.ShareGroup(src, dest)
			}
		}
	}
	var h network.StreamHandler
	switch {
	case toGroup:
		h = s.handles[s.group]
	case s.public != nil:
		h = s.handles[s.public]
	}
	s.mu.Unlock()
	if h == nil {
		_ = st.Reset()
		return
	}
	h(&replayStream{Stream: st, r: io.MultiReader(bytes.NewReader(raw), st)})
}

// hopReadTimeout bounds the wait for a hop stream's first message.
const hopReadTimeout = 30 * time.Second

// maxHopMessage is the relay's own bound on a hop message.
const maxHopMessage = 4096

// readHop reads one length-delimited hop message and returns its raw bytes
// (length prefix included) and the decoded message.
func readHop(r io.Reader) ([]byte, *pbv2.HopMessage, error) {
	br := &byteReader{r: r}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, nil, err
	}
	if n > maxHopMessage {
		return nil, nil, fmt.Errorf("hop message of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, err
	}
	var msg pbv2.HopMessage
	if err := gproto.Unmarshal(body, &msg); err != nil {
		return nil, nil, err
	}
	return append(br.read, body...), &msg, nil
}

// byteReader reads one byte at a time (no read-ahead past the varint) and
// keeps what it read.
type byteReader struct {
	r    io.Reader
	read []byte
}

func (b *byteReader) ReadByte() (byte, error) {
	var one [1]byte
	if _, err := io.ReadFull(b.r, one[:]); err != nil {
		return 0, err
	}
	b.read = append(b.read, one[0])
	return one[0], nil
}

// replayStream is a stream whose first bytes were already read by dispatch.
type replayStream struct {
	network.Stream
	r io.Reader
}

func (s *replayStream) Read(p []byte) (int, error) { return s.r.Read(p) }

// Running reports which relays are up.
func (s *Service) Running() (public, group bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.public != nil, s.group != nil
}

// Close stops the relays.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

// groupACL lets members reserve and connects only members that share a
// group with this node.
type groupACL struct{ m Members }

func (a groupACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return a.m.IsMember(p) }

func (a groupACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	return a.m.ShareGroup(src, dest)
}

// capturingHost is the host as a relay sees it, except that the relay's
// hop handler is kept rather than installed, and its removal is left to
// the Service.
type capturingHost struct {
	host.Host
	handler network.StreamHandler
}

func (c *capturingHost) SetStreamHandler(pid protocol.ID, h network.StreamHandler) {
	if pid == proto.ProtoIDv2Hop {
		c.handler = h
		return
	}
	c.Host.SetStreamHandler(pid, h)
}

func (c *capturingHost) RemoveStreamHandler(pid protocol.ID) {
	if pid == proto.ProtoIDv2Hop {
		return
	}
	c.Host.RemoveStreamHandler(pid)
}
