package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	kb "github.com/libp2p/go-libp2p-kbucket"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// namesNamespace holds, in the repo's datastore, the record this node
// published last (boxo's publisher keeps it): the next publish takes the
// next sequence number, and a daemon started again publishes it again.
var namesNamespace = datastore.NewKey("/kith/names")

const (
	// nameRepublishInterval is how often the record is put into the DHT
	// again while the daemon runs, as Kubo's republisher does: DHT peers
	// drop records they were given 48 hours ago.
	nameRepublishInterval = 4 * time.Hour
	// nameRepublishFirst is the first republish after the daemon starts
	// (once it has DHT peers), nameRepublishRetry the next after a failed
	// one.
	nameRepublishFirst = time.Minute
	nameRepublishRetry = 5 * time.Minute
)

// PublishName points the IPNS name of one of this node's keys (opts.Key:
// its peer key's, as Kubo's "self", by default) to c, a user pin here
// that is not private: a name must lead to content this node keeps and
// announces. The record is signed, stored in the repo, and put into the
// DHT now and every 4 hours while the daemon runs; it is valid for
// opts.Lifetime (48 hours) from now.
func (n *Node) PublishName(ctx context.Context, c cid.Cid, opts api.NameOptions) (api.NameRecord, error) {
	k, err := n.nameKey(opts.Key)
	if err != nil {
		return api.NameRecord{}, err
	}
	name, err := nameOf(k)
	if err != nil {
		return api.NameRecord{}, err
	}
	pin, err := n.store.GetPin(ctx, c, blockstore.OwnerUser)
	switch {
	case errors.Is(err, blockstore.ErrNotFound):
		return api.NameRecord{}, &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("%s is not pinned here: pin it first (kith pin add %s), so that the name never leads to content this node may let go", c, c)}
	case err != nil:
		return api.NameRecord{}, fmt.Errorf("publish %s: %w", c, err)
	case pin.Private:
		return api.NameRecord{}, &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("%s is private (not announced in the DHT): a name would lead to content no one finds; pin it without --private to publish it", c)}
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = ipns.DefaultRecordLifetime
	}
	if opts.TTL <= 0 {
		opts.TTL = ipns.DefaultRecordTTL
	}
	if n.nameStore.routers.Len() == 0 {
		n.awaitDHTPeer(ctx) // a router takes the record at once, and the DHT has it again soon
	}
	err = n.names.Publish(ctx, k, path.FromCid(c), namesys.PublishWithEOL(time.Now().Add(opts.Lifetime)), namesys.PublishWithTTL(opts.TTL))
	if err != nil {
		// The record is kept (boxo's publisher stores it first): the
		// republish loop tries again soon.
		select {
		case n.republishSoon <- struct{}{}:
		default:
		}
		return api.NameRecord{}, publishError(name, err)
	}
	n.log.Info("name published", "key", keyLabel(opts.Key), "name", name, "to", c)
	return n.OwnName(ctx, opts.Key)
}

// keyLabel is what the API calls a key: "" is self.
func keyLabel(key string) string {
	if key == "" {
		return api.SelfKey
	}
	return key
}

// publishError says why a record did not reach the DHT.
func publishError(name ipns.Name, err error) error {
	if errors.Is(err, kb.ErrLookupFailure) {
		return &api.Error{Kind: api.KindUnavailable, Message: fmt.Sprintf("publish /ipns/%s: this node knows no DHT peer to give the record to yet ('kith doctor' says why); the record is kept, and given out within %d minutes while the daemon runs", name, int(nameRepublishRetry.Minutes()))}
	}
	return fmt.Errorf("publish /ipns/%s (the record is kept, and given out within %d minutes while the daemon runs): %w", name, int(nameRepublishRetry.Minutes()), err)
}

