package group

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
)

// The invite token is everything a new member needs on one line:
//
//	kith1-<base32 of: version(1) | name len(1) | name | secret(32) |
//	        address count(1) | (address len(2) | address)... | checksum(4)>
//
// The checksum is the first 4 bytes of sha256("kith invite" || body), so a
// mistyped or truncated token is reported as such rather than as a wrong
// group. Base32 is case-insensitive, so a token read aloud or retyped in
// capitals still works; whitespace and line breaks are ignored.
//
// The token holds the group secret: it is a password. Never log it, never
// pass it on a command line others can list; the daemon keeps it in a 0600
// file.

// InvitePrefix starts every invite token.
const InvitePrefix = "kith1-"

const (
	inviteVersion  = 1
	maxInviteAddrs = 16
	maxInviteLen   = 8 << 10
)

var inviteEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Invite is the content of an invite token.
type Invite struct {
	Name   string   // the group's name as its creator called it
	Secret Secret   // the group secret
	Addrs  []string // multiaddrs (with /p2p/<id>) of current members to dial
}

// EncodeInvite returns the token for inv.
func EncodeInvite(inv Invite) (string, error) {
	if err := validName(inv.Name); err != nil {
		return "", fmt.Errorf("invite: group %w", err)
	}
	if len(inv.Addrs) > maxInviteAddrs {
		inv.Addrs = inv.Addrs[:maxInviteAddrs]
	}
	b := []byte{inviteVersion, byte(len(inv.Name))}
	b = append(b, inv.Name...)
	b = append(b, inv.Secret[:]...)
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
	if body[0] != inviteVersion {
		return Invite{}, fmt.Errorf("%w: version %d is not supported by this kith (upgrade?)", ErrInvite, body[0])
	}
	r := body[1:]
	malformed := fmt.Errorf("%w: malformed content", ErrInvite)
	var inv Invite
	n := int(r[0])
	if len(r) < 1+n+32+1 {
		return Invite{}, malformed
	}
	inv.Name, r = string(r[1:1+n]), r[1+n:]
	copy(inv.Secret[:], r[:32])
	count, r := int(r[32]), r[33:]
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
