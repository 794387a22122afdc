package dag

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// Prefetcher is implemented by stores that fetch blocks from elsewhere (the
// gateway's on-demand store): Prefetch starts getting cids in the
// background, so that a later Get finds them sooner. It returns at once.
type Prefetcher interface {
	Prefetch(ctx context.Context, cids []cid.Cid)
}

// Stream is a seekable reader over a UnixFS file that reads only the
// blocks it needs: a Seek loads the nodes on the way down to the new
// offset, a Read the leaf under it, and when the store is a Prefetcher up
// to readAhead following leaves are asked for ahead of time, never past
// the limit set with SetLimit. boxo's DAG reader (what Open uses) instead
// preloads ten children at every level, which is right for a local store
// and wrong for one that fetches from peers: a seek would cost ten 1 MiB
// blocks.
//
// A Stream is not safe for concurrent use; ctx bounds its whole life.
type Stream struct {
	ctx       context.Context
	bs        blockstore.Blockstore
	root      cid.Cid
	size      int64
	readAhead int
	limit     int64
	off       int64

	// leaf is the data under off, starting at leafAt in the file.
	leaf   []byte
	leafAt int64
	// nodes caches the file's inner nodes, decoded; they are few and small.
	nodes map[cid.Cid]*fileNode
}

// fileNode is a decoded UnixFS file node: its own data, then its children
// with their content sizes.
type fileNode struct {
	data  []byte
	links []cid.Cid
	sizes []uint64
}

// maxCachedNodes bounds Stream.nodes (a 1 GiB file has one inner node).
const maxCachedNodes = 256

// OpenStream returns a Stream over the file at c and its length. Reading
// starts at offset 0 with no limit on read-ahead but the file's end.
func OpenStream(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, readAhead int) (*Stream, int64, error) {
	s := &Stream{ctx: ctx, bs: bs, root: c, readAhead: readAhead, nodes: map[cid.Cid]*fileNode{}}
	nd, err := s.node(c)
	if err != nil {
		return nil, 0, err
	}
	s.size = int64(len(nd.data))
	for _, sz := range nd.sizes {
		s.size += int64(sz)
	}
	s.limit = s.size
	return s, s.size, nil
}

// SetLimit stops read-ahead at end: the reader will not be asked for bytes
// past it (a Range request's last byte + 1).
func (s *Stream) SetLimit(end int64) { s.limit = min(max(end, 0), s.size) }

// Seek implements io.Seeker. It only moves the offset; the next Read loads
// what it needs.
func (s *Stream) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.size
	default:
		return s.off, fmt.Errorf("seek %s: bad whence %d", s.root, whence)
	}
	if offset < 0 {
		return s.off, fmt.Errorf("seek %s: negative offset %d", s.root, offset)
	}
	s.off = offset
	return offset, nil
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.off >= s.size {
		return 0, io.EOF
	}
	if s.off < s.leafAt || s.off >= s.leafAt+int64(len(s.leaf)) {
		if err := s.locate(s.off); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.leaf[s.off-s.leafAt:])
	s.off += int64(n)
	return n, nil
}

// Close releases the cached blocks; the Stream must not be used after.
func (s *Stream) Close() error {
	s.leaf, s.nodes = nil, nil
	return nil
}

// locate loads the data that holds offset off into s.leaf, walking down
// from the root by the children's sizes, and prefetches the leaves after
// it.
func (s *Stream) locate(off int64) error {
	c, at := s.root, int64(0)
	for {
		nd, err := s.node(c)
		if err != nil {
			return err
		}
		if off < at+int64(len(nd.data)) || len(nd.links) == 0 {
			s.leaf, s.leafAt = nd.data, at
			if off >= at+int64(len(nd.data)) {
				return fmt.Errorf("read %s at %d: %w", s.root, off, errShortDAG)
			}
			return nil
		}
		at += int64(len(nd.data))
		i := 0
		for ; i < len(nd.links); i++ {
			if off < at+int64(nd.sizes[i]) {
				break
			}
			at += int64(nd.sizes[i])
		}
		if i == len(nd.links) {
			return fmt.Errorf("read %s at %d: %w", s.root, off, errShortDAG)
		}
		s.prefetch(nd, i, at)
		c = nd.links[i]
	}
}

// errShortDAG: the nodes' sizes promise more data than their children hold.
var errShortDAG = errors.New("the file's blocks hold less data than its sizes say")

// prefetch asks for child i of nd (which starts at offset at) and up to
// readAhead siblings after it that start before the limit.
func (s *Stream) prefetch(nd *fileNode, i int, at int64) {
	pf, ok := s.bs.(Prefetcher)
	if !ok || s.readAhead <= 0 {
		return
	}
	want := []cid.Cid{nd.links[i]}
	next := at + int64(nd.sizes[i])
	for j := i + 1; j < len(nd.links) && len(want) <= s.readAhead && next < s.limit; j++ {
		want = append(want, nd.links[j])
		next += int64(nd.sizes[j])
	}
	pf.Prefetch(s.ctx, want)
}

// node returns the decoded file node c, from the cache for inner nodes.
func (s *Stream) node(c cid.Cid) (*fileNode, error) {
	if nd, ok := s.nodes[c]; ok {
		return nd, nil
	}
	b, err := s.bs.Get(s.ctx, c)
	if err != nil {
		return nil, err
	}
	nd, err := decodeFileNode(c, b.RawData())
	if err != nil {
		return nil, err
	}
	if len(nd.links) > 0 {
		if len(s.nodes) >= maxCachedNodes {
			clear(s.nodes)
		}
		s.nodes[c] = nd
	}
	return nd, nil
}

// decodeFileNode decodes a raw leaf or a dag-pb UnixFS file node.
func decodeFileNode(c cid.Cid, raw []byte) (*fileNode, error) {
	switch c.Type() {
	case cid.Raw:
		return &fileNode{data: raw}, nil
	case cid.DagProtobuf:
	default:
		return nil, fmt.Errorf("%s: %w", c, ErrUnsupported)
	}
	pn, err := merkledag.DecodeProtobuf(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding dag-pb block %s: %w", c, err)
	}
	fs, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil {
		return nil, fmt.Errorf("%s: not a UnixFS node: %w", c, err)
	}
	switch fs.Type() {
	case ft.TFile, ft.TRaw:
	case ft.TDirectory, ft.THAMTShard:
		return nil, fmt.Errorf("%s: %w", c, ErrIsDir)
	default:
		return nil, fmt.Errorf("%s: %w (type %s)", c, ErrUnsupported, fs.Type())
	}
	links := pn.Links()
	if fs.NumChildren() != len(links) {
		return nil, fmt.Errorf("%s: %w (%d sizes for %d links)", c, ErrUnsupported, fs.NumChildren(), len(links))
	}
	nd := &fileNode{data: fs.Data(), links: make([]cid.Cid, len(links)), sizes: fs.BlockSizes()}
	for i, l := range links {
		nd.links[i] = l.Cid
	}
	return nd, nil
}
