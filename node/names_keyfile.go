package node

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/kith-p2p/kith/web/api"
)

// Key files, as Kubo's ipfs key export and import write and read them: a
// libp2p private key as it is marshalled (Kubo's default, and the repo's
// own keys/NAME.key), or PKCS #8 in PEM, which openssl reads and writes.
const (
	KeyFormatLibp2p = "libp2p-protobuf-cleartext"
	KeyFormatPEM    = "pem-pkcs8-cleartext"
)

// maxKeyFile bounds a key file: an RSA key of 16384 bits is under 10 KiB.
const maxKeyFile = 64 << 10

// ExportNameKey returns the key called key from the repo at dir, in
// format (KeyFormatLibp2p or KeyFormatPEM), for `kith name keys export`.
// It reads the repo's file, as Kubo's export does, whether or not a
// daemon runs: no API route gives out a private key, so no web page
// holding a UI session can take one. Self is refused: it is the node's
// identity, and two nodes with one identity would each take the other's
// connections.
func ExportNameKey(dir, key, format string) ([]byte, error) {
	if key == "" || key == api.SelfKey {
		return nil, &api.Error{Kind: api.KindInvalid, Message: "this node's own key (self) is its identity and is not exported: make a key for a name you want to move ('kith name keys new')"}
	}
	k, err := readNameKey(dir, key)
	if err != nil {
		return nil, err
	}
	switch format {
	case "", KeyFormatLibp2p:
		return crypto.MarshalPrivateKey(k)
	case KeyFormatPEM:
		std, err := crypto.PrivKeyToStdKey(k)
		if err != nil {
			return nil, fmt.Errorf("export key %s as PEM: %w", key, err)
		}
		if p, ok := std.(*ed25519.PrivateKey); ok {
			std = *p // x509 takes the value
		}
		der, err := x509.MarshalPKCS8PrivateKey(std)
		if err != nil {
			return nil, fmt.Errorf("export key %s as PEM: %w", key, err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	default:
		return nil, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%q is not a key format: use %s or %s", short(format), KeyFormatLibp2p, KeyFormatPEM)}
	}
}

// ImportNameKey stores a key from a file (either format, told apart by
// its content) as the key called key, whose name this node may then
// publish: the way a name moves to another computer (Kubo's ipfs key
// import). An Ed25519 or RSA key, as Kubo's import takes by default; this
// node's own key or one it has under another name are refused.
func (n *Node) ImportNameKey(ctx context.Context, key string, data []byte) (api.NameKey, error) {
	if err := n.freeKeyName(key); err != nil {
		return api.NameKey{}, err
	}
	k, err := parseKeyFile(data)
	if err != nil {
		return api.NameKey{}, err
	}
	name, err := nameOf(k)
	if err != nil {
		return api.NameKey{}, fmt.Errorf("import key %s: %w", key, err)
	}
	keys, err := n.NameKeys(ctx)
	if err != nil {
		return api.NameKey{}, err
	}
	for _, have := range keys {
		switch {
		case have.Name != name.String():
		case have.Key == api.SelfKey:
			return api.NameKey{}, &api.Error{Kind: api.KindConflict, Message: "that key is this node's own (self): its name is published with --key self"}
		default:
			return api.NameKey{}, &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("this node has that key already, as %q", have.Key)}
		}
	}
	nk, err := n.storeNameKey(key, k)
	if err != nil {
		return api.NameKey{}, fmt.Errorf("import key %s: %w", key, err)
	}
	n.log.Info("name key imported", "key", key, "name", nk.Name)
	return nk, nil
}

// parseKeyFile reads a private key in either format.
func parseKeyFile(data []byte) (crypto.PrivKey, error) {
	bad := func(why string, args ...any) error {
		return &api.Error{Kind: api.KindInvalid, Message: "not a key kith can import: " + fmt.Sprintf(why, args...)}
	}
	if len(data) > maxKeyFile {
		return nil, bad("the file is over %d KiB", maxKeyFile>>10)
	}
	var k crypto.PrivKey
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PRIVATE KEY" {
			return nil, bad("the PEM file holds a %q block, not a PRIVATE KEY (PKCS #8, unencrypted, as 'openssl genpkey' writes)", block.Type)
		}
		std, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, bad("the PEM file's PKCS #8 key: %v", err)
		}
		if p, ok := std.(ed25519.PrivateKey); ok {
			std = &p // libp2p takes the pointer
		}
		if k, _, err = crypto.KeyPairFromStdKey(std); err != nil {
			return nil, bad("%v", err)
		}
	} else {
		var err error
		if k, err = crypto.UnmarshalPrivateKey(data); err != nil {
			return nil, bad("neither a libp2p key (as 'kith name keys export' and 'ipfs key export' write) nor PEM PKCS #8")
		}
	}
	switch k.(type) {
	case *crypto.Ed25519PrivateKey, *crypto.RsaPrivateKey:
		return k, nil
	default:
		return nil, bad("its type is %s: names are published with Ed25519 or RSA keys, as Kubo's", k.Type())
	}
}
