package groupnet

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/kith-p2p/kith/protocol/group"
)

// InviteProtocol redeems an invite (token version 2) with the member that
// made it, over a stream to that member's peer ID (so the channel is
// encrypted and authenticated by libp2p):
//
//	J -> M  group ID (16) | invite key (32)
//	M -> J  0 | group secret (32)
//	     or 1 | uvarint length | why not (UTF-8, at most 512 bytes)
//
// The maker checks the invite in its book (expiry, uses, revocation); the
// joiner then joins as any member does.
const InviteProtocol protocol.ID = "/kith/group-invite/1.0.0"

const (
	inviteTimeout   = 15 * time.Second
	maxInviteReason = 512
)

// InviteRedeemer admits joiner to group id with an invite key, returning
// the group's secret, or an error wrapping group.ErrInvite that says why
// not in words the joiner's user can act on.
type InviteRedeemer func(joiner peer.ID, id group.GroupID, key group.InviteKey) (group.Secret, error)

// HandleInvites serves InviteProtocol with fn.
func (s *Service) HandleInvites(fn InviteRedeemer) {
	s.redeem.Store(&fn)
	s.host.SetStreamHandler(InviteProtocol, s.handleInvite)
}

func (s *Service) handleInvite(st network.Stream) {
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(inviteTimeout))
	var req [len(group.GroupID{}) + len(group.InviteKey{})]byte
	if _, err := io.ReadFull(st, req[:]); err != nil {
		_ = st.Reset()
		return
	}
	var id group.GroupID
	var key group.InviteKey
	copy(id[:], req[:len(id)])
	copy(key[:], req[len(id):])
	joiner := st.Conn().RemotePeer()
	fn := s.redeem.Load()
	var sec group.Secret
	err := fmt.Errorf("%w: this device does not take invites", group.ErrInvite)
	if fn != nil {
		sec, err = (*fn)(joiner, id, key)
	}
	if err != nil {
		s.log.Info("group invite refused", "group", id, "peer", joiner, "err", err)
		why := strings.TrimPrefix(err.Error(), group.ErrInvite.Error()+": ")
		if len(why) > maxInviteReason {
			why = why[:maxInviteReason]
		}
		out := binary.AppendUvarint([]byte{1}, uint64(len(why)))
		_, _ = st.Write(append(out, why...))
		return
	}
	s.log.Info("group invite redeemed", "group", id, "peer", joiner)
	_, _ = st.Write(append([]byte{0}, sec[:]...))
}

// Redeem asks member p for the secret of group id with an invite key. A
// refusal wraps group.ErrInvite with the member's reason.
func (s *Service) Redeem(ctx context.Context, p peer.ID, id group.GroupID, key group.InviteKey) (group.Secret, error) {
	ctx, cancel := context.WithTimeout(ctx, inviteTimeout)
	defer cancel()
	st, err := s.host.NewStream(network.WithAllowLimitedConn(ctx, "group-invite"), p, InviteProtocol)
	if err != nil {
		return group.Secret{}, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	_ = st.SetDeadline(time.Now().Add(inviteTimeout))
	req := append(append([]byte{}, id[:]...), key[:]...)
	if _, err := st.Write(req); err != nil {
		return group.Secret{}, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	_ = st.CloseWrite()
	return readInviteAnswer(bufio.NewReader(st), p)
}

func readInviteAnswer(r *bufio.Reader, p peer.ID) (group.Secret, error) {
	status, err := r.ReadByte()
	if err != nil {
		return group.Secret{}, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	switch status {
	case 0:
		var sec group.Secret
		if _, err := io.ReadFull(r, sec[:]); err != nil {
			return group.Secret{}, fmt.Errorf("redeem invite with %s: %w", p, err)
		}
		return sec, nil
	case 1:
		n, err := binary.ReadUvarint(r)
		if err != nil || n > maxInviteReason {
			return group.Secret{}, fmt.Errorf("redeem invite with %s: a malformed refusal: %w", p, group.ErrInvalid)
		}
		why := make([]byte, n)
		if _, err := io.ReadFull(r, why); err != nil {
			return group.Secret{}, fmt.Errorf("redeem invite with %s: %w", p, err)
		}
		if !utf8.Valid(why) {
			return group.Secret{}, fmt.Errorf("redeem invite with %s: a malformed refusal: %w", p, group.ErrInvalid)
		}
		return group.Secret{}, fmt.Errorf("%w: %s", group.ErrInvite, printable(string(why)))
	}
	return group.Secret{}, fmt.Errorf("redeem invite with %s: answer %d: %w", p, status, group.ErrInvalid)
}

// printable drops control characters from a peer's words.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
