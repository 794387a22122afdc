package group

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
)

// Range is a half-open range [Lo, Hi) of the key-hash space (the first 8
// bytes of sha256(key) as a big-endian number). Hi == 0 means the end of the
// space, so Range{} is everything.
type Range struct {
	Lo uint64 `json:"lo,omitempty"`
	Hi uint64 `json:"hi,omitempty"`
}

// Full is the whole key space.
var Full = Range{}

func (r Range) contains(kh uint64) bool { return kh >= r.Lo && (r.Hi == 0 || kh < r.Hi) }

// width returns Hi-Lo, with the full space as MaxUint64 (one short, which
// only matters for splitting and does not lose keys: the last part ends at Hi).
func (r Range) width() uint64 {
	if r.Hi == 0 {
		return math.MaxUint64 - r.Lo
	}
	return r.Hi - r.Lo
}

// Split cuts r into at most n parts of equal width. A range narrower than n
// is cut into single key hashes.
func (r Range) Split(n int) []Range {
	w := r.width()
	step := w / uint64(n)
	if step == 0 {
		step = 1
	}
	var out []Range
	lo := r.Lo
	for i := 0; i < n; i++ {
		hi := lo + step
		if i == n-1 || (r.Hi != 0 && hi >= r.Hi) || hi < lo {
			out = append(out, Range{Lo: lo, Hi: r.Hi})
			break
		}
		out = append(out, Range{Lo: lo, Hi: hi})
		lo = hi
	}
	return out
}

func (r Range) String() string {
	if r.Hi == 0 {
		return fmt.Sprintf("[%016x, end)", r.Lo)
	}
	return fmt.Sprintf("[%016x, %016x)", r.Lo, r.Hi)
}

// Fingerprint summarises the entries in a range: equal sets of entries have
// equal fingerprints, different ones differ but for a 2^-128 chance.
type Fingerprint [16]byte

// RangeDigest is the digest of the entries of one range.
type RangeDigest struct {
	Range Range       `json:"r"`
	Count int         `json:"n"`
	FP    Fingerprint `json:"f"`
}

func fingerprint(count int, s sum256) Fingerprint {
	var b [40]byte
	for i, l := range s {
		binary.LittleEndian.PutUint64(b[i*8:], l)
	}
	binary.LittleEndian.PutUint64(b[32:], uint64(count))
	d := sha256.Sum256(b[:])
	var f Fingerprint
	copy(f[:], d[:])
	return f
}

// RangeDigest returns the digest of the entries in r, in O(log n).
func (s *State) RangeDigest(r Range) RangeDigest {
	cLo, sLo := treePrefix(s.root, r.Lo)
	var cHi int
	var sHi sum256
	if r.Hi == 0 {
		if s.root != nil {
			cHi, sHi = s.root.count, s.root.sum
		}
	} else {
		cHi, sHi = treePrefix(s.root, r.Hi)
	}
	n := cHi - cLo
	return RangeDigest{Range: r, Count: n, FP: fingerprint(n, sHi.sub(sLo))}
}

// Digests returns the digests of r split into n parts: what a member sends
// to find which parts of the key space differ.
func (s *State) Digests(r Range, n int) []RangeDigest {
	parts := r.Split(n)
	out := make([]RangeDigest, len(parts))
	for i, p := range parts {
		out[i] = s.RangeDigest(p)
	}
	return out
}

// Digest is the digest of the whole state: members that hold the same
// entries have the same digest. Heartbeats carry it, so a member notices it
// is behind without a sync round. O(1).
func (s *State) Digest() [32]byte {
	d := s.RangeDigest(Full)
	var out [32]byte
	copy(out[:], d.FP[:])
	binary.BigEndian.PutUint64(out[16:], uint64(d.Count))
	return out
}
