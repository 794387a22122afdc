package dht

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	mh "github.com/multiformats/go-multihash"
)

// moveLegacyProviderState moves the provider state that earlier versions
// kept under the keystore's namespace (legacyProviderNamespace) to
// providerNamespace: the provider's schedule (when a reprovide cycle
// started, which regions were reprovided) and its queue of keys waiting for
// their first announcement, which must not be lost.
func moveLegacyProviderState(ctx context.Context, ds datastore.Batching) error {
	res, err := ds.Query(ctx, query.Query{Prefix: legacyProviderNamespace.String()})
	if err != nil {
		return fmt.Errorf("dht: new: read old provider state: %w", err)
	}
	entries, err := res.Rest()
	if err != nil {
		return fmt.Errorf("dht: new: read old provider state: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	b, err := ds.Batch(ctx)
	if err != nil {
		return fmt.Errorf("dht: new: move old provider state: %w", err)
	}
	for _, e := range entries {
		old := datastore.NewKey(e.Key)
		rel := strings.TrimPrefix(old.String(), legacyProviderNamespace.String())
		if err := b.Put(ctx, providerNamespace.Child(datastore.NewKey(rel)), e.Value); err != nil {
			return fmt.Errorf("dht: new: move old provider state: %w", err)
		}
		if err := b.Delete(ctx, old); err != nil {
			return fmt.Errorf("dht: new: move old provider state: %w", err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("dht: new: move old provider state: %w", err)
	}
	return nil
}

// providedKeys is every key in the keystore: what this node provides. A
// value that is not a multihash (nothing kith writes; a keystore shared
// with something else by mistake) is left out rather than announced.
func (d *DHT) providedKeys(ctx context.Context) ([]mh.Multihash, error) {
	keys, err := d.keystore.Get(ctx, "")
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for _, k := range keys {
		if _, err := mh.Cast(k); err == nil {
			out = append(out, k)
		}
	}
	return out, nil
}