// OwnName returns the record published last with one of this node's
// keys ("": self); not found if none was.
func (n *Node) OwnName(ctx context.Context, key string) (api.NameRecord, error) {
	k, err := n.nameKey(key)
	if err != nil {
		return api.NameRecord{}, err
	}
	name, err := nameOf(k)
	if err != nil {
		return api.NameRecord{}, err
	}
	raw, err := n.namesStore().Get(ctx, namesys.IpnsDsKey(name))
	if errors.Is(err, datastore.ErrNotFound) {
		if key == "" || key == api.SelfKey {
			return api.NameRecord{}, &api.Error{Kind: api.KindNotFound, Message: "this node has published no name yet ('kith name publish CID' does)"}
		}
		return api.NameRecord{}, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("nothing is published with key %q yet ('kith name publish --key %s CID' does)", key, key)}
	}
	if err != nil {
		return api.NameRecord{}, fmt.Errorf("read the IPNS record of key %s: %w", keyLabel(key), err)
	}
	rec, err := ipns.UnmarshalRecord(raw)
	if err != nil {
		return api.NameRecord{}, fmt.Errorf("read the IPNS record of key %s: %w", keyLabel(key), err)
	}
	value, err := rec.Value()
	if err != nil {
		return api.NameRecord{}, fmt.Errorf("read the IPNS record of key %s: %w", keyLabel(key), err)
	}
	seq, _ := rec.Sequence()
	eol, _ := rec.Validity()
	ttl, _ := rec.TTL()
	return api.NameRecord{Key: keyLabel(key), Name: name.String(), Value: value.String(), Sequence: seq, Expires: eol.UTC(), TTLSeconds: ttl.Seconds()}, nil
}

// ResolveName returns the /ipfs/ path name (an IPNS name or a DNSLink
// domain, with or without /ipns/, and a path after it) points to now, as
// Kubo's ipfs name resolve: the record's path with the rest after it,
// read from no folder on the way.
func (n *Node) ResolveName(ctx context.Context, name string) (string, error) {
	root, rest, err := dag.SplitPath(dag.NamePrefix + trimNamePrefix(name))
	if err != nil {
		return "", &api.Error{Kind: api.KindInvalid, Message: err.Error()}
	}
	name, _ = dag.IsName(root)
	c, under, err := n.resolveName(ctx, name)
	if err != nil {
		return "", err
	}
	return "/ipfs/" + strings.Join(slices.Concat([]string{c}, under, rest), "/"), nil
}

// trimNamePrefix is name without the /ipns/ or ipns:// it may start with.
func trimNamePrefix(name string) string {
	name = strings.TrimSpace(name)
	for _, p := range []string{dag.NamePrefix, "ipns://"} {
		if s, ok := strings.CutPrefix(name, p); ok {
			return s
		}
	}
	return name
}

// namesStore is the datastore of the records this node publishes.
func (n *Node) namesStore() datastore.Datastore {
	return namespace.Wrap(n.store.Datastore(), namesNamespace)
}

// republishLoop puts the records of this node's keys into the DHT
// again, a minute after start and then every nameRepublishInterval (after
// a failure, or a publish that did not reach the DHT, every
// nameRepublishRetry), with their validity renewed, as Kubo's
// republisher does.
func (n *Node) republishLoop(ctx context.Context) {
	t := time.NewTimer(nameRepublishFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.republishSoon:
			t.Reset(nameRepublishRetry)
			continue
		}
		next := nameRepublishInterval
		if err := n.republishNames(ctx); err != nil {
			n.log.Info("names not published again; trying later", "err", err, "in", nameRepublishRetry)
			next = nameRepublishRetry
		}
		t.Reset(next)
	}
}

// republishNames publishes again the record of each of this node's keys
// that has one.
func (n *Node) republishNames(ctx context.Context) error {
	keys, err := n.keyNames()
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range append([]string{api.SelfKey}, keys...) {
		if err := n.republishName(ctx, key); err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// republishName publishes a key's record again (if it has one): same
// value, sequence and TTL, valid for 48 hours from now (or as long as it
// was, if longer).
func (n *Node) republishName(ctx context.Context, key string) error {
	own, err := n.OwnName(ctx, key)
	if api.KindOf(err) == api.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	k, err := n.nameKey(key)
	if err != nil {
		return err
	}
	value, err := path.NewPath(own.Value)
	if err != nil {
		return fmt.Errorf("republish: %w", err)
	}
	eol := time.Now().Add(ipns.DefaultRecordLifetime)
	if own.Expires.After(eol) {
		eol = own.Expires
	}
	ttl := time.Duration(own.TTLSeconds * float64(time.Second))
	return n.names.Publish(ctx, k, value, namesys.PublishWithEOL(eol), namesys.PublishWithTTL(ttl))
}
