package bitswap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsiface "github.com/ipfs/boxo/bitswap/network"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/fetch"
)

// limitedNetwork is the network as the server sees it: every message of
// blocks waits for the upload limiter before it is sent, is sent again
// when sending it failed while the peer stays connected (sendRetries),
// and is counted (and its blocks told to the serve observer) once sent.
type limitedNetwork struct {
	bsiface.BitSwapNetwork
	e *Exchange
}

// sendRetries are the waits before each new try of a message that could
// not be sent to a peer still connected: its stream refused by the
// resource manager (the peer's outbound Bitswap streams all open: each
// message takes one, closed once the peer has read it, so one frees
// soon), or the send timed out (a busy peer that reads slowly). boxo's
// server forgets a message whose send failed, and the peer's client,
// which was told HAVE or waits for a block it asked for, may not ask
// again for minutes: its fetch would stall. A block sent twice is
// discarded by the client; a peer gone is not tried again.
var sendRetries = []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

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
	if err := n.send(ctx, p, msg); err != nil {
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

// send sends msg to p, again after each of sendRetries while it fails for
// a while only (transient) and p stays connected.
func (n limitedNetwork) send(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	err := n.BitSwapNetwork.SendMessage(ctx, p, msg)
	for _, wait := range sendRetries {
		if err == nil || !transient(err) || ctx.Err() != nil || !n.connected(p) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		err = n.BitSwapNetwork.SendMessage(ctx, p, msg)
	}
	return err
}

// transient reports whether a send that failed with err may succeed when
// tried again soon: its stream was refused for a resource limit, or the
// peer read too slowly. A peer that does not speak Bitswap any more, or
// a connection that broke, is not.
func transient(err error) bool {
	var ne net.Error
	return errors.Is(err, network.ErrResourceLimitExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// connected reports whether p is connected (the Exchange's host says;
// without one, as in tests of the network alone, it is taken to be).
func (n limitedNetwork) connected(p peer.ID) bool {
	return n.e.h == nil || n.e.h.Network().Connectedness(p) == network.Connected
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
