package dht

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	mh "github.com/multiformats/go-multihash"
)

// TestProvidedKeysAreOnlyProvidedKeys: after the provider has swept (and
// written its schedule to the datastore), the keys this node reprovides are
// exactly the ones it provided. The provider's state once lived under the
// keystore's namespace, and every reprovide announced its cycle start, its
// prefix length and its history entries as keys (one of them empty: "can't
// lookup empty key").
func TestProvidedKeysAreOnlyProvidedKeys(t *testing.T) {
	ctx := testContext(t)
	counter := newAddProviderCounter()
	b := newNode(t, counter.option())
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	a := newNode(t, bootstrapPeers(b), WithReprovideInterval(shortReprovide), WithDatastore(ds))
	bootstrap(t, ctx, a)

	k := testCID(t, "only provided keys")
	if err := a.d.ProvideNow(ctx, k); err != nil {
		t.Fatalf("A provide now: %v", err)
	}
	waitFor(t, "a provider sweep to reach B", func() bool { return counter.count(a.h.ID(), k) >= 2 })
	if n := countUnder(t, ds, providerNamespace); n == 0 {
		t.Fatal("the provider wrote no state after a sweep: this test no longer checks what it should")
	}
	wantOnlyKey(t, a, k.Hash())
}

// TestOldProviderStateMoved: a repo from before keeps its provided keys,
// and the provider state it kept among them moves out of their way (its
// queue of keys not yet announced must not be lost).
func TestOldProviderStateMoved(t *testing.T) {
	ctx := context.Background()
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	old := map[string]string{
		"/provider/state/cycle_start":            "6b12831e",
		"/provider/state/wan/avg_prefix_len":     "\x02",
		"/provider/state/reprovide_history/x/01": "",
	}
	for k, v := range old {
		if err := ds.Put(ctx, datastore.NewKey(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	// A provided key, where the keystore kept it before too.
	first := newNode(t, WithDatastore(ds))
	k := testCID(t, "kept across the upgrade")
	if _, err := first.d.keystore.Put(ctx, k.Hash()); err != nil {
		t.Fatal(err)
	}
	if err := first.d.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countUnder(t, ds, legacyProviderNamespace); n != 0 {
		t.Fatalf("%d keys of the old provider state left", n)
	}
	for k, v := range old {
		moved := "/provider-state" + strings.TrimPrefix(k, "/provider/state")
		got, err := ds.Get(ctx, datastore.NewKey(moved))
		if err != nil || string(got) != v {
			t.Errorf("%s moved to %s: %q, %v; want %q", k, moved, got, err, v)
		}
	}
	second := newNode(t, WithDatastore(ds))
	wantOnlyKey(t, second, k.Hash())
}

// TestProvidedKeysSkipsNonMultihashes: whatever else is found in the
// keystore's namespace is not announced.
func TestProvidedKeysSkipsNonMultihashes(t *testing.T) {
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	n := newNode(t, WithDatastore(ds))
	ctx := context.Background()
	k := testCID(t, "a real key")
	if _, err := n.d.keystore.Put(ctx, k.Hash()); err != nil {
		t.Fatal(err)
	}
	// Not through the keystore: an entry it did not write.
	if err := ds.Put(ctx, keystoreNamespace.ChildString("stray"), []byte{0x02}); err != nil {
		t.Fatal(err)
	}
	keys, err := n.d.providedKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if _, err := mh.Cast(key); err != nil {
			t.Errorf("provided keys hold %x, not a multihash", []byte(key))
		}
	}
	if len(keys) != 1 {
		t.Fatalf("provided keys %v, want only %s", keys, k.Hash())
	}
}

// wantOnlyKey fails the test unless n provides exactly k.
func wantOnlyKey(t *testing.T, n *node, k mh.Multihash) {
	t.Helper()
	keys, err := n.d.providedKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !slices.Equal(keys[0], k) {
		t.Fatalf("provided keys %v, want only %s", keys, k)
	}
}

func countUnder(t *testing.T, ds datastore.Datastore, ns datastore.Key) int {
	t.Helper()
	res, err := ds.Query(context.Background(), query.Query{Prefix: ns.String(), KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if strings.HasPrefix(e.Key, ns.String()+"/") {
			n++
		}
	}
	return n
}
