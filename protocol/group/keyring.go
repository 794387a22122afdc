package group

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Keyring is the epoch keys a member holds: epoch 0's (the secret) and
// every later epoch key it was handed or made, each with its signed epoch
// entry, so that a key can be passed on with the entry that proves it (see
// KeyGrant). Members keep old keys to open payloads sealed before a
// rotation. It is not safe for concurrent use.
type Keyring struct {
	secret Secret
	keys   map[EpochRef]KeyGrant
}

// KeyGrant is one epoch key as it travels between members (over an
// authenticated libp2p stream, never gossip) and as it is stored: the
// signed epoch entry and the key it commits to.
type KeyGrant struct {
	Epoch Update `json:"epoch"`
	Key   []byte `json:"key"`
}

// String hides the key.
func (g KeyGrant) String() string { return fmt.Sprintf("group.KeyGrant(%s, redacted)", g.Epoch) }

// NewKeyring returns the keyring of a member that holds only the secret.
func NewKeyring(s Secret) *Keyring { return &Keyring{secret: s, keys: map[EpochRef]KeyGrant{}} }

// Add checks a grant and keeps it: the entry must be a well-formed epoch
// signed by its maker, and the key must match its commitment (ErrAuth
// otherwise). It reports whether the key is new to the keyring.
func (r *Keyring) Add(g KeyGrant) (bool, error) {
	e := g.Epoch.Epoch
	if e == nil {
		return false, fmt.Errorf("key grant without an epoch: %w", ErrInvalid)
	}
	if err := g.Epoch.Validate(); err != nil {
		return false, fmt.Errorf("key grant: %w", err)
	}
	if err := g.Epoch.VerifySig(); err != nil {
		return false, fmt.Errorf("key grant: %w", err)
	}
	var k EpochKey
	if len(g.Key) != len(k) {
		return false, fmt.Errorf("key grant for epoch %s: key of %d bytes: %w", e.Ref(), len(g.Key), ErrInvalid)
	}
	copy(k[:], g.Key)
	ref := e.Ref()
	if k.Commit() != ref.Commit {
		return false, fmt.Errorf("key grant for epoch %s: the key does not match its commitment: %w", ref, ErrAuth)
	}
	if _, ok := r.keys[ref]; ok {
		return false, nil
	}
	r.keys[ref] = KeyGrant{Epoch: g.Epoch.clone(), Key: k[:]}
	return true, nil
}

// Secret returns the group secret the keyring belongs to.
func (r *Keyring) Secret() Secret { return r.secret }

// Key returns the key of epoch ref, if held.
func (r *Keyring) Key(ref EpochRef) (EpochKey, bool) {
	if ref.N == 0 {
		return EpochKey(r.secret), ref.Commit == [32]byte{}
	}
	g, ok := r.keys[ref]
	if !ok {
		return EpochKey{}, false
	}
	return EpochKey(g.Key), true
}

// Refs returns the epochs (after 0) whose keys are held, in order.
func (r *Keyring) Refs() []EpochRef {
	out := make([]EpochRef, 0, len(r.keys))
	for ref := range r.keys {
		out = append(out, ref)
	}
	slices.SortFunc(out, func(a, b EpochRef) int {
		if a.better(b) {
			return 1
		}
		if b.better(a) {
			return -1
		}
		return 0
	})
	return out
}

// Grants returns the grants of keys held here that are not in have and
// that may go to their receiver (may), in order.
func (r *Keyring) Grants(have []EpochRef, may func(EpochRef) bool) []KeyGrant {
	var out []KeyGrant
	for _, ref := range r.Refs() {
		if !slices.Contains(have, ref) && may(ref) {
			g := r.keys[ref]
			out = append(out, KeyGrant{Epoch: g.Epoch.clone(), Key: slices.Clone(g.Key)})
		}
	}
	return out
}

// Use returns the epoch to seal with and whose topic to be on: the state's
// current epoch when its key is held; else the best held of the epochs the
// state could make current (a member that lacks the current key keeps
// talking in the newest epoch it can, and gets the key at its next sync).
func (r *Keyring) Use(s *State) EpochRef {
	if cur, ok := s.Epoch(); ok {
		if _, held := r.keys[cur.Ref()]; held {
			return cur.Ref()
		}
	}
	best := EpochRef{}
	for ref := range r.keys {
		if e, ok := s.EpochOf(ref); ok && s.eligible(e) && ref.better(best) {
			best = ref
		}
	}
	return best
}

type keyringFile struct {
	Version int        `json:"version"`
	Keys    []KeyGrant `json:"keys"`
}

// Marshal encodes the epoch keys (not the secret, which is stored apart).
// The result is secret: keep it like the group secret (a 0600 file).
func (r *Keyring) Marshal() ([]byte, error) {
	f := keyringFile{Version: 1, Keys: r.Grants(nil, func(EpochRef) bool { return true })}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("marshal group keys: %w", err)
	}
	return b, nil
}

// UnmarshalKeyring decodes what Marshal wrote, for the group of s,
// checking every grant again.
func UnmarshalKeyring(s Secret, b []byte) (*Keyring, error) {
	var f keyringFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("unmarshal group keys: %v: %w", err, ErrInvalid)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("unmarshal group keys: version %d: %w", f.Version, ErrInvalid)
	}
	r := NewKeyring(s)
	for _, g := range f.Keys {
		if _, err := r.Add(g); err != nil {
			return nil, fmt.Errorf("unmarshal group keys: %w", err)
		}
	}
	return r, nil
}
