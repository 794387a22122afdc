package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// The node serves its content, and its peers', to the web gateway.
var _ api.Gateway = (*Node)(nil)

const (
	// streamReadAhead is how many 1 MiB leaves a file read asks for beyond
	// the one it is in: enough to keep a link busy while the browser
	// plays, never past the end of a Range request.
	streamReadAhead = 4
	// sniffBytes is what boxo reads from the start of a file to guess its
	// type when the name has no extension (mimetype's limit).
	sniffBytes = 3072
)

// gatewayBackend is what boxo's gateway serves: boxo's BlocksBackend over
// the demand store (content here, or fetched from peers as it is read),
// with kith's own reader for UnixFS files so that a Range request, a seek
// in a video, reads only the blocks it returns (boxo's reader preloads ten
// blocks at every level). Names (/ipns/ paths, NAME.ipns.localhost) are
// looked up as `kith get` looks them up (gatewayNames), and each read is
// of the DAG its path resolved to (hinted).
type gatewayBackend struct {
	*gateway.BlocksBackend
	store *demandStore
	// names looks up IPNS names and DNSLink domains; its node's DHT
	// serves IPNS records (GetIPNSRecord).
	names gatewayNames
	// patience, when set, gives each request's reads a readPatience: a
	// video whose sharer went away in the middle waits, as kith cat does.
	patience func() *readPatience
}

func newGatewayBackend(n *Node) (*gatewayBackend, error) {
	// No exchange: the demand store under the block service fetches
	// what is missing itself, with kith's sources.
	bs := blockservice.New(boxoStore{n.demand}, nil)
	names := gatewayNames{n}
	bb, err := gateway.NewBlocksBackend(bs, gateway.WithNameSystem(names), gateway.WithValueStore(n.nameStore))
	if err != nil {
		return nil, fmt.Errorf("gateway backend: %w", err)
	}
	return &gatewayBackend{BlocksBackend: bb, store: n.demand, names: names}, nil
}

// WrapContextForRequest gives each gateway request its GC holds
// (gateway.WithContextHint), released when the request ends, and its
// patience.
func (g *gatewayBackend) WrapContextForRequest(ctx context.Context) context.Context {
	ctx, end := withRequestHolds(ctx, &g.store.reads)
	context.AfterFunc(ctx, end)
	if g.patience != nil {
		ctx = withReadPatience(ctx, g.patience())
	}
	return ctx
}

// Get serves UnixFS files with a dag.Stream, the rest as boxo does.
func (g *gatewayBackend) Get(ctx context.Context, p path.ImmutablePath, ranges ...gateway.ByteRange) (gateway.ContentPathMetadata, *gateway.GetResponse, error) {
	ctx = hinted(ctx, p)
	md, s, size, err := g.openFile(ctx, p)
	if err != nil {
		return md, nil, err
	}
	if s == nil {
		return g.BlocksBackend.Get(ctx, p, ranges...)
	}
	if len(ranges) > 0 {
		start, end := rangeBounds(ranges[0], size)
		s.SetLimit(end)
		if _, err := s.Seek(start, 0); err != nil {
			s.Close()
			return md, nil, err
		}
	}
	return md, gateway.NewGetResponseFromReader(s, size), nil
}

// Head serves UnixFS files with a dag.Stream limited to what boxo reads
// to guess a type, so a HEAD fetches at most the file's first leaf.
func (g *gatewayBackend) Head(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, *gateway.HeadResponse, error) {
	ctx = hinted(ctx, p)
	md, s, size, err := g.openFile(ctx, p)
	if err != nil {
		return md, nil, err
	}
	if s == nil {
		return g.BlocksBackend.Head(ctx, p)
	}
	s.SetLimit(sniffBytes)
	return md, gateway.NewHeadResponseForFile(s, size), nil
}

