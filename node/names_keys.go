package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/web/api"
)

// The keys of the names this node publishes besides its own (Kubo's
// ipfs key gen): one file each, keys/NAME.key in the repo, written as the
// identity key is (atomically, 0600).
const (
	keysDir   = "keys"
	keySuffix = ".key"
)

// keyName is what a key may be called: a file name on every system.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkKeyName refuses what no key may be called.
func checkKeyName(key string) error {
	switch {
	case key == api.SelfKey:
		return &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%q is this node's own key, which always exists", key)}
	case !keyName.MatchString(key) || strings.HasSuffix(key, keySuffix):
		return &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%q cannot name a key: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", short(key))}
	}
	return nil
}

func (n *Node) keyPath(key string) string { return keyPath(n.repo.dir, key) }

// keyPath is the file of the key called key in the repo at dir.
func keyPath(dir, key string) string {
	return filepath.Join(dir, keysDir, key+keySuffix)
}

// nameKey returns the private key called key ("" or "self": the node's).
func (n *Node) nameKey(key string) (crypto.PrivKey, error) {
	if key == "" || key == api.SelfKey {
		return n.repo.key, nil
	}
	return readNameKey(n.repo.dir, key)
}

// readNameKey reads the key called key (not self) from the repo at dir.
func readNameKey(dir, key string) (crypto.PrivKey, error) {
	if err := checkKeyName(key); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(keyPath(dir, key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("this node has no key %q ('kith name keys new %s' makes one)", key, key)}
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", key, err)
	}
	k, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("key %s (%s) is damaged: %w", key, keyPath(dir, key), err)
	}
	return k, nil
}

// nameOf is the IPNS name of a key.
func nameOf(k crypto.PrivKey) (ipns.Name, error) {
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		return ipns.Name{}, err
	}
	return ipns.NameFromPeer(id), nil
}

// NewNameKey makes an Ed25519 key called key, for one more IPNS name.
func (n *Node) NewNameKey(ctx context.Context, key string) (api.NameKey, error) {
	if err := n.freeKeyName(key); err != nil {
		return api.NameKey{}, err
	}
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return api.NameKey{}, fmt.Errorf("make key %s: %w", key, err)
	}
	nk, err := n.storeNameKey(key, k)
	if err != nil {
		return api.NameKey{}, fmt.Errorf("make key %s: %w", key, err)
	}
	n.log.Info("name key made", "key", key, "name", nk.Name)
	return nk, nil
}

// freeKeyName refuses a name no key may have, or one a key has.
func (n *Node) freeKeyName(key string) error {
	if err := checkKeyName(key); err != nil {
		return err
	}
	if _, err := os.Stat(n.keyPath(key)); err == nil {
		return &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("this node has a key %q already ('kith name keys ls' lists them)", key)}
	}
	return nil
}

// storeNameKey writes k as the key called key.
func (n *Node) storeNameKey(key string, k crypto.PrivKey) (api.NameKey, error) {
	raw, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		return api.NameKey{}, err
	}
	name, err := nameOf(k)
	if err != nil {
		return api.NameKey{}, err
	}
	if err := os.MkdirAll(filepath.Join(n.repo.dir, keysDir), 0o700); err != nil {
		return api.NameKey{}, err
	}
	if err := writeFileAtomic(n.keyPath(key), raw, 0o600); err != nil {
		return api.NameKey{}, err
	}
	return api.NameKey{Key: key, Name: name.String()}, nil
}

// keyNames lists the keys made with NewNameKey, by name.
func (n *Node) keyNames() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(n.repo.dir, keysDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	var keys []string
	for _, e := range entries {
		if key, ok := strings.CutSuffix(e.Name(), keySuffix); ok && keyName.MatchString(key) && e.Type().IsRegular() {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// NameKeys lists this node's keys, self first, each with its name and
// the record published with it, if any.
func (n *Node) NameKeys(ctx context.Context) ([]api.NameKey, error) {
	keys, err := n.keyNames()
	if err != nil {
		return nil, err
	}
	var out []api.NameKey
	for _, key := range append([]string{api.SelfKey}, keys...) {
		k, err := n.nameKey(key)
		if err != nil {
			return nil, err
		}
		name, err := nameOf(k)
		if err != nil {
			return nil, err
		}
		nk := api.NameKey{Key: key, Name: name.String()}
		if rec, err := n.OwnName(ctx, key); err == nil {
			nk.Record = &rec
		} else if api.KindOf(err) != api.KindNotFound {
			return nil, err
		}
		out = append(out, nk)
	}
	return out, nil
}

// RenameNameKey gives the key called key another name, to: its IPNS name
// and its record stay as they are (the record is kept by name, not by
// what the key is called).
func (n *Node) RenameNameKey(ctx context.Context, key, to string) (api.NameKey, error) {
	if key == "" || key == api.SelfKey {
		return api.NameKey{}, &api.Error{Kind: api.KindInvalid, Message: "this node's own key (self) cannot be renamed"}
	}
	k, err := n.nameKey(key)
	if err != nil {
		return api.NameKey{}, err
	}
	if err := n.freeKeyName(to); err != nil {
		return api.NameKey{}, err
	}
	if err := os.Rename(n.keyPath(key), n.keyPath(to)); err != nil {
		return api.NameKey{}, fmt.Errorf("rename key %s to %s: %w", key, to, err)
	}
	name, err := nameOf(k)
	if err != nil {
		return api.NameKey{}, err
	}
	n.log.Info("name key renamed", "key", key, "to", to, "name", name)
	nk := api.NameKey{Key: to, Name: name.String()}
	if rec, err := n.OwnName(ctx, to); err == nil {
		nk.Record = &rec
	}
	return nk, nil
}

// RemoveNameKey deletes the key called key and the record published with
// it: its name is published no more (peers drop the record when it
// expires, 48 hours after it was last published at the most).
func (n *Node) RemoveNameKey(ctx context.Context, key string) error {
	if key == "" || key == api.SelfKey {
		return &api.Error{Kind: api.KindInvalid, Message: "this node's own key (self) cannot be removed: it is the node's identity"}
	}
	k, err := n.nameKey(key)
	if err != nil {
		return err
	}
	name, err := nameOf(k)
	if err != nil {
		return err
	}
	if err := n.namesStore().Delete(ctx, namesys.IpnsDsKey(name)); err != nil {
		return fmt.Errorf("remove the record of key %s: %w", key, err)
	}
	if err := os.Remove(n.keyPath(key)); err != nil {
		return fmt.Errorf("remove key %s: %w", key, err)
	}
	n.log.Info("name key removed", "key", key, "name", name)
	return nil
}
