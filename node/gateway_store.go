package node

import (
	"context"
	"errors"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// boxoStore shows the demand store to boxo's block service (the
// blockstore.Blockstore of boxo, not kith's). Reads fetch what is missing;
// the gateway never writes, deletes or enumerates.
type boxoStore struct{ d *demandStore }

var errGatewayReadOnly = errors.New("the gateway's block store is read-only")

func (b boxoStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) { return b.d.Get(ctx, c) }

func (b boxoStore) GetSize(ctx context.Context, c cid.Cid) (int, error) { return b.d.GetSize(ctx, c) }

// Has is local only: boxo asks it to answer only-if-cached requests.
func (b boxoStore) Has(ctx context.Context, c cid.Cid) (bool, error) { return b.d.Has(ctx, c) }

func (boxoStore) Put(context.Context, blocks.Block) error { return errGatewayReadOnly }

func (boxoStore) PutMany(context.Context, []blocks.Block) error { return errGatewayReadOnly }

func (boxoStore) DeleteBlock(context.Context, cid.Cid) error { return errGatewayReadOnly }

func (boxoStore) AllKeysChan(context.Context) (<-chan cid.Cid, error) {
	return nil, errGatewayReadOnly
}
