package fetch

import "time"

// Lanes that follow the path.
//
// A lane's throughput is bounded by its stream's flow-control window over
// the round trip. Muxers size that window from an RTT they measure now and
// then: yamux (libp2p over TCP) measures at the start and every 30 s, so a
// connection opened at ~0 ms whose RTT then rises to 50 ms keeps its
// streams near their first 256 KiB window for up to half a minute, and
// three lanes carried ~8 MB/s where the same link opened at 50 ms carried
// 120 MB/s (BenchmarkFetchLatency50ms, "rises"). So while a peer's window
// is full, kith probes with more lanes (more streams, so more flow-control
// windows in parallel) and keeps them only when the rate rises, like a
// hill climb:
//
//   - Every probe period (a few RTTs, at least probeEvery), a peer whose
//     batches fill its window and which has run at least probeAfter gets
//     twice the lanes (up to maxLanes), and the window grows to give each
//     lane a batch (lanes x minBatchBytes).
//   - At the next period, if the rate rose by probeGain the new lanes stay
//     and the next probe follows; if not, the peer goes back to the lane
//     count and window it had (the link, not the lanes, was the limit;
//     lanes already open stay open and share the smaller window) and
//     probes again only after probeBackoff, in case the path changes.
//
// On a link that is the bottleneck, a probe costs one period of a little
// extra data in flight; on loopback, where the windows grow fast, the
// first probe usually finds nothing to gain.
//
// Not over QUIC: quic-go resizes each stream's window from its RTT
// estimate of the moment (flow_controller_base.go), so its windows follow
// the path themselves, and there more lanes only split one congestion
// window among more streams. Through a 50 ms path the probe cost a QUIC
// fetch a quarter of its speed (17-23 MB/s against 21-29 with the lanes
// left alone, BENCHMARKS.md), and after the RTT rises QUIC is held by its
// congestion control, which lanes cannot raise.
const (
	maxLanes     = 32
	probeEvery   = 300 * time.Millisecond
	probeAfter   = 500 * time.Millisecond
	probeBackoff = 2 * time.Second
	probeGain    = 1.10
)

// laneProbe is a peer's lane count and the state of its probe. Guarded by
// scheduler.mu.
type laneProbe struct {
	lanes     int       // lanes the peer may have open
	probing   bool      // the last change doubled lanes and awaits its verdict
	prevLanes int       // lanes before the probe
	baseRate  float64   // the rate when the probe started
	next      time.Time // no change before this
}

// laneCount is how many lanes p may have open.
func (p *peerState) laneCount() int {
	if p.probe.lanes == 0 {
		return lanesPerPeer
	}
	return p.probe.lanes
}

// windowsFollowRTT reports whether a connection of this transport (a
// network.ConnectionState's Transport) sizes its stream windows from a live
// RTT, so that lanes need no probe: QUIC.
func windowsFollowRTT(transport string) bool {
	switch transport {
	case "quic-v1", "quic", "webtransport":
		return true
	}
	return false
}

// probeLanes runs one step of p's lane probe at a tick.
func (p *peerState) probeLanes(now time.Time, started time.Time, windowFull bool) {
	if p.noLaneProbe.Load() {
		return
	}
	lp := &p.probe
	if lp.lanes == 0 {
		lp.lanes = lanesPerPeer
		lp.next = started.Add(probeAfter)
	}
	if now.Before(lp.next) {
		return
	}
	period := max(probeEvery, 4*p.minRTT)
	if lp.probing {
		lp.probing = false
		if p.rate < probeGain*lp.baseRate {
			// No gain: the lanes were not the limit.
			lp.lanes = lp.prevLanes
			lp.next = now.Add(probeBackoff)
			return
		}
	}
	if !windowFull || lp.lanes >= maxLanes || p.rate <= 0 {
		lp.next = now.Add(period)
		return
	}
	lp.prevLanes, lp.baseRate, lp.probing = lp.lanes, p.rate, true
	lp.lanes = min(2*lp.lanes, maxLanes)
	lp.next = now.Add(period)
}

// storeBound tells p's probe that blocks waited for the store at this
// tick: the disk, not the network, limits the fetch, so p goes back to
// the default lanes (extra ones would only hold more bytes in memory) and
// probes again no sooner than probeBackoff after the disk stops being
// the limit.
func (p *peerState) storeBound(now time.Time) {
	lp := &p.probe
	if lp.lanes > lanesPerPeer {
		lp.lanes = lanesPerPeer
	}
	lp.probing = false
	lp.next = now.Add(probeBackoff)
}
