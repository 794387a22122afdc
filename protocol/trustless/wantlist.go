package trustless

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/fetch"
)

// Workers is how many requests one wantlist keeps in flight to its
// provider, all on one HTTP/2 connection (Kubo's HTTPRetrieval.NumWorkers).
const Workers = 16

// maxTries is how often a block is asked for of a provider that answers
// busy or with a server error before the provider counts as gone.
const maxTries = 3

// errClosed is Want's error on a wantlist that was closed or is gone.
var errClosed = errors.New("the HTTP provider's wantlist is closed")

// Open starts a wantlist on the provider at base for one fetch: the wants
// are asked Workers at a time, first ones first, and each block, checked
// against its CID, or "not here", goes to r. A provider that cannot be
// reached, sends wrong bytes, or keeps answering with server errors is
// gone (r.Gone), and its open wants with it.
func (c *Client) Open(base *url.URL, r fetch.Replies) fetch.Wantlist {
	ctx, cancel := context.WithCancel(context.Background())
	return &wantlist{c: c, base: base, r: r, ctx: ctx, cancel: cancel, open: map[string]context.CancelFunc{}}
}

// wantlist is one fetch's wants on one HTTP provider.
type wantlist struct {
	c      *Client
	base   *url.URL
	r      fetch.Replies
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	queue   []cid.Cid                     // wants not asked yet, in order
	open    map[string]context.CancelFunc // wants queued or asked, not answered
	workers int
	closed  bool // Close was called, or the provider is gone
}

// Want implements fetch.Wantlist.
func (w *wantlist) Want(cs []cid.Cid) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	for _, c := range cs {
		if _, dup := w.open[c.KeyString()]; dup {
			continue
		}
		w.open[c.KeyString()] = nil
		w.queue = append(w.queue, c)
	}
	for w.workers < Workers && w.workers < len(w.queue) {
		w.workers++
		w.wg.Add(1)
		go w.work()
	}
	return nil
}

// Cancel implements fetch.Wantlist: a queued want is dropped, an asked
// one's request stopped; neither is answered.
func (w *wantlist) Cancel(cs []cid.Cid) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range cs {
		stop, ok := w.open[c.KeyString()]
		if !ok {
			continue
		}
		delete(w.open, c.KeyString())
		if stop != nil {
			stop()
		}
	}
}

// Rewant implements fetch.Wantlist: nothing to do, an HTTP provider does
// not forget a request it is answering.
func (w *wantlist) Rewant() {}

// Close implements fetch.Wantlist: every request is stopped, and Close
// returns once no reply is being passed on.
func (w *wantlist) Close() {
	w.mu.Lock()
	w.closed = true
	w.queue = nil
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}

// next takes the first queued want that is still wanted, with the context
// of its request; ok is false when there is none.
func (w *wantlist) next() (cid.Cid, context.Context, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) > 0 && !w.closed {
		c := w.queue[0]
		w.queue = w.queue[1:]
		if _, ok := w.open[c.KeyString()]; !ok {
			continue // canceled while queued
		}
		ctx, cancel := context.WithCancel(w.ctx)
		w.open[c.KeyString()] = cancel
		return c, ctx, true
	}
	w.workers--
	return cid.Undef, nil, false
}

// answer reports whether c's want is still open and closes it: an
// answer is passed on only then.
func (w *wantlist) answer(c cid.Cid) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	stop, ok := w.open[c.KeyString()]
	if !ok || w.closed {
		return false
	}
	delete(w.open, c.KeyString())
	if stop != nil {
		stop()
	}
	return true
}

// work asks for wants until none is left.
func (w *wantlist) work() {
	defer w.wg.Done()
	for {
		c, ctx, ok := w.next()
		if !ok {
			return
		}
		b, err := w.ask(ctx, c)
		switch {
		case ctx.Err() != nil:
			// Canceled or closed: not answered.
		case err != nil:
			w.gone(err)
			return
		case b.missing:
			if w.answer(c) {
				w.r.DontHave(c)
			}
		default:
			if w.answer(c) {
				w.r.Block(c, b.data)
			}
		}
	}
}

// ask asks for c, again after a busy answer or a server error, up to
// maxTries times.
func (w *wantlist) ask(ctx context.Context, c cid.Cid) (block, error) {
	for try := 1; ; try++ {
		b, err := w.c.fetchBlock(ctx, w.base, c)
		if err == nil || b.retryAfter == 0 || try == maxTries {
			return b, err
		}
		t := time.NewTimer(b.retryAfter)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return block{}, ctx.Err()
		}
	}
}

// gone ends the wantlist after a failure: every request stops and the
// fetch is told once.
func (w *wantlist) gone(err error) {
	w.mu.Lock()
	was := w.closed
	w.closed = true
	w.queue = nil
	w.mu.Unlock()
	w.cancel()
	if !was {
		w.r.Gone(fmt.Errorf("HTTP provider %s: %w", w.base.Host, err))
	}
}
