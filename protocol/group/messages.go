package group

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Gossip messages. Every one is small: an update is one entry; a heartbeat
// carries one page of the sender's held roots. Before anything is merged,
// the receiver checks, in order: the payload size (DecodeMessage), the
// payload's authentication for the claimed sender (Keys.Open), the shape and
// bounds (DecodeMessage), and the sender's right to say it (Validate).

// Bounds of gossip messages.
const (
	MaxMessageSize = 64 << 10 // encoded, before sealing
	MaxHeldPage    = 256      // roots per heartbeat page
	MaxHeldParts   = 1024     // pages: a member reports at most 256K roots
)

// Message is one gossip message: exactly one of Update or Heartbeat.
type Message struct {
	Update    *Update    `json:"u,omitempty"`
	Heartbeat *Heartbeat `json:"h,omitempty"`
}

// Heartbeat says that a member is alive, what it offers and uses, which
// replica roots it holds, and its state digest (a receiver whose digest
// differs starts a sync).
//
// Held roots are paged: a member holding more than MaxHeldPage roots splits
// them into Parts pages by root hash (see HeldPart) and sends one page per
// heartbeat, in turn. A receiver replaces what it knew of that page. A member
// only lists roots it can serve (all blocks present and verified): a holder
// whose store fails stops claiming the copy, and placement moves it.
type Heartbeat struct {
	Member      peer.ID   `json:"m"`
	Clock       HLC       `json:"t"`
	Incarnation uint64    `json:"inc"` // bumped on every restart: resets what others know of its holdings
	Used        int64     `json:"used"`
	Held        int       `json:"held"` // roots held in total
	Part        uint16    `json:"part"`
	Parts       uint16    `json:"parts"`
	Roots       []cid.Cid `json:"roots,omitempty"`
	// Digest is the first HeartbeatDigestLen bytes of the sender's state
	// digest: enough to tell that two states differ.
	Digest []byte `json:"digest"`
	// Every is how often the sender beats (see Config.HeartbeatEvery):
	// receivers suspect it after SuspectBeats of its intervals of silence.
	// Zero: the receiver's own SuspectAfter.
	Every time.Duration `json:"every,omitempty"`
	// Offline: the sender's daemon is stopping (its goodbye, which repeats
	// its last heartbeat's page, so a kith that does not know this field
	// takes it for that heartbeat again). Receivers show it offline at
	// once; its copies still count until the grace period has passed.
	Offline bool `json:"off,omitempty"`
}

// HeartbeatDigestLen is how many bytes of the state digest a heartbeat
// carries.
const HeartbeatDigestLen = 8

// HeldPart returns the page a root belongs to when held roots are split
// into parts pages.
func HeldPart(root cid.Cid, parts uint16) uint16 {
	if parts <= 1 {
		return 0
	}
	kh, _ := keyHash(root.KeyString())
	return uint16(kh % uint64(parts))
}

// HeldParts returns how many pages a member holding n roots sends.
func HeldParts(n int) uint16 {
	p := uint16(1)
	for int(p)*MaxHeldPage < n*2 && p < MaxHeldParts { // pages half full on average
		p *= 2
	}
	return p
}

// EncodeMessage encodes m for gossip (seal the result with Keys.Seal).
// Heartbeats, the bulk of idle traffic, have a compact binary form (see
// heartbeat_codec.go); updates are JSON.
func EncodeMessage(m Message) ([]byte, error) {
	// A goodbye goes in the JSON form, which every kith reads and whose
	// unknown fields older ones ignore: they take it for the heartbeat it
	// repeats, where the binary form's extra field would be refused.
	if m.Heartbeat != nil && m.Update == nil && !m.Heartbeat.Offline {
		return appendHeartbeat(nil, m.Heartbeat)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode group message: %w", err)
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("encode group message: %d bytes: %w", len(b), ErrTooLarge)
	}
	return b, nil
}

// DecodeMessage decodes an opened payload and checks its shape and bounds.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return Message{}, fmt.Errorf("group message of %d bytes: %w", len(b), ErrTooLarge)
	}
	var m Message
	if len(b) > 0 && b[0] == heartbeatTag {
		h, err := decodeHeartbeat(b)
		if err != nil {
			return Message{}, err
		}
		m.Heartbeat = &h
	} else if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("group message: %v: %w", err, ErrInvalid)
	}
	if (m.Update == nil) == (m.Heartbeat == nil) {
		return Message{}, fmt.Errorf("group message must hold exactly one of update, heartbeat: %w", ErrInvalid)
	}
	if m.Update != nil {
		if err := m.Update.Validate(); err != nil {
			return Message{}, err
		}
		return m, nil
	}
	h := m.Heartbeat
	switch {
	case h.Member.Validate() != nil || h.Clock.Node != h.Member:
		return Message{}, fmt.Errorf("heartbeat: member and clock disagree: %w", ErrInvalid)
	case h.Parts == 0 || h.Parts > MaxHeldParts || h.Part >= h.Parts:
		return Message{}, fmt.Errorf("heartbeat: page %d of %d: %w", h.Part, h.Parts, ErrInvalid)
	case len(h.Roots) > MaxHeldPage:
		return Message{}, fmt.Errorf("heartbeat: %d roots: %w", len(h.Roots), ErrTooLarge)
	case !h.inRange() || h.Held < len(h.Roots) || len(h.Digest) != HeartbeatDigestLen:
		return Message{}, fmt.Errorf("heartbeat: bad counts or digest: %w", ErrInvalid)
	}
	for _, r := range h.Roots {
		if !r.Defined() || HeldPart(r, h.Parts) != h.Part {
			return Message{}, fmt.Errorf("heartbeat: root %s not in page %d: %w", r, h.Part, ErrInvalid)
		}
	}
	// The binary form counts milliseconds; the JSON form of older members
	// may carry a finer interval.
	h.Every = h.Every.Truncate(time.Millisecond)
	return m, nil
}

// Validate checks that sender may say m, given our state and wall clock:
//   - an update's writer must be the sender (gossip carries only the writer's
//     own updates; others' updates travel by sync);
//   - a member record is written by the member itself (anyone holding the
//     secret may join);
//   - an intent's or an epoch's writer must be a current member;
//   - a heartbeat must name its sender, who must be a current member;
//   - no timestamp may be more than MaxClockSkew ahead of now.
//
// sender is the peer that signed the GossipSub message, the same peer the
// payload was opened for.
func (m Message) Validate(sender peer.ID, s *State, now time.Time) error {
	if u := m.Update; u != nil {
		if u.Version().Node != sender {
			return fmt.Errorf("update %s from %s written by %s: %w", u.Key(), sender, u.Version().Node, ErrInvalid)
		}
		if err := checkSkew(u.Version(), now); err != nil {
			return err
		}
		if (u.Intent != nil || u.Epoch != nil || u.removal()) && !s.IsMember(sender) {
			return fmt.Errorf("%s from %s: %w", u.Key(), sender, ErrNotMember)
		}
		return nil
	}
	h := m.Heartbeat
	if h.Member != sender {
		return fmt.Errorf("heartbeat for %s sent by %s: %w", h.Member, sender, ErrInvalid)
	}
	if err := checkSkew(h.Clock, now); err != nil {
		return err
	}
	if !s.IsMember(sender) {
		return fmt.Errorf("heartbeat from %s: %w", sender, ErrNotMember)
	}
	return nil
}
