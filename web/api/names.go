package api

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// NameRecord is this node's IPNS record (POST /names/publish, GET
// /names/self): its name points to Value until Expires, and is published
// again while the daemon runs.
type NameRecord struct {
	// Name is the IPNS name, the node's key as a libp2p-key CID (k51...).
	Name string `json:"name"`
	// Value is what it points to, /ipfs/CID.
	Value string `json:"value"`
	// Sequence grows with each new value.
	Sequence uint64 `json:"sequence"`
	// Expires is when the record stops being valid unless published again.
	Expires time.Time `json:"expires"`
	// TTLSeconds is how long resolvers may cache it.
	TTLSeconds float64 `json:"ttl_seconds"`
}

// NamePath is what a name points to now (GET /names/resolve).
type NamePath struct {
	Path string `json:"path"`
}

// NameOptions are a publish's choices (zero: the defaults, as Kubo's).
type NameOptions struct {
	// Lifetime is how long the record stays valid (48 hours).
	Lifetime time.Duration
	// TTL is how long resolvers may cache it (5 minutes).
	TTL time.Duration
}

// Names is implemented by backends that publish and read IPNS names
// (package node does); the web server answers /names only then.
type Names interface {
	// PublishName points this node's IPNS name to c, which must be pinned
	// here and not private.
	PublishName(ctx context.Context, c cid.Cid, opts NameOptions) (NameRecord, error)
	// OwnName returns this node's record; not found if it published none.
	OwnName(ctx context.Context) (NameRecord, error)
	// ResolveName returns the /ipfs/ path an IPNS name or a DNSLink
	// domain (with a path after it) points to now.
	ResolveName(ctx context.Context, name string) (string, error)
}
