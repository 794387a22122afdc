package node

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Bytes per connection. libp2p counts bytes per peer and per protocol, but
// a peer reached both directly and through a relay has two connections
// whose figures tell different stories (is the transfer using the hole
// punched path?). kith counts the bytes of every stream its own protocols
// open or accept (fetch, groups, the DHT) on the connection that carries
// it; libp2p's internal protocols (identify, ping) are left out.

// connCounter holds in and out byte counts per connection ID.
type connCounter struct {
	mu sync.Mutex
	m  map[string]*connBytes
}

type connBytes struct{ in, out atomic.Int64 }

func newConnCounter(n network.Network) *connCounter {
	c := &connCounter{m: map[string]*connBytes{}}
	n.Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, conn network.Conn) {
		c.mu.Lock()
		delete(c.m, conn.ID())
		c.mu.Unlock()
	}})
	return c
}

func (c *connCounter) counts(conn network.Conn) *connBytes {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.m[conn.ID()]
	if b == nil {
		b = &connBytes{}
		c.m[conn.ID()] = b
	}
	return b
}

// get returns the bytes in and out counted on conn.
func (c *connCounter) get(conn network.Conn) (in, out int64) {
	c.mu.Lock()
	b := c.m[conn.ID()]
	c.mu.Unlock()
	if b == nil {
		return 0, 0
	}
	return b.in.Load(), b.out.Load()
}

func (c *connCounter) wrap(s network.Stream) network.Stream {
	if s == nil {
		return nil
	}
	return &countingStream{Stream: s, b: c.counts(s.Conn())}
}

type countingStream struct {
	network.Stream
	b *connBytes
}

func (s *countingStream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	s.b.in.Add(int64(n))
	return n, err
}

func (s *countingStream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	s.b.out.Add(int64(n))
	return n, err
}

// countingHost is the host as kith's protocols see it: every stream they
// open or accept is counted on its connection.
type countingHost struct {
	host.Host
	c *connCounter
}

func (h countingHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return h.c.wrap(s), nil
}

func (h countingHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, func(s network.Stream) { handler(h.c.wrap(s)) })
}

func (h countingHost) SetStreamHandlerMatch(pid protocol.ID, m func(protocol.ID) bool, handler network.StreamHandler) {
	h.Host.SetStreamHandlerMatch(pid, m, func(s network.Stream) { handler(h.c.wrap(s)) })
}
