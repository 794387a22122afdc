package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-datastore"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// nameLookupWait bounds the lookup of a name, as Kubo's (a DHT search for
// an IPNS record, or DNS for a DNSLink domain, and what they point to).
const nameLookupWait = time.Minute

// defaultDHTPeerWait is how long a name's lookup or publish waits for a
// first DHT peer on a daemon that has none yet: one just started (by the
// command itself, say) is bootstrapping.
const defaultDHTPeerWait = 15 * time.Second

// errNameWait is the cause of a lookup's end at nameLookupWait.
var errNameWait = errors.New("name lookup took too long")

// newNames is the node's name system, boxo's namesys as Kubo has it: an
// IPNS name (k51..., 12D3Koo...) is a signed record found in the DHT (the
// newest of those the closest peers hold), a domain name a DNSLink record
// (a TXT record at _dnslink.DOMAIN, dnslink=/ipfs/CID or /ipns/NAME) asked
// of the system's resolver, or of the DNS-over-HTTPS server
// names.dns_resolvers names for the domain (.eth: eth.limo's, as Kubo's).
// Looked-up names are cached for their records'
// TTL (at most the cache's size of them). published keeps the record this
// node publishes (names_publish.go).
func newNames(r routing.ValueStore, published datastore.Datastore, c NamesConfig) (namesys.NameSystem, error) {
	res, err := dnsResolver(c)
	if err != nil {
		return nil, err
	}
	ns, err := namesys.NewNameSystem(r, namesys.WithCache(256), namesys.WithDatastore(published), namesys.WithDNSResolver(res))
	if err != nil {
		return nil, fmt.Errorf("start the name system: %w", err)
	}
	return ns, nil
}

// resolveName looks up the name of a path's root (dag.SplitPath's
// /ipns/NAME) and returns the CID it points to and the names under it the
// record gives (a record may point into a folder).
func (n *Node) resolveName(ctx context.Context, name string) (root string, names []string, err error) {
	if _, err := checkName(name); err != nil {
		return "", nil, err
	}
	p, err := path.NewPath(dag.NamePrefix + name)
	if err != nil {
		return "", nil, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s%s is not a name kith can look up: %v", dag.NamePrefix, short(name), err)}
	}
	res, err := n.lookupName(ctx, name, p)
	if err != nil {
		return "", nil, err
	}
	to := res.Path.String()
	if res.Path.Namespace() != path.IPFSNamespace {
		return "", nil, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s%s points to %s, which is not content kith can read (an /ipfs/ path)", dag.NamePrefix, short(name), short(to))}
	}
	root, names, err = dag.SplitPath(to)
	if err != nil {
		return "", nil, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s%s points to %s: %v", dag.NamePrefix, short(name), short(to), err)}
	}
	n.log.Info("name resolved", "name", name, "to", to, "ttl", res.TTL)
	return root, names, nil
}

// lookupName resolves p, the path /ipns/NAME[/...], as every lookup of a
// name here does (kith get, the gateway): an IPNS name waits for a first
// DHT peer on a daemon just started (unless a delegated router is asked
// too: names_routing.go), the whole lookup takes at most
// nameLookupWait, and a failure is an API error (nameError), except that a
// lookup limited in depth (opts) that ends at another name returns
// namesys.ErrResolveRecursion itself, as boxo expects.
func (n *Node) lookupName(ctx context.Context, name string, p path.Path, opts ...namesys.ResolveOption) (namesys.Result, error) {
	domain, err := checkName(name)
	if err != nil {
		return namesys.Result{}, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, nameLookupWait, errNameWait)
	defer cancel()
	alone := func() bool { return false }
	if !domain {
		alone = n.beforeNameLookup(ctx)
	}
	res, err := n.names.Resolve(ctx, p, append(opts, namesys.ResolveWithDhtTimeout(nameLookupWait))...)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, namesys.ErrResolveRecursion) && namesys.ProcessResolveOptions(opts).Depth != namesys.DefaultDepthLimit:
		return res, namesys.ErrResolveRecursion
	}
	return res, nameError(ctx, name, domain, alone(), err)
}

// beforeNameLookup readies a lookup of an IPNS name: without name
// routers it waits for a first DHT peer (with them, nameRouting waits for
// it beside them). alone, asked after the lookup, reports whether the node
// had no one to ask: no DHT peer, and no router answered.
func (n *Node) beforeNameLookup(ctx context.Context) (alone func() bool) {
	start := time.Now()
	if n.nameStore.routers.Len() == 0 {
		n.awaitDHTPeer(ctx)
	}
	return func() bool {
		return n.dht.RoutingTableSize() == 0 && !n.nameStore.routers.AnsweredSince(start)
	}
}

// checkName is dag.CheckIPNSName in the vocabulary of API errors.
func checkName(name string) (domain bool, err error) {
	domain, err = dag.CheckIPNSName(name)
	if err != nil {
		return false, &api.Error{Kind: api.KindInvalid, Message: err.Error()}
	}
	return domain, nil
}

// awaitDHTPeer waits, up to n.dhtPeerWait, until the DHT's routing table
// holds a peer, or ctx ends.
func (n *Node) awaitDHTPeer(ctx context.Context) {
	if n.dht.RoutingTableSize() > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.dhtPeerWait)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for n.dht.RoutingTableSize() == 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// nameError says why a name was not resolved, in the vocabulary of API
// errors: no record (or none that points anywhere) is not found; no DHT
// peer to ask (alone: the routing table is empty), DNS out of reach, or
// no answer in time, unavailable.
func nameError(ctx context.Context, name string, domain, alone bool, err error) error {
	at := dag.NamePrefix + short(name)
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, namesys.ErrMissingDNSLinkRecord):
		return &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("%s has no DNSLink record (a TXT record at _dnslink.%s holding dnslink=/ipfs/CID)", short(name), short(name))}
	case errors.Is(err, namesys.ErrResolveRecursion):
		return &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s leads to names that lead to names, over 32 times: a loop", at)}
	case errors.As(err, &dnsErr):
		return &api.Error{Kind: api.KindUnavailable, Message: fmt.Sprintf("%s: DNS did not answer for _dnslink.%s: %v", at, short(name), dnsErr.Err)}
	case context.Cause(ctx) == errNameWait:
		return &api.Error{Kind: api.KindUnavailable, Message: fmt.Sprintf("no record of %s came within %s", at, nameLookupWait)}
	case ctx.Err() != nil:
		return fmt.Errorf("look up %s: %w", at, ctx.Err())
	case domain:
		return &api.Error{Kind: api.KindUnavailable, Message: fmt.Sprintf("%s: DNSLink lookup failed: %v", at, err)}
	case alone || errors.Is(err, kb.ErrLookupFailure):
		return &api.Error{Kind: api.KindUnavailable, Message: fmt.Sprintf("%s: this node knows no DHT peer to ask yet ('kith doctor' says why)", at)}
	case errors.Is(err, namesys.ErrResolveFailed), errors.Is(err, routing.ErrNotFound):
		return &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("no peer in the DHT holds a record of %s: its publisher may have been offline for longer than a record lasts (48 hours, as Kubo publishes them), or the name is mistyped", at)}
	default:
		return fmt.Errorf("look up %s: %w", at, err)
	}
}
