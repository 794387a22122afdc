package dht

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	mh "github.com/multiformats/go-multihash"
)

// Small networks. The sweeping provider announces a whole region of the
// keyspace at once to the peers it finds by exploring that region; with
// fewer DHT servers than a bucket holds (a closed kith network, a home LAN)
// most regions have no peers of their own and it logs "no peers found when
// exploring prefix" and announces nothing there. kad-dht's classic Provide
// (a lookup of the key's closest peers, then ADD_PROVIDER to each) works on
// a network of any size. So on a DHT whose routing table holds fewer peers
// than a bucket, kith announces each key the classic way as well, when it
// is provided and every reprovide interval.

// classicConcurrency bounds the classic announcements in flight.
const classicConcurrency = 8

// smallTables returns the DHTs (WAN, LAN) whose routing tables are not
// empty but smaller than a bucket.
func (d *DHT) smallTables() []*kaddht.IpfsDHT {
	var out []*kaddht.IpfsDHT
	for _, k := range d.kads {
		if n := k.RoutingTable().Size(); n > 0 && n < k.BucketSize() {
			out = append(out, k)
		}
	}
	return out
}

// announceClassic announces keys with kad-dht's classic Provide on each
// small DHT. It returns the first error of the last key that failed
// everywhere, or nil.
func (d *DHT) announceClassic(ctx context.Context, keys []mh.Multihash) error {
	tables := d.smallTables()
	if len(tables) == 0 || len(keys) == 0 {
		return nil
	}
	sem := make(chan struct{}, classicConcurrency)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for _, k := range keys {
		c := cid.NewCidV1(cid.Raw, k)
		for _, t := range tables {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return ctx.Err()
			case <-d.closing:
				wg.Wait()
				return ErrClosed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := t.Provide(ctx, c, true); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return firstErr
}

// Reprovide announces every provided key now, without waiting for the
// schedule: after the node woke from sleep or its addresses changed, the
// records on the network point at addresses that may no longer work. On a
// large DHT the sweeping provider batches the keys by keyspace region; on a
// small one each key is announced the classic way too.
func (d *DHT) Reprovide(ctx context.Context) error {
	if d.closed() {
		return ErrClosed
	}
	keys, err := d.providedKeys(ctx)
	if err != nil {
		return fmt.Errorf("dht: reprovide: read keystore: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := d.prov.ProvideOnce(keys...); err != nil {
		return fmt.Errorf("dht: reprovide: %w", err)
	}
	if err := d.announceClassic(ctx, keys); err != nil {
		return fmt.Errorf("dht: reprovide: %w", err)
	}
	return nil
}

// smallNetworkLoop reprovides every key the classic way every reprovide
// interval while a routing table is small (the sweeping provider's own
// schedule keeps running beside it).
func (d *DHT) smallNetworkLoop() {
	defer d.bg.Done()
	t := time.NewTicker(d.cfg.reprovideInterval)
	defer t.Stop()
	ctx := d.life
	for {
		select {
		case <-d.closing:
			return
		case <-t.C:
			if len(d.smallTables()) == 0 {
				continue
			}
			keys, err := d.providedKeys(ctx)
			if err != nil {
				continue
			}
			_ = d.announceClassic(ctx, keys)
		}
	}
}
