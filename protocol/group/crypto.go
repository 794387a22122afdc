package group

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"
)

// Secret is a group's shared secret: its identity. The group's ID derives
// from it, and so do the keys of key epoch 0 (the gossip topic and payload
// keys of a group no one was ever removed from). Whoever holds it can prove
// it once belonged (sync hellos are sealed with epoch 0's keys, and the
// member checks that follow decide the rest); treat it like a password
// (never log it; the daemon keeps it in a 0600 file). Invite tokens do not
// hold it (see invite.go).
//
// Key epochs. A removed device keeps the secret, so the secret cannot keep
// what is shared after a removal from it. Each removal therefore starts a
// new key epoch (epoch.go): its remover makes a random EpochKey, records the
// epoch in the signed state (number, maker, the members it shuts out, and a
// commitment to the key, never the key) and hands the key, over
// authenticated libp2p streams, only to peers that are current members in
// its state; they pass it on the same way (at sync, and with the secret
// when an invite is redeemed). The gossip topic and payload keys derive
// from the current epoch's key, so the removed device neither knows the new
// topic nor can open what is sealed after its removal. Members keep every
// epoch key they were given (Keyring), to open older payloads.
type Secret [32]byte

// NewSecret returns a random secret.
func NewSecret() (Secret, error) {
	var s Secret
	if _, err := rand.Read(s[:]); err != nil {
		return Secret{}, fmt.Errorf("group secret: %w", err)
	}
	return s, nil
}

// String hides the secret, so that printing a struct holding one does not
// leak it.
func (Secret) String() string { return "group.Secret(redacted)" }

// GoString hides the secret from %#v too.
func (Secret) GoString() string { return "group.Secret(redacted)" }

func (s Secret) derive(label string, n int) []byte {
	b, err := hkdf.Key(sha256.New, s[:], nil, label, n)
	if err != nil {
		panic("group: hkdf: " + err.Error()) // only for n out of range
	}
	return b
}

// GroupID names a group. It is derived from the secret, so it is the same on
// every member, and it reveals nothing about the secret. It is shown to the
// user and stored in clear; the topic is derived separately.
type GroupID [16]byte

func (id GroupID) String() string { return hex.EncodeToString(id[:]) }

// ID returns the group's ID.
func (s Secret) ID() GroupID {
	var id GroupID
	copy(id[:], s.derive("kith group id", len(id)))
	return id
}

var topicEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Topic returns the GossipSub topic of the group's epoch 0.
func (s Secret) Topic() string { return EpochKey(s).Topic() }

// EpochKey is the key of one key epoch. Epoch 0's key is the secret itself,
// so that groups made before epochs existed keep their topic and payload
// keys; later epochs' keys are random (NewEpochKey).
type EpochKey [32]byte

// NewEpochKey returns a random epoch key.
func NewEpochKey() (EpochKey, error) {
	var k EpochKey
	if _, err := rand.Read(k[:]); err != nil {
		return EpochKey{}, fmt.Errorf("group epoch key: %w", err)
	}
	return k, nil
}

// String hides the key.
func (EpochKey) String() string { return "group.EpochKey(redacted)" }

// GoString hides the key from %#v too.
func (EpochKey) GoString() string { return "group.EpochKey(redacted)" }

// Commit returns the commitment to k that the state records: it lets a
// member check a key it is handed, and tells nothing about the key.
func (k EpochKey) Commit() [32]byte {
	return sha256.Sum256(append([]byte("kith group epoch key\x00"), k[:]...))
}

// Topic returns the GossipSub topic of the epoch: outsiders (and members
// removed before it) cannot guess it, so they cannot even learn when the
// group talks.
func (k EpochKey) Topic() string {
	// 80 bits: unguessable, and short, since every message and every IHAVE
	// carries the topic name.
	return "/kith/g/" + topicEncoding.EncodeToString(Secret(k).derive("kith group topic", 10))
}

// Keys seals and opens the group's payloads. Safe for concurrent use.
type Keys struct {
	id   GroupID
	aead cipher.AEAD
}

// NewKeys derives the payload keys of epoch 0 from the secret.
func NewKeys(s Secret) *Keys { return NewEpochKeys(s.ID(), EpochKey(s)) }

// NewEpochKeys derives the payload keys of group id's epoch with key k.
func NewEpochKeys(id GroupID, k EpochKey) *Keys {
	aead, err := chacha20poly1305.NewX(Secret(k).derive("kith group payload", chacha20poly1305.KeySize))
	if err != nil {
		panic("group: " + err.Error()) // only for a key of the wrong size
	}
	return &Keys{id: id, aead: aead}
}

// ID returns the ID of the group the keys belong to.
func (k *Keys) ID() GroupID { return k.id }

// Overhead is the bytes Seal adds to a message.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// additional data: the payload belongs to this group and this sender, so a
// member cannot replay another member's payload as its own, nor a payload of
// one group in another.
func (k *Keys) ad(sender peer.ID) []byte {
	ad := make([]byte, 0, 16+len(k.id)+len(sender))
	ad = append(ad, "kith group v1\x00"...)
	ad = append(ad, k.id[:]...)
	return append(ad, sender...)
}

// Seal encrypts and authenticates msg as sent by sender: nonce || ciphertext.
// sender must be the peer that signs the GossipSub message (or the remote
// end of the sync stream), and the receiver must pass that same peer to Open.
func (k *Keys) Seal(sender peer.ID, msg []byte) []byte {
	out := make([]byte, chacha20poly1305.NonceSizeX, Overhead+len(msg))
	if _, err := rand.Read(out); err != nil {
		panic("group: no randomness: " + err.Error())
	}
	return k.aead.Seal(out, out, msg, k.ad(sender))
}

// Open authenticates and decrypts a payload sealed by sender. Any failure
// (another group's key, another sender, a changed byte) is ErrAuth.
func (k *Keys) Open(sender peer.ID, payload []byte) ([]byte, error) {
	if len(payload) < Overhead {
		return nil, fmt.Errorf("open payload from %s: %w", sender, ErrAuth)
	}
	nonce, ct := payload[:chacha20poly1305.NonceSizeX], payload[chacha20poly1305.NonceSizeX:]
	msg, err := k.aead.Open(nil, nonce, ct, k.ad(sender))
	if err != nil {
		return nil, fmt.Errorf("open payload from %s: %w", sender, ErrAuth)
	}
	return msg, nil
}
