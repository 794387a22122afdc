package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

const (
	// defaultDropWait is how long a get or pin add whose peers went away in the
	// middle of the transfer (a laptop closed, a daemon restarted, Wi-Fi
	// lost) waits for a peer that has the rest before it fails, counted
	// from the last block that came. BitTorrent and Kubo wait for ever;
	// iroh and croc fail at once, and the user starts again.
	defaultDropWait = 10 * time.Minute
	// jobDropWait is the same for the web UI's background fetches, which
	// nobody watches in a terminal: as long as a resumed job waits.
	jobDropWait = resumeWait
	// waitRetryFirst is the first pause between tries while waiting; it
	// doubles up to waitRetryMax. A new connection ends a pause at once (a
	// ticket's peers are re-dialled with back-off meanwhile), and a
	// provider found in the DHT needs no new connection.
	waitRetryFirst = 2 * time.Second
	waitRetryMax   = time.Minute
)

// patience says how long a fetch waits for a peer that has what is
// missing.
type patience struct {
	// wait bounds the wait, from the last block fetched (or from the
	// start, when none came).
	wait time.Duration
	// fromStart waits also when no peer had anything yet (a job resumed
	// after a restart, while the network is only starting); else a fetch
	// nobody could serve at all fails at once, explained.
	fromStart bool
	// within, when defined, is the root that what is fetched is part of
	// (a get of a path inside a folder): a group may share that root, and
	// the explanation of a failure names the members that keep it.
	within cid.Cid
}

// fetchTry is one attempt at making what a fetch needs present (it may
// fetch only part of a DAG: a get's --exclude). It reports to progress and
// returns what it fetched, also when it fails; its error, when nobody has
// what is missing, wraps blockstore.ErrNotFound, unexplained.
type fetchTry func(progress func(api.Progress)) (api.FetchStats, error)

// fetchPatiently runs try under a pin lock and, while no peer has what is
// missing but some peer had part of it, tries again: when a peer connects,
// or after a pause, for up to pt.wait since the last block came. Meanwhile
// the lock is let go (a gc does not wait for a peer to come back) and root
// is held, so gc keeps what was fetched. progress sees one transfer: Have
// stays what was here when it started, Count goes on, and a "waiting"
// event (Until: when it gives up) says it waits.
//
// On success the pin lock is still held (unlock releases it: the caller
// pins, or writes, first); on failure it is released and unlock does
// nothing. The error of a fetch nobody could serve is a *missError.
func (n *Node) fetchPatiently(ctx context.Context, root cid.Cid, pt patience, progress func(api.Progress), try fetchTry) (st api.FetchStats, unlock func(), err error) {
	defer n.gcl.Hold(root)()
	connected := make(chan struct{}, 1)
	nb := &network.NotifyBundle{ConnectedF: func(network.Network, network.Conn) {
		select {
		case connected <- struct{}{}:
		default:
		}
	}}
	n.host.Network().Notify(nb)
	defer n.host.Network().StopNotify(nb)

	start := time.Now()
	since := start // of the wait: the last block fetched, or the start
	var last api.Progress
	var have int64  // what was here before the first try (its fetch finds it as it walks)
	var count int64 // blocks fetched by the tries before this one
	pause := waitRetryFirst
	for tries := 0; ; tries++ {
		unlock := n.gcl.PinLock()
		got, err := try(func(p api.Progress) {
			if p.Phase == "fetch" {
				if tries == 0 {
					have = p.Have
				} else {
					p.Have = min(have, p.Bytes) // the rest was fetched by the tries before
				}
				p.Count += count
				last = p
			}
			report(progress, p)
		})
		st = addFetchStats(st, got)
		count = int64(st.Blocks)
		if err == nil {
			st.Seconds = time.Since(start).Seconds()
			return st, unlock, nil
		}
		unlock()
		if !errors.Is(err, blockstore.ErrNotFound) || ctx.Err() != nil {
			return st, func() {}, err
		}
		if got.Blocks > 0 {
			since, pause = time.Now(), waitRetryFirst
		}
		until := since.Add(pt.wait)
		switch {
		case st.Blocks == 0 && !pt.fromStart:
			return st, func() {}, &missError{reason: n.explainMiss(ctx, root, pt.within)}
		case !time.Now().Before(until) && st.Blocks == 0:
			return st, func() {}, &missError{reason: n.explainMiss(ctx, root, pt.within)}
		case !time.Now().Before(until):
			n.log.Info("fetch: no peer that has the rest came back; giving up", "cid", root, "here", last.Bytes, "total", last.Total, "waited", pt.wait)
			return st, func() {}, &missError{reason: wentAway(last, pt.wait)}
		}
		if got.Blocks > 0 || tries == 0 {
			n.log.Info("fetch: no peer that has the rest is reachable; waiting for one", "cid", root, "here", last.Bytes, "total", last.Total, "until", until.Format(time.RFC3339))
		}
		report(progress, api.Progress{Phase: "waiting", Bytes: last.Bytes, Total: last.Total, Count: count, Have: last.Have, Until: until})
		timer := time.NewTimer(min(pause, time.Until(until)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return st, func() {}, fmt.Errorf("fetch %s: %w", root, ctx.Err())
		case <-connected:
		case <-timer.C:
		}
		timer.Stop()
		pause = min(2*pause, waitRetryMax)
	}
}

// wentAway explains a fetch whose peers went away and none that has the
// rest came back in time.
func wentAway(last api.Progress, wait time.Duration) missReason {
	here := humanize.IBytes(uint64(max(last.Bytes, 0)))
	if last.Total > 0 {
		here += " of " + humanize.IBytes(uint64(last.Total))
	}
	return missReason{
		text: fmt.Sprintf("The peers it was fetching from went away, and none that has the rest came back within %s: %s is here.", waitText(wait), here),
		fix:  "Run the same command again once the sharer is online: only the rest is fetched.",
	}
}

// waitText says a wait in words: "10 minutes", "1 hour".
func waitText(d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		n, unit = int(d/time.Hour), "hour"
	case d < time.Minute || d%time.Minute != 0:
		return d.String()
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
