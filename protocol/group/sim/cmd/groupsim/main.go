// Command groupsim runs the group replication simulation and prints a table.
//
//	go run ./protocol/group/sim/cmd/groupsim -n 1000,10000
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/protocol/group/sim"
)

func main() {
	sizes := flag.String("n", "1000,10000", "comma-separated group sizes")
	intents := flag.Int("intents", 100, "intents shared in the first minute")
	copies := flag.Int("copies", 3, "copies per intent")
	dur := flag.Duration("duration", 3*time.Hour, "simulated time")
	leave := flag.Float64("leave", 0.02, "fraction of members leaving for good")
	join := flag.Float64("join", 0.02, "fraction of members joining")
	sleep := flag.Float64("sleep", 0.2, "fraction of members sleeping (below the grace period)")
	seed := flag.Uint64("seed", 1, "random seed")
	beatGroup := flag.Int("heartbeat-group-size", group.DefaultConfig().HeartbeatGroupSize,
		"members up to which heartbeats keep the base interval (larger groups beat less often)")
	flag.Parse()

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "members\tconverge max\tplaced\trecovery max\tfetches\treleases\tflaps\tgossip/member/s\theartbeats rx/member/s\tsync msgs/member/s\tevents\twall\t")
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "groupsim: bad size %q\n", f)
			os.Exit(2)
		}
		cfg := sim.DefaultConfig(n)
		cfg.Intents, cfg.Copies, cfg.Duration, cfg.Seed = *intents, *copies, *dur, *seed
		cfg.Leavers, cfg.Joiners, cfg.Sleepers = int(*leave*float64(n)), int(*join*float64(n)), *sleep
		cfg.Group.HeartbeatGroupSize = *beatGroup
		r := sim.Run(cfg)
		fmt.Fprintf(w, "%d\t%v\t%v\t%v\t%d\t%d\t%d\t%.3f\t%.1f\t%.4f\t%d\t%v\t\n", n,
			r.ConvergeMax.Round(time.Second), r.Placed.Round(time.Second), r.RecoveryMax.Round(time.Second),
			r.Fetches, r.Releases, r.Flaps, r.GossipPerMemberSec, r.BeatsPerMemberSec, r.SyncPerMemberSec,
			r.Events, r.Wall.Round(time.Millisecond))
		w.Flush()
	}
}
