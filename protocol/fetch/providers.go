package fetch

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// connectTimeout bounds one dial to a provider.
const connectTimeout = 15 * time.Second

// findPeers reads providers once the first missing block is known (a DAG
// that is already complete locally never touches the network), dials each
// new one with bounded concurrency and runs it.
func (r *run) findPeers(ctx context.Context, providers Providers) {
	select {
	case <-r.sched.wantSeen:
	case <-ctx.Done():
		return
	}
	ch := providers.FindProviders(ctx, r.root)
	sem := make(chan struct{}, r.f.connectLimit)
	seen := make(map[peer.ID]bool)
	for {
		var ai peer.AddrInfo
		var ok bool
		select {
		case ai, ok = <-ch:
		case <-ctx.Done():
			return
		}
		if !ok {
			r.sched.sourceExhausted()
			return
		}
		if ai.ID == "" || ai.ID == r.f.h.ID() || seen[ai.ID] {
			continue
		}
		seen[ai.ID] = true
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		r.sched.connectStarted()
		r.wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err := r.f.h.Connect(cctx, ai)
			cancel()
			<-sem
			if p := r.sched.connectEnded(ai.ID, err); p != nil {
				r.runPeer(p)
			}
		})
	}
}
