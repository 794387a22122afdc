package protocol

import (
	"fmt"

	"github.com/kith-p2p/kith/blockstore"
)

// ErrorCode is the kind of a failure reported to the remote end of a stream.
// The list is deliberately short: a requester only needs to know whether to
// ask someone else (NotFound, Unavailable), fix its request (Invalid), or give
// up on this peer (Internal). Values are part of the wire format; never
// renumber them.
type ErrorCode uint8

const (
	// CodeNotFound: the peer does not hold what was asked for.
	CodeNotFound ErrorCode = 1
	// CodeInvalid: the request was malformed or out of bounds.
	CodeInvalid ErrorCode = 2
	// CodeUnavailable: the peer is busy or shutting down; retry elsewhere or later.
	CodeUnavailable ErrorCode = 3
	// CodeInternal: the peer failed while serving (for example a disk error).
	CodeInternal ErrorCode = 4
)

// String returns the code's name as used in logs and error messages.
func (c ErrorCode) String() string {
	switch c {
	case CodeNotFound:
		return "not found"
	case CodeInvalid:
		return "invalid request"
	case CodeUnavailable:
		return "unavailable"
	case CodeInternal:
		return "internal error"
	default:
		return fmt.Sprintf("error code %d", uint8(c))
	}
}

// RemoteError is an error the remote peer reported on the wire. Message is
// the peer's own text: untrusted, bounded by the protocol, for logs only.
type RemoteError struct {
	Code    ErrorCode
	Message string
}

// Error describes the remote failure in one line.
func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "remote: " + e.Code.String()
	}
	return fmt.Sprintf("remote: %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, blockstore.ErrNotFound) true for a remote
// CodeNotFound, so callers handle local and remote misses alike.
func (e *RemoteError) Is(target error) bool {
	return e.Code == CodeNotFound && target == blockstore.ErrNotFound
}
