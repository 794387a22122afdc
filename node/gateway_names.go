package node

import (
	"context"
	"errors"
	"io"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	ci "github.com/libp2p/go-libp2p/core/crypto"

	"github.com/kith-p2p/kith/web/api"
)

// gatewayNames is the name system the gateway looks names up with
// (/ipns/NAME paths, NAME.ipns.localhost hosts): the node's own, as
// `kith get /ipns/NAME` uses it, so a lookup waits for a first DHT peer
// on a daemon just started and is bounded by nameLookupWait, and a failure
// is the node's sentence with the HTTP status of its kind (a name no one
// holds a record of is 404, no DHT peer to ask 503), not boxo's 500.
type gatewayNames struct{ n *Node }

func (g gatewayNames) Resolve(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) (namesys.Result, error) {
	if p.Namespace() != path.IPNSNamespace {
		return g.n.names.Resolve(ctx, p, opts...)
	}
	res, err := g.n.lookupName(ctx, p.Segments()[1], p, opts...)
	if err != nil && err != namesys.ErrResolveRecursion {
		// boxo's GetDNSLinkRecord, one step deep, compares with the
		// sentinel: a name that leads to another name is no error there.
		err = gatewayStatus(err)
	}
	return res, err
}

func (g gatewayNames) ResolveAsync(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) <-chan namesys.AsyncResult {
	ch := make(chan namesys.AsyncResult, 1)
	res, err := g.Resolve(ctx, p, opts...)
	ch <- namesys.AsyncResult{Path: res.Path, TTL: res.TTL, LastMod: res.LastMod, Err: err}
	close(ch)
	return ch
}

// Publish is not the gateway's to do (kith name publish is the node's).
func (gatewayNames) Publish(context.Context, ci.PrivKey, path.Path, ...namesys.PublishOption) error {
	return errors.New("the gateway publishes no names")
}

// gatewayStatus gives err the HTTP status of its kind, which boxo's
// gateway answers with (and err's sentence as the body).
func gatewayStatus(err error) error {
	return gateway.NewErrorStatusCode(errors.New(api.Sentence(err)), api.KindOf(err).Status())
}

// GetIPNSRecord serves an IPNS record as it is in the DHT (or a delegated
// router: names.delegated_routers) (?format=ipns-record, for clients that
// check the signature themselves).
func (g *gatewayBackend) GetIPNSRecord(ctx context.Context, c cid.Cid) ([]byte, error) {
	n := g.names.n
	ctx, cancel := context.WithTimeoutCause(ctx, nameLookupWait, errNameWait)
	defer cancel()
	alone := n.beforeNameLookup(ctx)
	b, err := g.BlocksBackend.GetIPNSRecord(ctx, c)
	if err != nil {
		name := c.String()
		if in, err := ipns.NameFromCid(c); err == nil {
			name = in.String()
		}
		return nil, gatewayStatus(nameError(ctx, name, false, alone(), err))
	}
	return b, nil
}

// The backend's reads of a resolved path are reads of its DAG (rootHint):
// the DHT is asked who holds the root, the request holds the root from GC,
// and what it fetched is counted as a read of the root. Reads through a
// name need this: the request's own path (/ipns/NAME) names no CID.
func hinted(ctx context.Context, p path.ImmutablePath) context.Context {
	if _, ok := ctx.Value(rootHintKey{}).(cid.Cid); ok {
		return ctx
	}
	return withRootHint(ctx, p.RootCid())
}

func (g *gatewayBackend) GetAll(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, files.Node, error) {
	return g.BlocksBackend.GetAll(hinted(ctx, p), p)
}

func (g *gatewayBackend) GetBlock(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, files.File, error) {
	return g.BlocksBackend.GetBlock(hinted(ctx, p), p)
}

func (g *gatewayBackend) ResolvePath(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, error) {
	return g.BlocksBackend.ResolvePath(hinted(ctx, p), p)
}

func (g *gatewayBackend) GetCAR(ctx context.Context, p path.ImmutablePath, params gateway.CarParams) (gateway.ContentPathMetadata, io.ReadCloser, error) {
	return g.BlocksBackend.GetCAR(hinted(ctx, p), p, params)
}
