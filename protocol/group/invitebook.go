package group

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultInviteTTL is how long an invite is good for unless its maker says
// otherwise.
const DefaultInviteTTL = 7 * 24 * time.Hour

// MaxInviteTTL bounds an invite's life: a token is a password, and one that
// never expires is one nobody remembers to revoke.
const MaxInviteTTL = 365 * 24 * time.Hour

// InviteRecord is one invite as its maker keeps it: never the key, only its
// ID, so the book cannot be used to redeem anything.
type InviteRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Uses is how many devices may join with it; 0 means any number until
	// it expires.
	Uses    int       `json:"uses,omitempty"`
	Joined  []peer.ID `json:"joined,omitempty"` // devices that redeemed it
	Revoked bool      `json:"revoked,omitempty"`
}

// Open reports whether the invite can still admit a device at now.
func (r InviteRecord) Open(now time.Time) bool {
	return !r.Revoked && now.Before(r.Expires) && (r.Uses == 0 || len(r.Joined) < r.Uses)
}

// InviteBook is the invites a member made for one group. Only the maker
// redeems its invites, so single use is exact. Not safe for concurrent use.
type InviteBook struct {
	Invites []InviteRecord `json:"invites"`
}

// Add records a new invite for key, good until now+ttl for uses devices
// (0: any number).
func (b *InviteBook) Add(key InviteKey, now time.Time, ttl time.Duration, uses int) (InviteRecord, error) {
	if ttl <= 0 || ttl > MaxInviteTTL {
		return InviteRecord{}, fmt.Errorf("an invite must expire within %d days: %w", int(MaxInviteTTL.Hours()/24), ErrInvalid)
	}
	if uses < 0 {
		return InviteRecord{}, fmt.Errorf("an invite's uses cannot be negative: %w", ErrInvalid)
	}
	r := InviteRecord{ID: key.ID(), Created: now, Expires: now.Add(ttl), Uses: uses}
	b.Invites = append(b.Invites, r)
	return r, nil
}

// Redeem admits joiner with key at now, or says why not: unknown or
// revoked, expired, used up. The same device redeeming again (a retry after
// a failed join) is admitted while the invite has not expired or been
// revoked.
func (b *InviteBook) Redeem(key InviteKey, joiner peer.ID, now time.Time) error {
	i := slices.IndexFunc(b.Invites, func(r InviteRecord) bool { return r.ID == key.ID() })
	if i < 0 {
		return fmt.Errorf("%w: this member has no such invite (revoked, or made by another member)", ErrInvite)
	}
	r := &b.Invites[i]
	switch {
	case r.Revoked:
		return fmt.Errorf("%w: it was revoked; ask a member for a new one", ErrInvite)
	case !now.Before(r.Expires):
		return fmt.Errorf("%w: it expired on %s; ask a member for a new one", ErrInvite, r.Expires.Local().Format("2006-01-02 15:04"))
	case slices.Contains(r.Joined, joiner):
		return nil
	case r.Uses > 0 && len(r.Joined) >= r.Uses:
		return fmt.Errorf("%w: it was already used by %s; ask a member for a new one", ErrInvite, plural(len(r.Joined), "device"))
	}
	r.Joined = append(r.Joined, joiner)
	return nil
}

// Revoke revokes the invite whose ID starts with id (at least 4
// characters), or every open one for id "all", and returns how many.
func (b *InviteBook) Revoke(id string, now time.Time) (int, error) {
	if id != "all" && len(id) < 4 {
		return 0, fmt.Errorf("name the invite by at least 4 characters of its ID, or all: %w", ErrInvalid)
	}
	n := 0
	for i := range b.Invites {
		r := &b.Invites[i]
		if (id == "all" || len(id) <= len(r.ID) && r.ID[:len(id)] == id) && r.Open(now) {
			r.Revoked = true
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no open invite %q: %w", id, ErrNotFound)
	}
	return n, nil
}

// Prune drops invites that expired more than a week before now, so the
// book does not grow forever.
func (b *InviteBook) Prune(now time.Time) {
	b.Invites = slices.DeleteFunc(b.Invites, func(r InviteRecord) bool { return now.Sub(r.Expires) > 7*24*time.Hour })
}

// Marshal encodes the book for its file.
func (b *InviteBook) Marshal() ([]byte, error) {
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode invites: %w", err)
	}
	return out, nil
}

// UnmarshalInviteBook decodes a book written by Marshal.
func UnmarshalInviteBook(data []byte) (*InviteBook, error) {
	var b InviteBook
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode invites: %v: %w", err, ErrInvalid)
	}
	return &b, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
