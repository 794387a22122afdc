package fetch

import (
	"testing"
	"time"
)

// TestLaneProbe walks the lane probe through the paths it must tell apart:
// lanes that were the limit (the rate rises with each doubling), a link
// that is the limit (no gain: back to the lanes it had, and a new probe
// only after the backoff), a peer whose window is not full (nothing to
// probe), and the cap.
func TestLaneProbe(t *testing.T) {
	type step struct {
		at    time.Duration // since the peer started
		rate  float64       // MB/s at that tick
		full  bool
		lanes int // lanes after the step
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"lanes are the limit", []step{
			{100 * time.Millisecond, 5, true, 3}, // before probeAfter
			{probeAfter, 5, true, 6},
			{probeAfter + probeEvery, 11, true, 12},
			{probeAfter + 2*probeEvery, 24, true, 24},
			{probeAfter + 3*probeEvery, 47, true, 32},
			{probeAfter + 4*probeEvery, 60, true, 32}, // at the cap: kept, no more
			{probeAfter + 5*probeEvery, 60, true, 32},
		}},
		{"the link is the limit", []step{
			{probeAfter, 12, true, 6},
			{probeAfter + probeEvery, 12.5, true, 3}, // no gain: back
			{probeAfter + 2*probeEvery, 12.5, true, 3},
			{probeAfter + probeEvery + probeBackoff, 12.5, true, 6}, // probes again
			{probeAfter + 2*probeEvery + probeBackoff, 12, true, 3},
		}},
		{"window not full", []step{
			{probeAfter, 50, false, 3},
			{probeAfter + probeEvery, 50, false, 3},
			{probeAfter + 2*probeEvery, 50, true, 6},
		}},
		{"nothing received yet", []step{
			{probeAfter, 0, true, 3},
		}},
		// Over QUIC the lanes stay as they are whatever the rate does:
		// its windows follow the RTT by themselves.
		{"quic", []step{
			{probeAfter, 5, true, 3},
			{probeAfter + probeEvery, 11, true, 3},
			{probeAfter + probeBackoff, 24, true, 3},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			p := &peerState{minRTT: 50 * time.Millisecond}
			p.noLaneProbe.Store(tc.name == "quic")
			for i, s := range tc.steps {
				p.rate = s.rate * 1e6
				p.probeLanes(start.Add(s.at), start, s.full)
				if got := p.laneCount(); got != s.lanes {
					t.Fatalf("step %d (%v, %.1f MB/s): %d lanes, want %d", i, s.at, s.rate, got, s.lanes)
				}
			}
		})
	}
}

// TestWindowGivesEachLaneABatch: with more lanes than the default, the
// window holds a batch for each, and batches shrink to spread over them.
func TestWindowGivesEachLaneABatch(t *testing.T) {
	p := &peerState{minRTT: 50 * time.Millisecond, rate: 15e6}
	base := p.window()
	p.probe.lanes = 24
	if w := p.window(); w < 24*minBatchBytes || w <= base {
		t.Fatalf("window with 24 lanes: %d (default lanes: %d)", w, base)
	}
	if b := p.batchBytes(); b*24 > p.window() && b > minBatchBytes {
		t.Fatalf("batch %d does not spread a window of %d over 24 lanes", b, p.window())
	}
}

// TestWindowsFollowRTT: the transports whose stream windows follow the RTT
// by themselves, by the names go-libp2p gives them in ConnectionState.
func TestWindowsFollowRTT(t *testing.T) {
	for transport, want := range map[string]bool{
		"quic-v1": true, "quic": true, "webtransport": true,
		"tcp": false, "websocket": false, "webrtc": false, "": false,
	} {
		if got := windowsFollowRTT(transport); got != want {
			t.Errorf("windowsFollowRTT(%q) = %v, want %v", transport, got, want)
		}
	}
}
