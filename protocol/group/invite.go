package group

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// The invite token is everything a new member needs on one line:
//
//	kith1-<base32 of: version(1) | name len(1) | name | key part |
//	        address count(1) | (address len(2) | address)... | checksum(4)>
//
// where the key part is, in version 2 (what kith makes), the group's ID (16)
// and an invite key (32): the joiner shows the key to the member that made
// the invite (over a libp2p stream to that member's peer ID, which the
// addresses name), and that member, if the invite has not expired, been
// used up or revoked, answers with the group secret (see InviteBook). In
// version 1 (older kith) the key part was the group secret itself: such a
// token never expires, and kith refuses it now.
//
// The checksum is the first 4 bytes of sha256("kith invite" || body), so a
// mistyped or truncated token is reported as such rather than as a wrong
// group. Base32 is case-insensitive, so a token read aloud or retyped in
// capitals still works; whitespace and line breaks are ignored.
//
// The token is a password until it expires. Never log it, never pass it on
// a command line others can list.

// InvitePrefix starts every invite token.
const InvitePrefix = "kith1-"

const (
	inviteV1       = 1
	inviteV2       = 2
	maxInviteAddrs = 16
	maxInviteLen   = 8 << 10
)

var inviteEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// InviteKey is the secret of one invite (version 2).
type InviteKey [32]byte

// String hides the key.
func (InviteKey) String() string { return "group.InviteKey(redacted)" }

// GoString hides the key from %#v too.
func (InviteKey) GoString() string { return "group.InviteKey(redacted)" }

// NewInviteKey returns a random invite key.
func NewInviteKey() (InviteKey, error) {
	var k InviteKey
	if _, err := rand.Read(k[:]); err != nil {
		return InviteKey{}, fmt.Errorf("invite key: %w", err)
	}
	return k, nil
}

// ID names the invite in the inviter's book without being able to redeem
// it: a hash of the key.
func (k InviteKey) ID() string {
	h := sha256.Sum256(append([]byte("kith invite id\x00"), k[:]...))
	return hex.EncodeToString(h[:8])
}

// Invite is the content of an invite token: version 2 carries Group and
// Key, version 1 (from an older kith) Secret.
type Invite struct {
	Name   string    // the group's name as its creator called it
	Group  GroupID   // v2: the group's ID
	Key    InviteKey // v2: redeemed with the inviter for the secret
	Secret Secret    // v1 only: the group secret itself
	Addrs  []string  // multiaddrs (with /p2p/<id>) of the inviter to dial
}

// Legacy reports whether inv is a version 1 token (it holds the secret and
// never expires).
func (inv Invite) Legacy() bool { return inv.Key == InviteKey{} }

// EncodeInvite returns the token for inv.
func EncodeInvite(inv Invite) (string, error) {
	if err := validName(inv.Name); err != nil {
		return "", fmt.Errorf("invite: group %w", err)
	}
	if len(inv.Addrs) > maxInviteAddrs {
		inv.Addrs = inv.Addrs[:maxInviteAddrs]
	}
	version := byte(inviteV2)
	if inv.Legacy() {
		version = inviteV1
	}
	b := []byte{version, byte(len(inv.Name))}
	b = append(b, inv.Name...)
	if inv.Legacy() {
		b = append(b, inv.Secret[:]...)
	} else {
		b = append(b, inv.Group[:]...)
		b = append(b, inv.Key[:]...)
	}
	b = append(b, byte(len(inv.Addrs)))
	for _, a := range inv.Addrs {
		if !validAddr(a) {
			return "", fmt.Errorf("invite: bad address: %w", ErrInvalid)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
		b = append(b, a...)
	}
	b = append(b, inviteSum(b)...)
	return InvitePrefix + inviteEncoding.EncodeToString(b), nil
}

func inviteSum(body []byte) []byte {
	h := sha256.New()
	h.Write([]byte("kith invite"))
	h.Write(body)
	return h.Sum(nil)[:4]
}

// DecodeInvite parses a token. Its errors wrap ErrInvite and say what is
// wrong in words a user can act on.
func DecodeInvite(token string) (Invite, error) {
	token = strings.Join(strings.Fields(token), "")
	if len(token) > maxInviteLen {
		return Invite{}, fmt.Errorf("%w: far too long to be an invite", ErrInvite)
	}
	token = strings.ToLower(token)
	if !strings.HasPrefix(token, InvitePrefix) {
		return Invite{}, fmt.Errorf("%w: it must start with %q", ErrInvite, InvitePrefix)
	}
	b, err := inviteEncoding.DecodeString(token[len(InvitePrefix):])
	if err != nil {
		return Invite{}, fmt.Errorf("%w: it has a character that cannot be in a token (mistyped or cut?)", ErrInvite)
	}
	if len(b) < 1+1+32+1+4 {
		return Invite{}, fmt.Errorf("%w: it is too short (cut off when copied?)", ErrInvite)
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if string(inviteSum(body)) != string(sum) {
		return Invite{}, fmt.Errorf("%w: checksum mismatch (mistyped, or cut off when copied?)", ErrInvite)
	}
	keyLen := 0
	switch body[0] {
	case inviteV1:
		keyLen = len(Secret{})
	case inviteV2:
		keyLen = len(GroupID{}) + len(InviteKey{})
	default:
		return Invite{}, fmt.Errorf("%w: version %d is not supported by this kith (upgrade?)", ErrInvite, body[0])
	}
	r := body[1:]
	malformed := fmt.Errorf("%w: malformed content", ErrInvite)
	var inv Invite
	n := int(r[0])
	if len(r) < 1+n+keyLen+1 {
		return Invite{}, malformed
	}
	inv.Name, r = string(r[1:1+n]), r[1+n:]
	if body[0] == inviteV1 {
		copy(inv.Secret[:], r[:keyLen])
	} else {
		copy(inv.Group[:], r[:len(inv.Group)])
		copy(inv.Key[:], r[len(inv.Group):keyLen])
		if inv.Legacy() {
			return Invite{}, malformed
		}
	}
	count, r := int(r[keyLen]), r[keyLen+1:]
	if count > maxInviteAddrs {
		return Invite{}, malformed
	}
	for range count {
		if len(r) < 2 {
			return Invite{}, malformed
		}
		l := int(binary.BigEndian.Uint16(r))
		if len(r) < 2+l {
			return Invite{}, malformed
		}
		a := string(r[2 : 2+l])
		if !validAddr(a) {
			return Invite{}, malformed
		}
		inv.Addrs, r = append(inv.Addrs, a), r[2+l:]
	}
	if len(r) != 0 || validName(inv.Name) != nil {
		return Invite{}, malformed
	}
	return inv, nil
}
