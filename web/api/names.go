package api

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// NameRecord is an IPNS record of one of this node's keys (POST
// /names/publish, GET /names/self): its name points to Value until
// Expires, and is published again while the daemon runs.
type NameRecord struct {
	// Key is the key it is published with: "self" (the node's peer key)
	// or one made with POST /names/keys/new.
	Key string `json:"key"`
	// Name is the IPNS name, the key as a libp2p-key CID (k51...).
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

// NameKey is a key this node publishes a name with (GET /names/keys).
type NameKey struct {
	// Key is what it is called: "self", or the name it was made with.
	Key string `json:"key"`
	// Name is its IPNS name (k51...).
	Name string `json:"name"`
	// Record is what the name points to, once published.
	Record *NameRecord `json:"record,omitempty"`
}

// SelfKey is the node's own key: its peer key, as Kubo's "self".
const SelfKey = "self"

// NameOptions are a publish's choices (zero: the defaults, as Kubo's).
type NameOptions struct {
	// Key is the key whose name is published: SelfKey (or "") or one
	// made with NewNameKey.
	Key string
	// Lifetime is how long the record stays valid (48 hours).
	Lifetime time.Duration
	// TTL is how long resolvers may cache it (5 minutes).
	TTL time.Duration
}

// Names is implemented by backends that publish and read IPNS names
// (package node does); the web server answers /names only then.
type Names interface {
	// PublishName points the IPNS name of one of this node's keys
	// (opts.Key) to c, which must be pinned here and not private.
	PublishName(ctx context.Context, c cid.Cid, opts NameOptions) (NameRecord, error)
	// OwnName returns the record of a key of this node's ("": self); not
	// found if it published none.
	OwnName(ctx context.Context, key string) (NameRecord, error)
	// NameKeys lists this node's keys, self first, each with its record.
	NameKeys(ctx context.Context) ([]NameKey, error)
	// NewNameKey makes a key, for one more name.
	NewNameKey(ctx context.Context, key string) (NameKey, error)
	// ImportNameKey stores a private key (a key file: libp2p's format or
	// PEM PKCS #8, as Kubo's ipfs key export writes them) as key, for a
	// name made elsewhere. No route exports one: `kith name keys export`
	// reads the repo's file.
	ImportNameKey(ctx context.Context, key string, data []byte) (NameKey, error)
	// RenameNameKey calls a key (not self) to instead; its name and
	// record stay.
	RenameNameKey(ctx context.Context, key, to string) (NameKey, error)
	// RemoveNameKey deletes a key and its record: its name is published
	// no more.
	RemoveNameKey(ctx context.Context, key string) error
	// ResolveName returns the /ipfs/ path an IPNS name or a DNSLink
	// domain (with a path after it) points to now.
	ResolveName(ctx context.Context, name string) (string, error)
}