// openFile resolves p and opens it as a file; s is nil (and err too) when
// p is not a UnixFS file boxo's own code should serve.
func (g *gatewayBackend) openFile(ctx context.Context, p path.ImmutablePath) (md gateway.ContentPathMetadata, s *dag.Stream, size int64, err error) {
	md, err = g.ResolvePath(ctx, p)
	if err != nil {
		return md, nil, 0, err
	}
	c := md.LastSegment.RootCid()
	if c.Type() != cid.DagProtobuf && c.Type() != cid.Raw {
		return md, nil, 0, nil
	}
	s, size, err = dag.OpenStream(ctx, g.store, c, streamReadAhead)
	if errors.Is(err, dag.ErrIsDir) || errors.Is(err, dag.ErrUnsupported) {
		return md, nil, 0, nil
	}
	return md, s, size, err
}

// rangeBounds turns a Range request's first range into [start, end) in a
// file of size bytes (see gateway.ByteRange).
func rangeBounds(r gateway.ByteRange, size int64) (start, end int64) {
	start, end = r.From, size
	if start < 0 {
		start = max(size+start, 0)
	}
	if r.To != nil && *r.To >= 0 {
		end = min(*r.To+1, size)
	}
	return start, end
}

// Resolve walks path (slash-separated names, may be empty) from root and
// describes what it names, fetching the folders on the way from peers
// when they are not here. A miss matches blockstore.ErrNotFound.
func (n *Node) Resolve(ctx context.Context, root cid.Cid, sub string) (api.Entry, error) {
	p, err := path.Join(path.FromCid(root), strings.Split(strings.Trim(sub, "/"), "/")...)
	if sub == "" || strings.Trim(sub, "/") == "" {
		p, err = path.FromCid(root), nil
	}
	if err != nil {
		return api.Entry{}, fmt.Errorf("resolve %s/%s: %v: %w", root, sub, err, api.ErrInvalid)
	}
	ip, err := path.NewImmutablePath(p)
	if err != nil {
		return api.Entry{}, fmt.Errorf("resolve %s/%s: %v: %w", root, sub, err, api.ErrInvalid)
	}
	ctx, end := n.demandRead(ctx, root)
	defer end()
	md, err := n.gateway.ResolvePath(ctx, ip)
	if err != nil {
		return api.Entry{}, fmt.Errorf("resolve %s/%s: %w", root, sub, err)
	}
	e, err := dag.StatRoot(ctx, n.demand, md.LastSegment.RootCid())
	if err != nil {
		return api.Entry{}, fmt.Errorf("resolve %s/%s: %w", root, sub, err)
	}
	return toAPIEntry(e), nil
}

// GatewayBackend is what the web server's IPFS gateway serves.
func (n *Node) GatewayBackend() gateway.IPFSBackend { return n.gateway }

// BrowseStat is Stat for content that may be held only by peers: what is
// not here is described from its root block, fetched on demand.
func (n *Node) BrowseStat(ctx context.Context, c cid.Cid) (api.Entry, error) {
	e, err := n.Stat(ctx, c)
	if !errors.Is(err, blockstore.ErrNotFound) {
		return e, err
	}
	ctx, end := n.demandRead(ctx, c)
	defer end()
	de, err := dag.StatRoot(ctx, n.demand, c)
	if err != nil {
		return api.Entry{}, fmt.Errorf("stat %s: %w", c, err)
	}
	return toAPIEntry(de), nil
}

// BrowseLs is Ls for a folder that may be held only by peers: what is not
// here is listed from the folder's blocks and its files' root blocks.
func (n *Node) BrowseLs(ctx context.Context, c cid.Cid) ([]api.Entry, error) {
	// What is here in whole is listed from the repo; anything else from
	// the blocks LsLinks needs, which leaves the raw files where they are.
	es, err := n.ls(ctx, n.store, c)
	if !errors.Is(err, blockstore.ErrNotFound) {
		return es, err
	}
	ctx, end := n.demandRead(ctx, c)
	defer end()
	des, err := dag.LsLinks(ctx, n.demand, c)
	if err != nil {
		return nil, fmt.Errorf("ls %s: %w", c, err)
	}
	out := make([]api.Entry, len(des))
	for i, e := range des {
		out[i] = toAPIEntry(e)
	}
	return out, nil
}
