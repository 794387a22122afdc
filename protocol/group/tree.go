package group

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// The state's entries live in a persistent treap ordered by (key hash, key).
// Persistent means an insert copies the O(log n) nodes on its path and never
// changes a node another tree can see, so State.Clone is one pointer copy and
// a clone can be read (marshalled, served to a sync peer) while the original
// keeps merging. The treap's priorities come from the key, so one set of
// entries always has one shape. Each node carries the count and the sum
// (mod 2^256) of its subtree's entry hashes: the digest of any key-hash range
// is then two O(log n) prefix sums, which is what range reconciliation needs.

// sum256 is a 256-bit number, little-endian limbs, with addition mod 2^256.
// A sum (rather than XOR) of entry hashes is what negentropy uses: equal sets
// give equal sums, and an accidental match needs a 2^-256 coincidence.
type sum256 [4]uint64

func (a sum256) add(b sum256) sum256 {
	var c uint64
	for i := range a {
		a[i], c = bits.Add64(a[i], b[i], c)
	}
	return a
}

func (a sum256) sub(b sum256) sum256 {
	var c uint64
	for i := range a {
		a[i], c = bits.Sub64(a[i], b[i], c)
	}
	return a
}

func sumOf(h [32]byte) sum256 {
	var s sum256
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(h[i*8:])
	}
	return s
}

type node struct {
	kh    uint64 // first 8 bytes of sha256(key): position in the key space
	prio  uint64 // next 8 bytes: treap priority
	key   string
	u     Update
	h     [32]byte // hash of the entry (key and value)
	count int
	sum   sum256
	left  *node
	right *node
}

func keyHash(key string) (kh, prio uint64) {
	d := sha256.Sum256([]byte(key))
	return binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:16])
}

func newNode(u Update) *node {
	key := u.Key()
	kh, prio := keyHash(key)
	n := &node{kh: kh, prio: prio, key: key, u: u, h: u.hash()}
	n.fix()
	return n
}

func (n *node) fix() {
	n.count = 1
	n.sum = sumOf(n.h)
	if n.left != nil {
		n.count += n.left.count
		n.sum = n.sum.add(n.left.sum)
	}
	if n.right != nil {
		n.count += n.right.count
		n.sum = n.sum.add(n.right.sum)
	}
}

func (n *node) clone() *node { c := *n; return &c }

func cmpPos(kh uint64, key string, n *node) int {
	if c := cmp.Compare(kh, n.kh); c != 0 {
		return c
	}
	return cmp.Compare(key, n.key)
}

func treeGet(n *node, key string) *node {
	kh, _ := keyHash(key)
	for n != nil {
		switch c := cmpPos(kh, key, n); {
		case c < 0:
			n = n.left
		case c > 0:
			n = n.right
		default:
			return n
		}
	}
	return nil
}

// treeInsert returns a tree with x put in place of any entry with its key.
// Every node it returns on the path is fresh, so it may rotate them.
func treeInsert(n, x *node) *node {
	if n == nil {
		return x
	}
	switch c := cmpPos(x.kh, x.key, n); {
	case c == 0:
		x.left, x.right = n.left, n.right
		x.fix()
		return x
	case c < 0:
		l := treeInsert(n.left, x)
		nn := n.clone()
		nn.left = l
		if l.prio > nn.prio {
			nn.left = l.right
			nn.fix()
			l.right = nn
			l.fix()
			return l
		}
		nn.fix()
		return nn
	default:
		r := treeInsert(n.right, x)
		nn := n.clone()
		nn.right = r
		if r.prio > nn.prio {
			nn.right = r.left
			nn.fix()
			r.left = nn
			r.fix()
			return r
		}
		nn.fix()
		return nn
	}
}

func treeJoin(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		na := a.clone()
		na.right = treeJoin(a.right, b)
		na.fix()
		return na
	default:
		nb := b.clone()
		nb.left = treeJoin(a, b.left)
		nb.fix()
		return nb
	}
}

func treeDelete(n *node, kh uint64, key string) *node {
	if n == nil {
		return nil
	}
	switch c := cmpPos(kh, key, n); {
	case c == 0:
		return treeJoin(n.left, n.right)
	case c < 0:
		nn := n.clone()
		nn.left = treeDelete(n.left, kh, key)
		nn.fix()
		return nn
	default:
		nn := n.clone()
		nn.right = treeDelete(n.right, kh, key)
		nn.fix()
		return nn
	}
}

// treePrefix returns the count and sum of entries whose key hash is < bound.
func treePrefix(n *node, bound uint64) (int, sum256) {
	var cnt int
	var s sum256
	for n != nil {
		if n.kh < bound {
			cnt++
			s = s.add(sumOf(n.h))
			if n.left != nil {
				cnt += n.left.count
				s = s.add(n.left.sum)
			}
			n = n.right
		} else {
			n = n.left
		}
	}
	return cnt, s
}

// treeRange calls f for entries with lo <= key hash < hi (hi 0: no upper
// bound) in key order, until f returns false.
func treeRange(n *node, lo, hi uint64, f func(*node) bool) bool {
	if n == nil {
		return true
	}
	if n.kh >= lo && !treeRange(n.left, lo, hi, f) {
		return false
	}
	if n.kh >= lo && (hi == 0 || n.kh < hi) && !f(n) {
		return false
	}
	if hi == 0 || n.kh < hi {
		return treeRange(n.right, lo, hi, f)
	}
	return true
}
