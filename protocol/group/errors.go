package group

import "errors"

// Error kinds. Every error this package returns wraps one of these, so the
// caller can map it to a wire code or a user message with errors.Is.
var (
	// ErrInvalid: a message, update or token is malformed or out of bounds.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge: a payload is larger than its bound; it was not decoded.
	ErrTooLarge = errors.New("too large")
	// ErrNotMember: the sender is not a current member of the group.
	ErrNotMember = errors.New("not a group member")
	// ErrAuth: a payload failed authentication (wrong group, wrong sender or
	// tampered). Drop it, and penalise the peer that forwarded it.
	ErrAuth = errors.New("authentication failed")
	// ErrClockSkew: an update's clock is too far ahead of ours. Not fatal:
	// anti-entropy offers the update again later, when it is no longer in
	// our future.
	ErrClockSkew = errors.New("clock too far ahead")
	// ErrNotFound: no such intent or member.
	ErrNotFound = errors.New("not found")
	// ErrRemoved: this member was removed from the group by another member.
	ErrRemoved = errors.New("removed from the group")
	// ErrInvite: an invite token is mistyped, damaged or of an unknown version.
	ErrInvite = errors.New("bad invite token")
)
