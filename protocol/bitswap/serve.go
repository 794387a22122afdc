package bitswap

import (
	"context"
	"errors"
	"fmt"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsiface "github.com/ipfs/boxo/bitswap/network"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
)

// limitedNetwork is the network as the server sees it: every message of
// blocks waits for the upload limiter before it is sent, and is counted
// (and its blocks told to the serve observer) once sent.
type limitedNetwork struct {
	bsiface.BitSwapNetwork
	e *Exchange
}

func (n limitedNetwork) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	blks := msg.Blocks()
	size := 0
	for _, b := range blks {
		size += len(b.RawData())
	}
	if l := n.e.limiter; l != nil {
		// The bucket holds one maximal block: wait for larger messages
		// in pieces.
		for left := size; left > 0; {
			step := min(left, l.Burst())
			if err := l.WaitN(ctx, step); err != nil {
				return fmt.Errorf("bitswap upload limit: %w", err)
			}
			left -= step
		}
	}
	if err := n.BitSwapNetwork.SendMessage(ctx, p, msg); err != nil {
		return err
	}
	n.e.metrics.served(len(blks), size)
	if n.e.served != nil {
		for _, b := range blks {
			n.e.served(p, b)
		}
	}
	return nil
}

// storeView is kith's store as boxo's server reads it: misses are
// go-ipld-format's ErrNotFound (what boxo recognises), and it is read-only.
type storeView struct{ bs blockstore.Blockstore }

var errReadOnly = errors.New("bitswap: the server's store view is read-only")

func miss(c cid.Cid, err error) error {
	if errors.Is(err, blockstore.ErrNotFound) {
		return ipld.ErrNotFound{Cid: c}
	}
	return err
}

func (v storeView) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := v.bs.Get(ctx, c)
	if err != nil {
		return nil, miss(c, err)
	}
	if len(b.RawData()) > fetch.MaxBlockSize {
		// Larger blocks are refused by /kith/fetch too, and by IPFS
		// peers' own limits.
		return nil, ipld.ErrNotFound{Cid: c}
	}
	return b, nil
}

func (v storeView) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	n, err := v.bs.GetSize(ctx, c)
	switch {
	case err == nil && n > fetch.MaxBlockSize:
		return 0, ipld.ErrNotFound{Cid: c}
	case err == nil && n == 0:
		// boxo's engine takes a size of 0 for a miss and answers
		// DONT_HAVE, so a peer asking for the empty block (an empty
		// file's) would never get it; Kubo's own server has that bug.
		// One byte of queue accounting is the price of sending it.
		return 1, nil
	}
	return n, miss(c, err)
}

func (v storeView) Has(ctx context.Context, c cid.Cid) (bool, error) {
	n, err := v.GetSize(ctx, c)
	if ipld.IsNotFound(err) {
		return false, nil
	}
	return n >= 0 && err == nil, err
}

func (storeView) Put(context.Context, blocks.Block) error       { return errReadOnly }
func (storeView) PutMany(context.Context, []blocks.Block) error { return errReadOnly }
func (storeView) DeleteBlock(context.Context, cid.Cid) error    { return errReadOnly }
func (storeView) AllKeysChan(context.Context) (<-chan cid.Cid, error) {
	return nil, errReadOnly
}

// Metrics holds the Prometheus collectors of kith's Bitswap server. A nil
// *Metrics records nothing. What Bitswap fetches is counted by the
// fetcher (kith_fetch_protocol_*_total{protocol="bitswap"}).
type Metrics struct {
	blocksServed prometheus.Counter
	bytesServed  prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (if not
// nil); create one Metrics per registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "kith", Subsystem: "bitswap", Name: name, Help: help})
	}
	m := &Metrics{
		blocksServed: counter("blocks_served_total", "Blocks sent to peers over Bitswap."),
		bytesServed:  counter("bytes_served_total", "Block bytes sent to peers over Bitswap."),
	}
	if reg != nil {
		reg.MustRegister(m.blocksServed, m.bytesServed)
	}
	return m
}

func (m *Metrics) served(n, bytes int) {
	if m == nil || n == 0 {
		return
	}
	m.blocksServed.Add(float64(n))
	m.bytesServed.Add(float64(bytes))
}
