package blockstore

import (
	"errors"
	"fmt"

	merkledagpb "github.com/ipfs/boxo/ipld/merkledag/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multicodec"
	"google.golang.org/protobuf/proto"
)

// ErrUnsupportedCodec is returned (wrapped) by Links for a block whose codec
// kith cannot read links from. GC refuses to guess in that case: treating
// such a block as a leaf could delete data it links to.
var ErrUnsupportedCodec = errors.New("unsupported codec")

// Links returns the CIDs b links to, in order. kith only produces raw leaves
// (no links) and dag-pb nodes (UnixFS), so those are the codecs it reads.
// Used by GC to mark and by the CAR exporter to walk DAGs.
func Links(b blocks.Block) ([]cid.Cid, error) {
	c := b.Cid()
	switch c.Type() {
	case cid.Raw:
		return nil, nil
	case cid.DagProtobuf:
		// Decoding the protobuf directly (rather than through boxo's
		// merkledag) keeps the block store free of the block service and
		// provider stack that merkledag drags in, and is lenient about
		// field order, which is what GC wants: never fail on a node that
		// an older encoder wrote.
		var nd merkledagpb.PBNode
		if err := proto.Unmarshal(b.RawData(), &nd); err != nil {
			return nil, fmt.Errorf("links of %s: decode dag-pb: %w", c, err)
		}
		out := make([]cid.Cid, len(nd.Links))
		for i, l := range nd.Links {
			lc, err := cid.Cast(l.GetHash())
			if err != nil {
				return nil, fmt.Errorf("links of %s: link %d: %w", c, i, err)
			}
			out[i] = lc
		}
		return out, nil
	default:
		return nil, fmt.Errorf("links of %s: %w %s", c, ErrUnsupportedCodec, multicodec.Code(c.Type()))
	}
}
