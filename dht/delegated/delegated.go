// Package delegated asks HTTP delegated routers, over the Delegated
// Routing V1 HTTP API (IPIP-337) that Kubo asks beside the DHT: Routers
// who provides a CID (IPNI's indexers serve it at https://cid.contact;
// large providers, pinning services and storage providers, announce to
// an indexer rather than the DHT, so content found nowhere in the DHT is
// found there), and Names for IPNS records, both ways (names.go).
//
// Only providers that serve over the protocols the caller names are asked
// for (IPIP-484's filter: "transport-bitswap", "unknown" for providers
// that say nothing of how they serve, "transport-ipfs-gateway-http" for
// HTTP providers). The routers are asked with boxo's client, all at once,
// each lookup bounded by Timeout.
package delegated

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/boxo/routing/http/client"
	"github.com/ipfs/boxo/routing/http/types"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Timeout bounds one router's answer to one lookup: an indexer answers in
// well under a second, and a router that does not answer (offline, down)
// must not hold a fetch's search for providers open.
const Timeout = 15 * time.Second

// Routers are the delegated routers a node asks. The zero value and nil
// ask none. A Routers is safe for concurrent use.
type Routers struct {
	routers []*router
}

type router struct {
	url string
	c   *client.Client

	mu     sync.Mutex
	answer time.Time // the last lookup it answered (found something or not)
	failed time.Time // the last lookup it failed
	err    error     // why, then
}

// Status is what a router did lately.
type Status struct {
	URL string
	// Answered is when it last answered a lookup, Failed when it last
	// failed one, and Err why (zero, nil: not yet).
	Answered, Failed time.Time
	Err              error
}

// Status says what each router did lately, in the order of New's urls.
func (r *Routers) Status() []Status {
	if r == nil {
		return nil
	}
	out := make([]Status, 0, len(r.routers))
	for _, rt := range r.routers {
		rt.mu.Lock()
		out = append(out, Status{URL: rt.url, Answered: rt.answer, Failed: rt.failed, Err: rt.err})
		rt.mu.Unlock()
	}
	return out
}

// Check says whether s is a router's URL as New takes it: http or https,
// with a host (a path, such as /routing/v1, may follow).
func Check(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not the URL of a delegated router (https://HOST, as https://cid.contact)", s)
	}
	return nil
}

// Bitswap and HTTP name the protocols of providers kith fetches from:
// Bitswap (and "unknown"), and the Trustless Gateway protocol of HTTP
// providers.
var (
	Bitswap = []string{"transport-bitswap", "unknown"}
	HTTP    = []string{"transport-ipfs-gateway-http"}
)

// New returns the routers at urls, each asked with the User-Agent ua for
// providers over the protocols named (Bitswap, HTTP).
func New(urls []string, ua string, protocols []string) (*Routers, error) {
	r := &Routers{}
	for _, s := range urls {
		if err := Check(s); err != nil {
			return nil, err
		}
		c, err := client.New(s, client.WithUserAgent(ua), client.WithStreamResultsRequired(),
			client.WithProtocolFilter(slices.Clone(protocols)))
		if err != nil {
			return nil, fmt.Errorf("delegated router %s: %w", s, err)
		}
		r.routers = append(r.routers, &router{url: s, c: c})
	}
	return r, nil
}

// Len is how many routers r asks.
func (r *Routers) Len() int {
	if r == nil {
		return 0
	}
	return len(r.routers)
}

// FindProviders asks every router at once who provides c and streams the
// providers as they come, each peer once (a provider whose record names
// no address is sent without one: the caller finds where it is). The
// channel is closed when every router has answered, failed or timed out,
// or ctx is done; the caller reads it to the end or cancels ctx. How each
// router did is in Status.
func (r *Routers) FindProviders(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	if r.Len() == 0 || !c.Defined() {
		close(out)
		return out
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[peer.ID]bool{}
	)
	first := func(id peer.ID) bool {
		mu.Lock()
		defer mu.Unlock()
		if seen[id] {
			return false
		}
		seen[id] = true
		return true
	}
	for _, rt := range r.routers {
		wg.Go(func() {
			err := rt.find(ctx, c, func(ai peer.AddrInfo) bool {
				if !first(ai.ID) {
					return true
				}
				select {
				case out <- ai:
					return true
				case <-ctx.Done():
					return false
				}
			})
			if ctx.Err() != nil {
				return // the caller stopped asking: the router's answer is unknown
			}
			rt.note(err)
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// find streams one router's providers of c to send until it returns
// false.
func (rt *router) find(ctx context.Context, c cid.Cid, send func(peer.AddrInfo) bool) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	it, err := rt.c.FindProviders(ctx, c)
	if err = unwrapURL(err); err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		res := it.Val()
		if res.Err != nil {
			continue // one record it could not read: the others may do
		}
		ai, ok := addrInfo(res.Val)
		if ok && !send(ai) {
			return nil
		}
	}
	return nil
}

// addrInfo reads a provider record; ok is false for a record of another
// kind or with no peer ID.
func addrInfo(rec types.Record) (peer.AddrInfo, bool) {
	var id *peer.ID
	var addrs []types.Multiaddr
	switch v := rec.(type) {
	case *types.PeerRecord:
		id, addrs = v.ID, v.Addrs
	case *types.BitswapRecord: //nolint:staticcheck // older routers still send it
		id, addrs = v.ID, v.Addrs
	}
	if id == nil || *id == "" {
		return peer.AddrInfo{}, false
	}
	ai := peer.AddrInfo{ID: *id}
	for _, a := range addrs {
		if a.Multiaddr != nil {
			ai.Addrs = append(ai.Addrs, a.Multiaddr)
		}
	}
	return ai, true
}
