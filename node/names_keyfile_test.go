package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/kith-p2p/kith/web/api"
)

// TestImportNameKey: a key exported from one node (either format) is
// imported by another, which publishes its name from then on, the next
// sequence number after the record the first published; the first node's
// peers find the new record. What is not a key, a key of another type,
// the node's own key, one it has already and a name taken are refused.
func TestImportNameKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	made, err := a.NewNameKey(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	first, second := addData(t, a, randomData(1000)), addData(t, b, randomData(1000))
	waitFor(t, time.Minute, "a peer in A's routing table", func() bool { return a.dht.RoutingTableSize() > 0 })
	if _, err := a.PublishName(ctx, first, api.NameOptions{Key: "site"}); err != nil {
		t.Fatal(err)
	}
	raw, err := ExportNameKey(a.repo.dir, "site", "")
	if err != nil {
		t.Fatal(err)
	}
	pemFile, err := ExportNameKey(a.repo.dir, "site", KeyFormatPEM)
	if err != nil {
		t.Fatal(err)
	}

	got, err := b.ImportNameKey(ctx, "moved", pemFile)
	if err != nil || got != (api.NameKey{Key: "moved", Name: made.Name}) {
		t.Fatalf("import of the PEM export: %+v, %v; want key moved with name %s", got, err, made.Name)
	}
	rec, err := b.PublishName(ctx, second, api.NameOptions{Key: "moved"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != made.Name || rec.Sequence != 1 {
		t.Fatalf("B published %+v with the imported key, want name %s at sequence 1 (after A's 0)", rec, made.Name)
	}
	c := newLocalNode(t)
	connect(t, c, a.Host())
	if to, err := c.ResolveRef(ctx, "/ipns/"+made.Name); err != nil || to != second {
		t.Fatalf("a peer resolved the moved name to %s, %v; want B's %s", to, err, second)
	}

	ecdsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ecdsaKey)
	if err != nil {
		t.Fatal(err)
	}
	self, err := crypto.MarshalPrivateKey(b.repo.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key  string
		data []byte
		kind api.Kind
		says string
	}{
		{"again", raw, api.KindConflict, `this node has that key already, as "moved"`},
		{"moved", raw, api.KindConflict, `this node has a key "moved" already`},
		{"mine", self, api.KindConflict, "that key is this node's own (self)"},
		{"p256", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), api.KindInvalid, "its type is ECDSA: names are published with Ed25519 or RSA keys"},
		{"cert", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), api.KindInvalid, `the PEM file holds a "CERTIFICATE" block, not a PRIVATE KEY`},
		{"junk", []byte("not a key\n"), api.KindInvalid, "not a key kith can import: neither a libp2p key"},
		{"../up", raw, api.KindInvalid, `"../up" cannot name a key`},
	} {
		if _, err := b.ImportNameKey(ctx, tt.key, tt.data); api.KindOf(err) != tt.kind || !strings.Contains(api.Sentence(err), tt.says) {
			t.Errorf("import %s: %v (%s), want %s saying %q", tt.key, err, api.KindOf(err), tt.kind, tt.says)
		}
	}
	if _, err := ExportNameKey(a.repo.dir, "self", ""); api.KindOf(err) != api.KindInvalid {
		t.Errorf("export of self: %v, want invalid", err)
	}
}
