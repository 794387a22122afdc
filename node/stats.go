package node

import (
	"context"
	"fmt"
	"time"

	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// The node reports live statistics for the event stream.
var _ api.StatsSource = (*Node)(nil)

// Stats is a cheap snapshot for the web UI's once-a-second refresh: the
// bandwidth counter and peer count are in memory, the disk usage is a
// walk of the block store's few files (never a scan of its blocks) and
// the free space one statfs.
func (n *Node) Stats(ctx context.Context) (api.Stats, error) {
	bw := n.bw.GetBandwidthTotals()
	disk, err := n.store.DiskUsage()
	if err != nil {
		return api.Stats{}, fmt.Errorf("stats: %w", err)
	}
	free, err := n.store.Free() // one statfs
	if err != nil {
		free = -1
	}
	return api.Stats{
		TotalIn: bw.TotalIn, TotalOut: bw.TotalOut, RateIn: bw.RateIn, RateOut: bw.RateOut,
		Peers: len(n.host.Network().Peers()), DiskUsage: disk, DiskFree: free, Time: time.Now().UTC(),
		DownloadLimit: fetch.LimitOf(n.download), UploadLimit: fetch.LimitOf(n.upload),
	}, nil
}
