package group

import (
	"cmp"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxClockSkew is how far ahead of our own wall clock a remote HLC may be.
// Without a bound, one member with a clock set to next year would drag every
// clock forward and win every last-writer-wins register for a year.
const MaxClockSkew = 5 * time.Minute

// HLC is a hybrid logical clock timestamp: wall time in unix milliseconds, a
// counter for events within the same millisecond (or while our wall clock is
// behind a timestamp we have seen), and the node that made it as a final tie
// break. HLCs are totally ordered and never go backwards on one node, even
// when its wall clock does.
type HLC struct {
	Wall  int64   `json:"w"`
	Count uint32  `json:"c,omitempty"`
	Node  peer.ID `json:"n"`
}

// Compare orders HLCs by wall time, then counter, then node ID.
func (h HLC) Compare(o HLC) int {
	if c := cmp.Compare(h.Wall, o.Wall); c != 0 {
		return c
	}
	if c := cmp.Compare(h.Count, o.Count); c != 0 {
		return c
	}
	return cmp.Compare(h.Node, o.Node)
}

// IsZero reports whether h is the zero timestamp.
func (h HLC) IsZero() bool { return h.Wall == 0 && h.Count == 0 && h.Node == "" }

// Time returns the wall-clock part of h.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Wall) }

func (h HLC) String() string {
	return fmt.Sprintf("%s+%d@%s", h.Time().UTC().Format(time.RFC3339Nano), h.Count, h.Node)
}

// Clock issues HLC timestamps for one node. It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	node  peer.ID
	now   func() time.Time
	wall  int64
	count uint32
	key   crypto.PrivKey // signs the updates stamped by this clock (SetSigner)
}

// NewClock returns a clock for node. now is the wall clock (time.Now when
// nil; tests and the simulator pass their own).
func NewClock(node peer.ID, now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{node: node, now: now}
}

// Node returns the node this clock stamps.
func (c *Clock) Node() peer.ID { return c.node }

// Now returns a timestamp later than every one this clock has issued or
// observed.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.now().UnixMilli()
	if pt > c.wall {
		c.wall, c.count = pt, 0
	} else {
		c.tick()
	}
	return HLC{Wall: c.wall, Count: c.count, Node: c.node}
}

func (c *Clock) tick() {
	if c.count == math.MaxUint32 {
		c.wall++
		c.count = 0
		return
	}
	c.count++
}

// Observe moves the clock past a remote timestamp, so that our next update
// orders after everything we have seen. A timestamp more than MaxClockSkew
// ahead of our wall clock is refused with ErrClockSkew and does not move the
// clock.
func (c *Clock) Observe(h HLC) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.now().UnixMilli()
	if h.Wall > pt+MaxClockSkew.Milliseconds() {
		return fmt.Errorf("observe %s: %w", h, ErrClockSkew)
	}
	switch {
	case h.Wall > c.wall:
		c.wall, c.count = h.Wall, h.Count
	case h.Wall == c.wall && h.Count > c.count:
		c.count = h.Count
	}
	return nil
}

// checkSkew refuses timestamps too far in the future of now.
func checkSkew(h HLC, now time.Time) error {
	if h.Wall > now.UnixMilli()+MaxClockSkew.Milliseconds() {
		return fmt.Errorf("timestamp %s: %w", h, ErrClockSkew)
	}
	return nil
}
