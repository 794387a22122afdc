package api

import (
	"context"
	"time"
)

// Upload is content this node is sending to one peer: blocks it served
// over /kith/fetch or Bitswap, grouped by the root they belong to.
type Upload struct {
	Peer string `json:"peer"`
	// PeerName is the name the peer goes by in a group shared with it;
	// Agent is what its software calls itself (kith/..., kubo/...).
	PeerName string `json:"peer_name,omitempty"`
	Agent    string `json:"agent,omitempty"`
	// Cid is the root of the content the blocks belong to, and Name the
	// name it is pinned under here. Cid is empty for blocks whose root is
	// not known: a peer may ask for any block it learnt of elsewhere (a
	// folder's entry, the middle of a file fetched from several peers).
	Cid  string `json:"cid,omitempty"`
	Name string `json:"name,omitempty"`
	// Protocols carried the blocks: "kith", "bitswap", or both.
	Protocols []string `json:"protocols"`
	// Bytes and Blocks sent so far; Rate the bytes per second over the
	// last few seconds (0 once it stalls).
	Bytes  int64   `json:"bytes"`
	Blocks int64   `json:"blocks"`
	Rate   float64 `json:"rate"`
	// Since is when the upload began, Last when a block was last sent. An
	// upload idle for a minute is no longer listed.
	Since time.Time `json:"since"`
	Last  time.Time `json:"last"`
	// Finished: the peer said its fetch of Cid finished (it has all it
	// asked for) since it last asked for a block of it. An older kith,
	// and any other IPFS node, never says so.
	Finished bool `json:"finished,omitempty"`
}

// Uploads is implemented by backends that serve blocks to peers (package
// node does). The web server answers GET /uploads, and sends "uploads"
// events, only when its backend implements it.
type Uploads interface {
	// Uploads lists the active uploads, the fastest first; never nil.
	Uploads(ctx context.Context) ([]Upload, error)
}
