package replicate

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/group"
)

// Net is the group's network side (groupnet.Group implements it): the
// replicated state, the heartbeat and the state's upkeep.
type Net interface {
	// Read calls fn with the state and the members' liveness, locked.
	Read(fn func(s *group.State, l *group.Liveness))
	// Apply makes a local change to the state and gossips it.
	Apply(ctx context.Context, fn func(s *group.State, c *group.Clock) (group.Update, error)) error
	// Heartbeat tells the group we are alive and what we hold.
	Heartbeat(ctx context.Context, used int64, held []cid.Cid) error
	// Goodbye tells the group we go offline (the daemon stops).
	Goodbye(ctx context.Context) error
	// Interval is the time between our heartbeats (longer in larger groups).
	Interval() time.Duration
	// SyncBehind repairs the state with members whose heartbeats show it differs.
	SyncBehind()
	// Compact drops tombstones older than horizon.
	Compact(now time.Time, horizon time.Duration) int
	// ConnectedMembers lists the members we are connected to.
	ConnectedMembers() []peer.ID
}

// Pins is the node's pin set: one record per (root, owner). A group's
// records are owned by PinOwner(its ID, the share's name); the loop
// reads every owner's records but writes and removes only its own.
type Pins interface {
	// PinsOf returns every owner's record on root (none: nil, nil).
	PinsOf(ctx context.Context, root cid.Cid) ([]blockstore.Pin, error)
	Pins(ctx context.Context) ([]blockstore.Pin, error)
	AddPin(ctx context.Context, p blockstore.Pin) error
	RemovePin(ctx context.Context, root cid.Cid, owner blockstore.Owner) error
	// PinLock holds garbage collection off until unlock: between a fetch
	// and its pin, and between a pin's check and its removal.
	PinLock() (unlock func())
}

// Fetcher moves content.
type Fetcher interface {
	// Fetch makes the whole DAG under root present in the store, from
	// connected peers and providers.
	Fetch(ctx context.Context, root cid.Cid) error
	// StopProviding stops announcing root (a released replica).
	StopProviding(ctx context.Context, root cid.Cid) error
}

// Disk is the space the store has.
type Disk interface {
	// Free is the space still available to the store.
	Free() (int64, error)
	// CheckSpace fails if n more bytes would not fit.
	CheckSpace(n int64) error
	// Budget is the most this node offers a group (configured, and bounded
	// by the disk).
	Budget() int64
}

// Peers is this node's host.
type Peers interface {
	// Self is this node's peer ID.
	Self() peer.ID
	// Connected reports whether we have a connection to p.
	Connected(p peer.ID) bool
	// Addrs are the /p2p multiaddrs others dial us at.
	Addrs() []string
	// Dial connects to the peers of a list of /p2p multiaddrs, each within
	// timeout; failures are only logged.
	Dial(ctx context.Context, addrs []string, timeout time.Duration)
}
