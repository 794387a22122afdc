package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// readPatience has an on-demand read (kith cat) whose peers went away in
// the middle (a laptop closed, Wi-Fi lost) wait for a peer that has the
// rest, as a get does (fetchPatiently), rather than fail 30 s after the
// last block: once a peer gave it a block, a block nobody has is asked for
// again when a peer connects, or after a pause (doubling up to
// waitRetryMax), for up to wait since the last block the read got. A read
// no peer gave anything (a block of this repo lost, and nobody else ever
// had it) fails as before.
type readPatience struct {
	wait time.Duration
	// next returns a channel closed when a peer next connects (or ctx
	// ends).
	next func(ctx context.Context) <-chan struct{}
	// waiting, when set, is told the read waits, until when (logged).
	waiting func(until time.Time)

	mu    sync.Mutex
	armed bool      // a peer gave the read a block
	last  time.Time // the last block the read got since
	pause time.Duration
	said  bool // waiting was told since the last block
}

type patienceKey struct{}

// withReadPatience has the reads under ctx wait so (nil next: never).
func withReadPatience(ctx context.Context, p *readPatience) context.Context {
	p.last, p.pause = time.Now(), waitRetryFirst
	return context.WithValue(ctx, patienceKey{}, p)
}

// patienceFrom returns ctx's patience, nil when its reads have none.
func patienceFrom(ctx context.Context) *readPatience {
	p, _ := ctx.Value(patienceKey{}).(*readPatience)
	return p
}

// got notes that the read got a block, from a peer (fetched) or from the
// repo.
func (p *readPatience) got(fetched bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.armed = p.armed || fetched
	p.last, p.pause, p.said = time.Now(), waitRetryFirst, false
	p.mu.Unlock()
}

// again waits, after a block nobody had, for a peer to connect or the
// pause to pass, and reports whether to ask again: false once wait has
// passed since the last block, or ctx ended.
func (p *readPatience) again(ctx context.Context) bool {
	if p == nil || p.next == nil {
		return false
	}
	p.mu.Lock()
	if !p.armed {
		p.mu.Unlock()
		return false
	}
	until := p.last.Add(p.wait)
	pause := min(p.pause, time.Until(until))
	p.pause = min(2*p.pause, waitRetryMax)
	tell := !p.said && p.waiting != nil
	p.said = true
	p.mu.Unlock()
	if pause <= 0 || ctx.Err() != nil {
		return false
	}
	if tell {
		p.waiting(until)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-p.next(wctx):
	case <-t.C:
	}
	return true
}

// readPatience is the patience of one read (what: "cat CID", "gateway"), for
// n.dropWait, logged when it waits.
func (n *Node) readPatience(what string) *readPatience {
	return &readPatience{wait: n.dropWait, next: n.nextConnection, waiting: func(until time.Time) {
		n.log.Info(what+": no peer that has the rest is reachable; waiting for one", "until", until.Format(time.RFC3339))
	}}
}

// nextConnection returns a channel closed when a peer next connects to
// n, or ctx ends.
func (n *Node) nextConnection(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	fire := func() { once.Do(func() { close(ch) }) }
	nb := &network.NotifyBundle{ConnectedF: func(network.Network, network.Conn) { fire() }}
	n.host.Network().Notify(nb)
	context.AfterFunc(ctx, func() {
		n.host.Network().StopNotify(nb)
		fire()
	})
	return ch
}
