package blockstore

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// Pin keeps a DAG and everything it links to from garbage collection.
// All of kith's pins are recursive.
type Pin struct {
	Cid     cid.Cid   `json:"cid"`
	Name    string    `json:"name,omitempty"`
	Size    uint64    `json:"size"` // bytes of the DAG's content (file bytes, or the sum for a folder)
	Created time.Time `json:"created"`
	// Private pins are not announced in the DHT (kith add --private).
	Private bool `json:"private,omitempty"`
}

// PinStore persists pins. Implementations are safe for concurrent use.
// A miss returns an error matching ErrNotFound that carries the CID.
type PinStore interface {
	// AddPin stores p, replacing any pin on the same CID. The pin is durable
	// when AddPin returns.
	AddPin(ctx context.Context, p Pin) error
	// RemovePin removes the pin on c; a missing pin is a NotFoundError.
	RemovePin(ctx context.Context, c cid.Cid) error
	// GetPin returns the pin on c.
	GetPin(ctx context.Context, c cid.Cid) (Pin, error)
	// Pins returns every pin, oldest first.
	Pins(ctx context.Context) ([]Pin, error)
}
