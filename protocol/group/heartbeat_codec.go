package group

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The binary form of a heartbeat. Every member sends one per interval and
// GossipSub delivers each to every member, so its size is most of a group's
// idle traffic: JSON with base58 peer IDs and a base64 digest took 264
// bytes where this takes about 70.
//
//	tag (heartbeatTag)
//	member peer ID    uvarint length, bytes (also the clock's node)
//	clock wall (ms)   uvarint
//	clock count       uvarint
//	incarnation       uvarint
//	used              uvarint
//	held              uvarint
//	part, parts       uvarint, uvarint
//	every (ms)        uvarint
//	digest            HeartbeatDigestLen bytes
//	roots             uvarint count, then each: uvarint length, CID bytes
//
// A JSON update starts with '{', so the tag tells the two forms apart.
const heartbeatTag = 0x01

// MaxHeartbeatEvery bounds the interval a heartbeat may announce.
const MaxHeartbeatEvery = 24 * time.Hour

// Ranges of the numbers the binary form carries. DecodeMessage holds a
// heartbeat in either form to them (see inRange), so that every heartbeat
// it accepts has a binary form.
const (
	maxHeartbeatWall = 1 << 62
	maxHeartbeatUsed = 1 << 62
	maxHeartbeatHeld = 1 << 31
)

// inRange reports whether h's numbers are within the binary form's ranges.
func (h *Heartbeat) inRange() bool {
	return h.Clock.Wall >= 0 && h.Clock.Wall <= maxHeartbeatWall &&
		h.Used >= 0 && h.Used <= maxHeartbeatUsed &&
		h.Held >= 0 && h.Held <= maxHeartbeatHeld &&
		h.Every >= 0 && h.Every <= MaxHeartbeatEvery
}

func appendHeartbeat(b []byte, h *Heartbeat) ([]byte, error) {
	if h.Clock.Node != h.Member || !h.inRange() || len(h.Digest) != HeartbeatDigestLen {
		return nil, fmt.Errorf("encode heartbeat: bad fields: %w", ErrInvalid)
	}
	id := []byte(h.Member)
	b = append(b, heartbeatTag)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	for _, v := range []uint64{
		uint64(h.Clock.Wall), uint64(h.Clock.Count), h.Incarnation, uint64(h.Used),
		uint64(h.Held), uint64(h.Part), uint64(h.Parts), uint64(h.Every / time.Millisecond),
	} {
		b = binary.AppendUvarint(b, v)
	}
	b = append(b, h.Digest...)
	b = binary.AppendUvarint(b, uint64(len(h.Roots)))
	for _, r := range h.Roots {
		rb := r.Bytes()
		b = binary.AppendUvarint(b, uint64(len(rb)))
		b = append(b, rb...)
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("encode heartbeat: %d bytes: %w", len(b), ErrTooLarge)
	}
	return b, nil
}

// hbReader reads the fields of a binary heartbeat; the first error sticks.
type hbReader struct {
	b   []byte
	err error
}

func (r *hbReader) uvarint(max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.err = fmt.Errorf("heartbeat: bad number: %w", ErrInvalid)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *hbReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < n {
		r.err = fmt.Errorf("heartbeat: truncated: %w", ErrInvalid)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// decodeHeartbeat parses the binary form; DecodeMessage checks the fields'
// meaning afterwards, as for any heartbeat.
func decodeHeartbeat(b []byte) (Heartbeat, error) {
	r := hbReader{b: b[1:]}
	const maxID, maxCID = 128, 256
	raw := r.bytes(r.uvarint(maxID))
	if r.err != nil {
		return Heartbeat{}, r.err
	}
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		return Heartbeat{}, fmt.Errorf("heartbeat: member: %v: %w", err, ErrInvalid)
	}
	var h Heartbeat
	h.Member = id
	h.Clock = HLC{Wall: int64(r.uvarint(maxHeartbeatWall)), Count: uint32(r.uvarint(1<<32 - 1)), Node: id}
	h.Incarnation = r.uvarint(1<<64 - 1)
	h.Used = int64(r.uvarint(maxHeartbeatUsed))
	h.Held = int(r.uvarint(maxHeartbeatHeld))
	h.Part = uint16(r.uvarint(MaxHeldParts))
	h.Parts = uint16(r.uvarint(MaxHeldParts))
	h.Every = time.Duration(r.uvarint(uint64(MaxHeartbeatEvery/time.Millisecond))) * time.Millisecond
	h.Digest = r.bytes(HeartbeatDigestLen)
	n := r.uvarint(MaxHeldParts * MaxHeldPage)
	if n > MaxHeldPage {
		return Heartbeat{}, fmt.Errorf("heartbeat: %d roots: %w", n, ErrTooLarge)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		raw := r.bytes(r.uvarint(maxCID))
		if r.err != nil {
			break
		}
		c, err := cid.Cast(raw)
		if err != nil {
			return Heartbeat{}, fmt.Errorf("heartbeat: root %d: %v: %w", i, err, ErrInvalid)
		}
		h.Roots = append(h.Roots, c)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("heartbeat: %d trailing bytes: %w", len(r.b), ErrInvalid)
	}
	if r.err != nil {
		return Heartbeat{}, r.err
	}
	return h, nil
}
