package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// BenchmarkGroupPlacement forms groups of 10 and 50 in-process members
// (real hosts on 127.0.0.1), shares a file with 3 copies and reports the
// time until 3 members hold it, then stops a holder and reports the time
// until the copy is back, counted from when the grace period ran out (the
// holder's last heartbeat as a survivor saw it, plus grace). Group timings are the
// tests' (heartbeat 100 ms, grace 2 s) at 10 members; at 50, fifty hosts
// share two cores, so heartbeats are every second (the 50-member interval
// of 2 s is capped at a tenth of the grace period) and grace is 10 s.
func BenchmarkGroupPlacement(b *testing.B) {
	for _, size := range []int{10, 50} {
		tm := testTimings
		if size > 10 {
			tm = groupTimings{heartbeat: time.Second, grace: 10 * time.Second, release: 5 * time.Second, sync: 10 * time.Second, gossip: 500 * time.Millisecond}
		}
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				nodes := make([]*Node, size)
				for j := range nodes {
					nodes[j] = groupNodeTimed(b, b.TempDir(), 1<<30, tm)
				}
				formGroup(b, nodes, "family")
				root := addData(b, nodes[0], randomData(1<<20))
				start := time.Now()
				if _, err := nodes[0].GroupShare(context.Background(), "family", root, api.ShareOptions{Copies: 3}); err != nil {
					b.Fatal(err)
				}
				waitFor(b, 3*time.Minute, "3 holders", func() bool { c, _ := countHolders(b, nodes, root); return c == 3 })
				placed := time.Since(start)
				// Let any transient extra copy go before picking a victim.
				time.Sleep(2 * tm.release) // settling pause, not synchronisation
				_, who := countHolders(b, nodes, root)
				victim := who[len(who)-1]
				if victim == 0 {
					victim = who[0]
				}
				victimID := nodes[victim].host.ID()
				nodes[victim].Close()
				nodes[victim] = nil
				// Recovered when a member that did not hold it before does.
				waitFor(b, 3*time.Minute, "a new holder", func() bool {
					_, now := countHolders(b, nodes, root)
					for _, j := range now {
						if !slices.Contains(who, j) {
							return true
						}
					}
					return false
				})
				// The grace period runs from the victim's last heartbeat, up
				// to an interval before it stopped: measure from there.
				detected := time.Now()
				var last time.Time
				groupOf(b, nodes[0], "family").net.Read(func(_ *group.State, l *group.Liveness) { last = l.LastSeen(victimID) })
				recovered := detected.Sub(last) - tm.grace
				b.ReportMetric(placed.Seconds(), "s_to_3_copies")
				b.ReportMetric(recovered.Seconds(), "s_recovery_minus_grace")
				for _, n := range nodes {
					if n != nil {
						n.Close()
					}
				}
			}
		})
	}
}

// BenchmarkGroupIdleTraffic forms groups of 10 and 50 members with the
// default group timings (30 s heartbeats), lets them settle, then measures
// for a minute the bytes each member exchanges on the gossip and sync
// protocols (in + out), and on all protocols.
func BenchmarkGroupIdleTraffic(b *testing.B) {
	for _, size := range []int{10, 50} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				nodes := make([]*Node, size)
				for j := range nodes {
					nodes[j] = newNodeAt(b, b.TempDir(), nil)
				}
				formGroup(b, nodes, "family")
				root := addData(b, nodes[0], randomData(64<<10))
				if _, err := nodes[0].GroupShare(context.Background(), "family", root, api.ShareOptions{Copies: 3}); err != nil {
					b.Fatal(err)
				}
				time.Sleep(45 * time.Second) // settle: joins, syncs and the first heartbeats are not idle traffic
				gossip0, all0 := groupBytes(nodes)
				const window = 60 * time.Second
				time.Sleep(window) // the measurement window, not synchronisation
				gossip1, all1 := groupBytes(nodes)
				per := func(a, b int64) float64 { return float64(b-a) / float64(size) / window.Seconds() }
				b.ReportMetric(per(gossip0, gossip1), "gossip_B/s/member")
				b.ReportMetric(per(all0, all1), "all_B/s/member")
				for _, n := range nodes {
					n.Close()
				}
			}
		})
	}
}

// groupBytes sums, over nodes, bytes in and out on the gossip and sync
// protocols, and on every protocol.
func groupBytes(nodes []*Node) (gossip, all int64) {
	for _, n := range nodes {
		for proto, st := range n.bw.GetBandwidthByProtocol() {
			v := st.TotalIn + st.TotalOut
			all += v
			if p := string(proto); strings.Contains(p, "meshsub") || strings.Contains(p, "floodsub") || strings.HasPrefix(p, "/kith/sync/") {
				gossip += v
			}
		}
	}
	return gossip, all
}
