package node

import (
	"context"
	"sync"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// statsHistoryLen is how many one-second samples the daemon keeps for the
// web UI's rate chart (two minutes), so that a page opened now shows the
// transfer that ended a minute ago, not a chart that starts empty.
const statsHistoryLen = 120

// statsHistory is a ring of recent traffic samples. Safe for concurrent use.
type statsHistory struct {
	mu      sync.Mutex
	samples []api.Stats // oldest first
}

func (h *statsHistory) add(s api.Stats) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.samples) == statsHistoryLen {
		copy(h.samples, h.samples[1:])
		h.samples = h.samples[:statsHistoryLen-1]
	}
	h.samples = append(h.samples, s)
}

func (h *statsHistory) list() []api.Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Never nil: the stream sends it as a JSON list, [] before the first
	// sample (a null broke the web UI's stream on a daemon just started).
	return append(make([]api.Stats, 0, len(h.samples)), h.samples...)
}

// recordStats samples the traffic counters every second for StatsHistory.
// Samples carry rates, totals, peers and time (not disk usage, which is
// a walk of the repo folder: the live stats carry it).
func (n *Node) recordStats(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			bw := n.bw.GetBandwidthTotals()
			n.history.add(api.Stats{
				TotalIn: bw.TotalIn, TotalOut: bw.TotalOut, RateIn: bw.RateIn, RateOut: bw.RateOut,
				Peers: len(n.host.Network().Peers()), Time: now.UTC(),
			})
		}
	}
}

// StatsHistory returns the traffic samples of the last two minutes, one
// per second, oldest first.
func (n *Node) StatsHistory() []api.Stats { return n.history.list() }
