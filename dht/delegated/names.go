package delegated

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/routing/http/client"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Names are delegated routers asked for IPNS records, and given the
// records this node publishes (GET and PUT /routing/v1/ipns/NAME): what
// Kubo asks https://delegated-ipfs.dev for, which answers from its own
// view of the DHT within a second, where a DHT lookup of a name waits for
// enough peers to answer. The zero value and nil ask none.
type Names struct {
	routers []*router
}

// NewNames returns the name routers at urls, each asked with the
// User-Agent ua.
func NewNames(urls []string, ua string) (*Names, error) {
	n := &Names{}
	for _, s := range urls {
		if err := Check(s); err != nil {
			return nil, err
		}
		c, err := client.New(s, client.WithUserAgent(ua))
		if err != nil {
			return nil, fmt.Errorf("delegated router %s: %w", s, err)
		}
		n.routers = append(n.routers, &router{url: s, c: c})
	}
	return n, nil
}

// Len is how many routers n asks.
func (n *Names) Len() int {
	if n == nil {
		return 0
	}
	return len(n.routers)
}

// Status says what each router did lately, in the order of NewNames'
// urls.
func (n *Names) Status() []Status {
	if n == nil {
		return nil
	}
	return (&Routers{routers: n.routers}).Status()
}

// AnsweredSince reports whether a router answered a request (a record
// or "none") since t.
func (n *Names) AnsweredSince(t time.Time) bool {
	for _, s := range n.Status() {
		if s.Answered.After(t) {
			return true
		}
	}
	return false
}

// Get asks every router at once for name's record and sends each one a
// router has (boxo's client checks it against the name), marshalled. The
// channel is closed when every router has answered, failed or timed out
// (Timeout), or ctx is done; the caller reads it to the end or cancels
// ctx.
func (n *Names) Get(ctx context.Context, name ipns.Name) <-chan []byte {
	out := make(chan []byte)
	var wg sync.WaitGroup
	for _, rt := range n.routers {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			rec, err := rt.c.GetIPNS(rctx, name)
			var raw []byte
			if err == nil {
				raw, err = ipns.MarshalRecord(rec)
			}
			if errors.Is(err, routing.ErrNotFound) {
				err = nil // an answer: it has none
			}
			if ctx.Err() != nil {
				return
			}
			rt.note(unwrapURL(err))
			if raw == nil {
				return
			}
			select {
			case out <- raw:
			case <-ctx.Done():
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// Put gives every router rec, the record of name, at once; it fails only
// when none took it (with the first router's error).
func (n *Names) Put(ctx context.Context, name ipns.Name, rec *ipns.Record) error {
	errs := make([]error, len(n.routers))
	var wg sync.WaitGroup
	for i, rt := range n.routers {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			err := unwrapURL(rt.c.PutIPNS(rctx, name, rec))
			if ctx.Err() == nil {
				rt.note(err)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	if len(errs) == 0 {
		return routing.ErrNotSupported
	}
	return fmt.Errorf("delegated router %s: %w", n.routers[0].url, errs[0])
}

// note records how a request to rt went.
func (rt *router) note(err error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err != nil {
		rt.failed, rt.err = time.Now(), err
	} else {
		rt.answer = time.Now()
	}
}

// unwrapURL drops a request error's URL: the router's says as much.
func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
