package dht

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Routing-table persistence. kad-dht keeps its routing table in memory, so
// a restarted node would depend on its bootstrap peers alone (and on a
// private network, on the one friend whose address it was given). Like
// Kubo's saved bootstrap peers, kith writes the routing table's peers to the
// datastore now and then and on Close, and Bootstrap dials them beside the
// configured bootstrap peers.

const (
	// maxSavedPeers bounds how many routing-table peers are kept.
	maxSavedPeers = 32
	// savePeersEvery is how often the routing table is saved while running,
	// so a crash loses at most this much.
	savePeersEvery = 15 * time.Minute
)

var savedPeersKey = datastore.NewKey("/kith/routing-peers")

type savedPeer struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

// savePeers writes up to maxSavedPeers peers; errors are ignored (the
// saved peers are a hint, bootstrap peers still work without them).
func savePeers(ctx context.Context, ds datastore.Datastore, ais []peer.AddrInfo) {
	if len(ais) == 0 {
		return // keep the last good list rather than forget it
	}
	var out []savedPeer
	for _, ai := range ais[:min(len(ais), maxSavedPeers)] {
		sp := savedPeer{ID: ai.ID.String()}
		for _, a := range ai.Addrs {
			sp.Addrs = append(sp.Addrs, a.String())
		}
		out = append(out, sp)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return
	}
	_ = ds.Put(ctx, savedPeersKey, b)
	_ = ds.Sync(ctx, savedPeersKey)
}

// loadPeers reads the peers savePeers wrote; nothing if there are none or
// the record is unreadable.
func loadPeers(ctx context.Context, ds datastore.Datastore) []peer.AddrInfo {
	b, err := ds.Get(ctx, savedPeersKey)
	if err != nil {
		return nil
	}
	var in []savedPeer
	if json.Unmarshal(b, &in) != nil {
		return nil
	}
	var out []peer.AddrInfo
	for _, sp := range in {
		id, err := peer.Decode(sp.ID)
		if err != nil {
			continue
		}
		ai := peer.AddrInfo{ID: id}
		for _, s := range sp.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		if len(ai.Addrs) > 0 {
			out = append(out, ai)
		}
	}
	return out
}

// savePeersLoop saves the routing table every savePeersEvery until Close.
func (d *DHT) savePeersLoop() {
	defer d.bg.Done()
	t := time.NewTicker(savePeersEvery)
	defer t.Stop()
	for {
		select {
		case <-d.closing:
			return
		case <-t.C:
			savePeers(context.Background(), d.cfg.datastore, d.RoutingPeers())
		}
	}
}
