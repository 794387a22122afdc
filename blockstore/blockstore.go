package blockstore

import (
	"context"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// PutCopier is a Blockstore whose PutMany keeps no reference to the blocks'
// bytes once it returns (it copies what it keeps), so a caller may reuse
// their buffers. The Badger store is one; the in-memory store is not.
type PutCopier interface {
	PutCopies() bool
}

// Blockstore holds blocks keyed by CID.
//
// Implementations are safe for concurrent use. Put and PutMany trust the
// caller: verifying that bytes hash to their CID happens once, at the trust
// boundary (the network fetch path or Verify), not here. Every miss returns an
// error that matches ErrNotFound with errors.Is and carries the CID
// (see NotFoundError). Keys are compared by multihash, so a block stored under
// a CIDv0 is found under the CIDv1 of the same bytes and codec.
type Blockstore interface {
	// Get returns the block stored under c.
	Get(ctx context.Context, c cid.Cid) (blocks.Block, error)
	// Put stores one block. Storing a block that is already present is a no-op.
	Put(ctx context.Context, b blocks.Block) error
	// PutMany stores several blocks in one batch (one transaction where the
	// implementation has them).
	PutMany(ctx context.Context, bs []blocks.Block) error
	// Has reports whether c is stored. A miss is (false, nil), not an error.
	Has(ctx context.Context, c cid.Cid) (bool, error)
	// Delete removes c. Deleting a block that is absent is not an error.
	Delete(ctx context.Context, c cid.Cid) error
	// GetSize returns the size in bytes of the block stored under c.
	GetSize(ctx context.Context, c cid.Cid) (int, error)
	// AllKeys calls fn with the CID of every stored block, in no particular
	// order, until fn returns an error (which AllKeys then returns) or ctx ends.
	// fn must not write to the store.
	AllKeys(ctx context.Context, fn func(cid.Cid) error) error
}

// BlockReader is implemented by stores that read a block's bytes into
// memory the caller provides: a server sending many large blocks can then
// reuse its buffers instead of making a fresh one for each (1 GiB of
// garbage, zeroed pages and page faults per GiB sent).
type BlockReader interface {
	// ReadBlock returns the bytes stored under c, read into alloc(n), which
	// must return a slice of length n (the bytes' length); alloc is called
	// at most once, and not for a miss (an error matching ErrNotFound).
	ReadBlock(ctx context.Context, c cid.Cid, alloc func(n int) []byte) ([]byte, error)
}

// Syncer is implemented by stores that buffer writes: after Sync returns,
// every block put before the call is on stable storage.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Reclaimer is implemented by stores that give disk space back only after
// extra work (Badger's value-log GC). Callers run it after deleting blocks.
type Reclaimer interface {
	Reclaim(ctx context.Context) error
}

// ErrNotFound matches (with errors.Is) every miss of a Blockstore or PinStore.
var ErrNotFound = errors.New("not found")

// NotFoundError is the error a store returns for a CID it does not hold.
type NotFoundError struct {
	Cid cid.Cid
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s not found", e.Cid) }

// Is makes errors.Is(err, ErrNotFound) true for every NotFoundError.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFound returns the typed miss for c.
func NotFound(c cid.Cid) error { return &NotFoundError{Cid: c} }
