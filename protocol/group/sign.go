package group

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Signed updates. Every update carries its writer's signature (the libp2p
// identity key of the peer named in its version), made over the entry's
// canonical hash, so a member can be held to what it wrote: an update
// relayed by sync or in a snapshot cannot be forged or changed by the
// member that relays it, whoever holds the group secret.
//
// The signature is not part of the hash (Ed25519 signatures are
// deterministic, and the digest must not depend on whether a copy is signed).
// Of two copies of the same version, the signed one wins (newer), so a copy
// written before signatures existed is replaced by its writer's re-signed
// one.

const signContext = "kith group update v1\x00"

// metaSignContext prefixes what an intent's MetaSig signs: the intent's
// hash and its meta, so that the meta can neither be forged nor moved to
// another intent, while the hash (and the intent's Sig) stays what a kith
// that predates metas computes.
const metaSignContext = "kith group intent meta v1\x00"

// metaSigned is what Intent.MetaSig signs for u.
func (u Update) metaSigned(h [32]byte) []byte {
	b := append([]byte(metaSignContext), h[:]...)
	return append(b, u.Intent.Meta.Bytes()...)
}

// Writer returns the peer that wrote u: the member for its own record, the
// remover for a removal, Who for an intent, the maker for an epoch.
func (u Update) Writer() peer.ID { return u.Version().Node }

// SetSigner makes every update this clock stamps through State (Join,
// Leave, Share, Unshare, Remove) signed with key, which must be the clock's
// node's identity key.
func (c *Clock) SetSigner(key crypto.PrivKey) error {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return fmt.Errorf("group signer: %w", err)
	}
	if id != c.node {
		return fmt.Errorf("group signer: key of %s for the clock of %s: %w", id, c.node, ErrInvalid)
	}
	c.mu.Lock()
	c.key = key
	c.mu.Unlock()
	return nil
}

func (c *Clock) signer() crypto.PrivKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key
}

// Sign signs u with key (its writer's identity key).
func (u *Update) Sign(key crypto.PrivKey) error {
	h := u.hash()
	sig, err := key.Sign(append([]byte(signContext), h[:]...))
	if err != nil {
		return fmt.Errorf("sign group update %s: %w", u.Key(), err)
	}
	u.setSig(sig)
	if u.Intent != nil && u.Intent.Meta.Defined() {
		if u.Intent.MetaSig, err = key.Sign(u.metaSigned(h)); err != nil {
			return fmt.Errorf("sign the meta of group update %s: %w", u.Key(), err)
		}
	}
	return nil
}

// signWith signs u when the clock has a signer.
func (c *Clock) signWith(u *Update) error {
	if k := c.signer(); k != nil {
		return u.Sign(k)
	}
	return nil
}

func (u *Update) setSig(sig []byte) {
	switch {
	case u.Member != nil:
		u.Member.Sig = sig
	case u.Intent != nil:
		u.Intent.Sig = sig
	case u.Epoch != nil:
		u.Epoch.Sig = sig
	}
}

// Sig returns u's signature (nil when unsigned).
func (u Update) Sig() []byte {
	switch {
	case u.Member != nil:
		return u.Member.Sig
	case u.Intent != nil:
		return u.Intent.Sig
	case u.Epoch != nil:
		return u.Epoch.Sig
	}
	return nil
}

// VerifySig checks that u is signed by its writer. An unsigned update, a
// signature by anyone else, or a changed byte is ErrAuth.
func (u Update) VerifySig() error {
	sig := u.Sig()
	if len(sig) == 0 {
		return fmt.Errorf("group update %s is not signed: %w", u.Key(), ErrAuth)
	}
	pub, err := u.Writer().ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("group update %s: writer's key: %v: %w", u.Key(), err, ErrAuth)
	}
	h := u.hash()
	ok, err := pub.Verify(append([]byte(signContext), h[:]...), sig)
	if err != nil || !ok {
		return fmt.Errorf("group update %s: signature does not match its writer %s: %w", u.Key(), u.Writer(), ErrAuth)
	}
	if u.Intent != nil && u.Intent.Meta.Defined() {
		ok, err := pub.Verify(u.metaSigned(h), u.Intent.MetaSig)
		if err != nil || !ok {
			return fmt.Errorf("group update %s: its meta is not signed by its writer %s: %w", u.Key(), u.Writer(), ErrAuth)
		}
	}
	return nil
}

// RequireSignatures makes s refuse (ApplyUpdate) or drop (Rebase) updates
// that are not signed by their writer from now on. The network layer sets
// it on the states it serves; the simulator and pure-logic tests leave it
// off. Entries already in s are not checked (they came from our own disk).
func (s *State) RequireSignatures() { s.signed = true }

// SignOwn signs every entry of s that key's peer wrote and that carries no
// signature yet (written before updates were signed), and returns how many.
// Their versions do not change; peers replace their unsigned copies with
// these (see newer).
func (s *State) SignOwn(key crypto.PrivKey) (int, error) {
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return 0, fmt.Errorf("sign own group updates: %w", err)
	}
	var todo []Update
	s.each(func(u Update) {
		if u.Writer() == self && len(u.Sig()) == 0 {
			todo = append(todo, u.clone())
		}
	})
	for _, u := range todo {
		if err := u.Sign(key); err != nil {
			return 0, err
		}
		s.put(newNode(u))
	}
	return len(todo), nil
}
