package groupnet

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
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
//	M -> J  0 | group secret (32) | uvarint length | key grants (JSON)
//	     or 1 | uvarint length | why not (UTF-8, at most 512 bytes)
//
// The maker checks the invite in its book (expiry, uses, revocation); the
// joiner then joins as any member does. The key grants are the epoch keys
// (group.KeyGrant) of a group that has changed keys after a removal, so a
// member that joins after it reads what is shared next; a maker from an
// older kith sends none (the answer ends after the secret).
const InviteProtocol protocol.ID = "/kith/group-invite/1.0.0"

const (
	inviteTimeout   = 15 * time.Second
	maxInviteReason = 512
)

// InviteRedeemer admits joiner to group id with an invite key, returning
// the group's secret and the epoch keys to hand over (Group.InviteGrants),
// or an error wrapping group.ErrInvite that says why not in words the
// joiner's user can act on.
type InviteRedeemer func(joiner peer.ID, id group.GroupID, key group.InviteKey) (group.Secret, []group.KeyGrant, error)

// maxInviteGrants bounds the encoded key grants of an invite answer.
const maxInviteGrants = 1 << 20

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
	var grants []group.KeyGrant
	err := fmt.Errorf("%w: this device does not take invites", group.ErrInvite)
	if fn != nil {
		sec, grants, err = (*fn)(joiner, id, key)
	}
	var enc []byte
	if err == nil {
		if enc, err = json.Marshal(grants); err == nil && len(enc) > maxInviteGrants {
			err = fmt.Errorf("%w: the group's keys do not fit in an answer", group.ErrInvite)
		}
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
	s.log.Info("group invite redeemed", "group", id, "peer", joiner, "epoch_keys", len(grants))
	out := append([]byte{0}, sec[:]...)
	out = binary.AppendUvarint(out, uint64(len(enc)))
	_, _ = st.Write(append(out, enc...))
}

// Redeem asks member p for the secret of group id, and its epoch keys,
// with an invite key. A refusal wraps group.ErrInvite with the member's
// reason. The grants are as the member sent them: check them with
// group.Keyring.Add.
func (s *Service) Redeem(ctx context.Context, p peer.ID, id group.GroupID, key group.InviteKey) (group.Secret, []group.KeyGrant, error) {
	ctx, cancel := context.WithTimeout(ctx, inviteTimeout)
	defer cancel()
	st, err := s.host.NewStream(network.WithAllowLimitedConn(ctx, "group-invite"), p, InviteProtocol)
	if err != nil {
		return group.Secret{}, nil, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	_ = st.SetDeadline(time.Now().Add(inviteTimeout))
	req := append(append([]byte{}, id[:]...), key[:]...)
	if _, err := st.Write(req); err != nil {
		return group.Secret{}, nil, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	_ = st.CloseWrite()
	return readInviteAnswer(bufio.NewReader(st), p)
}

func readInviteAnswer(r *bufio.Reader, p peer.ID) (group.Secret, []group.KeyGrant, error) {
	sec, err := readInviteSecret(r, p)
	if err != nil {
		return group.Secret{}, nil, err
	}
	n, err := binary.ReadUvarint(r)
	if errors.Is(err, io.EOF) {
		return sec, nil, nil // a maker from an older kith
	}
	if err != nil || n > maxInviteGrants {
		return group.Secret{}, nil, fmt.Errorf("redeem invite with %s: malformed keys: %w", p, group.ErrInvalid)
	}
	enc := make([]byte, n)
	if _, err := io.ReadFull(r, enc); err != nil {
		return group.Secret{}, nil, fmt.Errorf("redeem invite with %s: %w", p, err)
	}
	var grants []group.KeyGrant
	if err := json.Unmarshal(enc, &grants); err != nil {
		return group.Secret{}, nil, fmt.Errorf("redeem invite with %s: malformed keys: %v: %w", p, err, group.ErrInvalid)
	}
	return sec, grants, nil
}

func readInviteSecret(r *bufio.Reader, p peer.ID) (group.Secret, error) {
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
