package blockstore

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
)

// Owner is who keeps a pin. A CID may be pinned by several owners at once
// (the user, and each group that placed a copy here); each owner has its
// own record, and a DAG is garbage only when no owner keeps its root.
type Owner string

// OwnerUser owns the pins the person using this node made (add, pin add,
// import): kith never removes or changes one on its own.
const OwnerUser Owner = ""

// groupOwnerPrefix starts every owner that is a group's claim.
const groupOwnerPrefix = "group:"

// GroupOwner is the owner of the copy a group keeps of one of its shares:
// "group:<group id>:<share name>". The group ID holds no colon, so the
// share's name may.
func GroupOwner(groupID, share string) Owner {
	return Owner(groupOwnerPrefix + groupID + ":" + share)
}

// Group returns the group and the share of a group's owner; ok is false
// for any other owner (the user's).
func (o Owner) Group() (groupID, share string, ok bool) {
	rest, ok := strings.CutPrefix(string(o), groupOwnerPrefix)
	if !ok {
		return "", "", false
	}
	groupID, share, _ = strings.Cut(rest, ":")
	return groupID, share, true
}

// IsUser reports whether o is the user.
func (o Owner) IsUser() bool { return o == OwnerUser }

// Pin is one owner's claim on a DAG: it keeps the DAG and everything it
// links to from garbage collection. All of kith's pins are recursive.
type Pin struct {
	Cid cid.Cid `json:"cid"`
	// Owner is who keeps it (OwnerUser, omitted, for the user).
	Owner Owner  `json:"owner,omitempty"`
	Name  string `json:"name,omitempty"` // the user's name for it, or a group's share name
	Size  uint64 `json:"size"`           // bytes of the DAG's content (file bytes, or the sum for a folder)
	// Created is when this owner pinned it.
	Created time.Time `json:"created"`
	// Private pins are not announced in the DHT (kith add --private).
	Private bool `json:"private,omitempty"`
	// Meta, when set, is kept with the DAG, as pinned as it is: the small
	// file of a shared folder's modes and times (group.Intent.Meta).
	Meta cid.Cid `json:"meta,omitzero"`
}

// PinStore persists pins, one record per (CID, owner). Implementations are
// safe for concurrent use. A miss returns an error matching ErrNotFound
// that carries the CID.
type PinStore interface {
	// AddPin stores p as p.Owner's record on p.Cid, replacing only the
	// record of that same owner: other owners' records on the CID stay.
	// The pin is durable when AddPin returns.
	AddPin(ctx context.Context, p Pin) error
	// RemovePin removes owner's record on c, and no other owner's; a
	// missing record is a NotFoundError.
	RemovePin(ctx context.Context, c cid.Cid, owner Owner) error
	// GetPin returns owner's record on c.
	GetPin(ctx context.Context, c cid.Cid, owner Owner) (Pin, error)
	// PinsOf returns every owner's record on c, the user's first, then by
	// owner. A CID no one pinned has none: (nil, nil), not an error.
	PinsOf(ctx context.Context, c cid.Cid) ([]Pin, error)
	// Pins returns every record of every owner, oldest first (a CID with
	// several owners appears once per owner).
	Pins(ctx context.Context) ([]Pin, error)
}

// PinnedRoots returns the CIDs at least one owner keeps, in the order of
// their oldest record: the roots garbage collection keeps.
func PinnedRoots(pins []Pin) []cid.Cid {
	seen := make(map[cid.Cid]bool, len(pins))
	out := make([]cid.Cid, 0, len(pins))
	for _, p := range pins {
		if !seen[p.Cid] {
			seen[p.Cid] = true
			out = append(out, p.Cid)
		}
	}
	return out
}

// sortPins orders pins oldest first; ties break on the CID, then the owner,
// so that listings are stable across calls and across store implementations.
func sortPins(ps []Pin) {
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].Created.Equal(ps[j].Created) {
			return ps[i].Created.Before(ps[j].Created)
		}
		if a, b := ps[i].Cid.KeyString(), ps[j].Cid.KeyString(); a != b {
			return a < b
		}
		return ps[i].Owner < ps[j].Owner
	})
}

// sortOwners orders one CID's records by owner: the user's ("") first.
func sortOwners(ps []Pin) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Owner < ps[j].Owner })
}
