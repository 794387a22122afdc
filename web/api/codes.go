package api

import (
	"context"

	"github.com/ipfs/go-cid"
)

// Code is an open short code (POST /codes): a friend's `kith get CODE`
// finds this node through it, while the request lasts, and is given the
// ticket of the content it was opened for.
type Code struct {
	Code string `json:"code"`
}

// CodeTicket is what a code stood for (POST /codes/resolve).
type CodeTicket struct {
	Ticket string `json:"ticket"`
}

// Codes is implemented by backends that open and resolve short codes
// (package node does); the web server answers /codes only then.
type Codes interface {
	// OpenCode opens a code for c, pinned here, until ctx ends; closed
	// tells why if the daemon closes it first.
	OpenCode(ctx context.Context, c cid.Cid) (code string, closed <-chan error, err error)
	// ResolveCode finds the sender of a code and returns its ticket.
	ResolveCode(ctx context.Context, code string) (string, error)
}
