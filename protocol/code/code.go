// Package code is kith's short codes: `kith send` prints one, such as
// 7961-orbit-canyon-velvet, that a friend types instead of a long ticket,
// as croc and magic-wormhole do, with no server in between. While the send
// runs, its daemon announces a rendezvous key derived from the code in the
// DHT (and answers the peers connected to it); a getter derives the same
// key, finds the sender, proves it knows the code, and is given the
// ticket. The code itself never crosses the network.
//
// The rendezvous key and the proof key come from the code by Argon2id, so
// that a DHT server holding the announcement cannot find the code by trying
// codes offline; a sender closes a code after a few wrong proofs of it, so
// that nobody can try it online either (a question names the code it is
// about by its rendezvous, so that a getter asking every peer it is
// connected to costs no other sender's code a try). The proof is an HMAC of both peer IDs,
// which the libp2p connection authenticates: a peer in the middle cannot
// replay it to the sender as its own.
//
// Protocol /kith/code/1.0.0, one question per stream: the getter writes the
// rendezvous's 32-byte digest and the 32-byte proof, and closes its side; the sender answers one status byte
// (StatusOK, then uvarint(length) | the ticket, at most MaxTicket bytes; or
// StatusUnknown) and closes the stream.
package code

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
	"golang.org/x/crypto/argon2"
)

// The words are BIP-39's English list (github.com/bitcoin/bips, taken from
// the bip39 npm package, ISC licence): 2,048 common words, no two sharing
// their first four letters.
//
//go:embed words.txt
var wordFile string

var (
	words  = strings.Fields(wordFile)
	wordAt = func() map[string]int {
		m := make(map[string]int, len(words))
		for i, w := range words {
			m[w] = i
		}
		return m
	}()
)

// A code is a number below 10,000 and Words words: about 46 bits.
const (
	Words   = 3
	numbers = 10000
)

// New returns a fresh random code, as "7961-orbit-canyon-velvet".
func New() (string, error) {
	parts := make([]string, 0, 1+Words)
	n, err := rand.Int(rand.Reader, big.NewInt(numbers))
	if err != nil {
		return "", fmt.Errorf("make a code: %w", err)
	}
	parts = append(parts, fmt.Sprintf("%04d", n.Int64()))
	for range Words {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		if err != nil {
			return "", fmt.Errorf("make a code: %w", err)
		}
		parts = append(parts, words[i.Int64()])
	}
	return strings.Join(parts, "-"), nil
}

// Parse reports whether s is a code, and gives it in its one written form
// (lower case, dashes): typed with spaces or capitals it is the same code.
// A word may be given by its first four letters, which BIP-39 keeps apart.
func Parse(s string) (string, bool) {
	f := strings.FieldsFunc(strings.ToLower(strings.TrimSpace(s)), func(r rune) bool { return r == '-' || r == ' ' })
	if len(f) != 1+Words || len(f[0]) != 4 {
		return "", false
	}
	for _, r := range f[0] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	for i, w := range f[1:] {
		full, ok := word(w)
		if !ok {
			return "", false
		}
		f[1+i] = full
	}
	return strings.Join(f, "-"), true
}

// Mistyped says, of s that is no code but reads as an attempt at one (a
// number of four digits, then words), what is wrong with it; ok is false
// for anything else (a pin's name, say).
func Mistyped(s string) (why string, ok bool) {
	if _, isCode := Parse(s); isCode {
		return "", false
	}
	f := strings.FieldsFunc(strings.ToLower(strings.TrimSpace(s)), func(r rune) bool { return r == '-' || r == ' ' })
	if len(f) < 2 || len(f[0]) != 4 || strings.Trim(f[0], "0123456789") != "" {
		return "", false
	}
	for _, w := range f[1:] {
		if w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			return "", false
		}
	}
	if len(f) != 1+Words {
		return fmt.Sprintf("a code is a number and %d words; this has %d", Words, len(f)-1), true
	}
	var bad []string
	for _, w := range f[1:] {
		if _, ok := word(w); !ok {
			bad = append(bad, w)
		}
	}
	if len(bad) == 1 {
		return fmt.Sprintf("%s is not one of the words codes are made of: check the spelling", bad[0]), true
	}
	return fmt.Sprintf("%s are not words codes are made of: check the spelling", strings.Join(bad, " and ")), true
}

// word is the list's word that w is, or starts with (four letters or more).
func word(w string) (string, bool) {
	if _, ok := wordAt[w]; ok {
		return w, true
	}
	if len(w) < 4 {
		return "", false
	}
	for _, full := range words {
		if strings.HasPrefix(full, w) {
			return full, true
		}
	}
	return "", false
}

// Keys are what a code stands for on the network: the CID announced in the
// DHT while a send runs, and the key of the proof that a getter knows it.
type Keys struct {
	Rendezvous cid.Cid
	spot       [spotLen]byte // Rendezvous's digest: which code a question is about
	proof      []byte
}

// Argon2id's cost: about 40 ms and 64 MiB (BenchmarkKeysOf), once per send and
// once per get.
const (
	argonTime    = 1
	argonMemory  = 64 << 10 // KiB
	argonThreads = 1
)

// KeysOf derives the keys of the code c (as Parse gives it).
func KeysOf(c string) (Keys, error) {
	if _, ok := Parse(c); !ok {
		return Keys{}, errors.New("not a code")
	}
	k := argon2.IDKey([]byte(c), []byte("kith code v1"), argonTime, argonMemory, argonThreads, 64)
	spot := sha256.Sum256(k[:32])
	h, err := mh.Encode(spot[:], mh.SHA2_256)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Rendezvous: cid.NewCidV1(cid.Raw, h), spot: spot, proof: k[32:]}, nil
}

// Proof is what the getter from sends the sender to: it knows the code.
func (k Keys) Proof(from, to peer.ID) [ProofLen]byte {
	m := hmac.New(sha256.New, k.proof)
	m.Write([]byte("kith code proof v1\n"))
	m.Write([]byte(from))
	m.Write([]byte{0})
	m.Write([]byte(to))
	var out [ProofLen]byte
	m.Sum(out[:0])
	return out
}

// Proves reports whether p is the proof of this code from the peer from to
// this one (to), in constant time.
func (k Keys) Proves(p [ProofLen]byte, from, to peer.ID) bool {
	want := k.Proof(from, to)
	return hmac.Equal(p[:], want[:])
}

// Question is what a getter asks a peer: which code (its rendezvous, as
// public as the DHT's record of it: a peer with no open code there is
// simply not the sender) and the proof that it knows it.
type Question struct {
	Spot  [spotLen]byte
	Proof [ProofLen]byte
}

// Question is the question a getter from asks the peer to of this code.
func (k Keys) Question(from, to peer.ID) Question {
	return Question{Spot: k.spot, Proof: k.Proof(from, to)}
}

// About reports whether q is about this code (it may still not prove it).
func (k Keys) About(q Question) bool { return k.spot == q.Spot }
