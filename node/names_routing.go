package node

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/kith-p2p/kith/dht/delegated"
)

// nameRouterGrace is how long a name's lookup goes on asking the DHT once
// a delegated router gave a record: a router answers within a second
// from its own view of the DHT, where the DHT lookup waits for many peers
// (up to a minute); a newer record the DHT finds meanwhile still wins.
const nameRouterGrace = 3 * time.Second

// nameRouting is where IPNS records are looked up and published: the DHT
// and the delegated routers of names.delegated_routers, at once. A lookup
// passes on each record better than the ones before (by ipns.Validator:
// the highest sequence, then the longest validity), and ends when the DHT
// and the routers are done, or nameRouterGrace after a router gave one. A
// publish succeeds when the DHT or a router took the record (one the
// DHT missed is given to it again soon: dhtMissed). Other keys (/pk/) are
// the DHT's alone. It is the name system's routing.ValueStore. A lookup on
// a node that knows no DHT peer yet asks the routers at once and the DHT
// once it has a peer (waitDHT), unless every router answered before.
type nameRouting struct {
	dht     routing.ValueStore
	routers *delegated.Names
	// waitDHT waits (bounded) for a first DHT peer: a lookup asks the
	// routers meanwhile.
	waitDHT func(context.Context)
	// dhtMissed is told of a record a router took and the DHT did not
	// (no DHT peer yet): it is given to the DHT again soon.
	dhtMissed func()
}

var _ routing.ValueStore = nameRouting{}

// PutValue implements routing.ValueStore.
func (r nameRouting) PutValue(ctx context.Context, key string, value []byte, opts ...routing.Option) error {
	name, rec, ok := ipnsKey(key, value)
	if !ok || r.routers.Len() == 0 {
		return r.dht.PutValue(ctx, key, value, opts...)
	}
	routerErr := make(chan error, 1)
	go func() { routerErr <- r.routers.Put(ctx, name, rec) }()
	dhtErr := r.dht.PutValue(ctx, key, value, opts...)
	if err := <-routerErr; err == nil {
		if dhtErr != nil && r.dhtMissed != nil {
			r.dhtMissed()
		}
		return nil
	}
	return dhtErr // nil when the DHT took it; its error says why it did not
}

// GetValue implements routing.ValueStore: the best record SearchValue
// finds.
func (r nameRouting) GetValue(ctx context.Context, key string, opts ...routing.Option) ([]byte, error) {
	ch, err := r.SearchValue(ctx, key, opts...)
	if err != nil {
		return nil, err
	}
	var best []byte
	for v := range ch {
		best = v
	}
	if best == nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, routing.ErrNotFound
	}
	return best, nil
}

// SearchValue implements routing.ValueStore.
func (r nameRouting) SearchValue(ctx context.Context, key string, opts ...routing.Option) (<-chan []byte, error) {
	name, _, ok := ipnsKey(key, nil)
	if !ok || r.routers.Len() == 0 {
		return r.dht.SearchValue(ctx, key, opts...)
	}
	ctx, cancel := context.WithCancel(ctx)
	fromRouters := r.routers.Get(ctx, name)
	fromDHT := make(chan []byte)
	var searching atomic.Bool // the DHT has a peer to ask, and is asked
	go func() {
		defer close(fromDHT)
		if r.waitDHT != nil {
			r.waitDHT(ctx)
		}
		searching.Store(true)
		ch, err := r.dht.SearchValue(ctx, key, opts...)
		if err != nil {
			return // the routers may still answer
		}
		for v := range ch {
			select {
			case fromDHT <- v:
			case <-ctx.Done():
				for range ch { // the DHT ends its search with ctx
				}
				return
			}
		}
	}()
	out := make(chan []byte)
	go func() {
		defer close(out)
		defer func() {
			cancel()
			for range fromDHT {
			}
		}()
		var best []byte
		var grace <-chan time.Time
		dht := fromDHT
		for dht != nil || fromRouters != nil {
			var v []byte
			var ok, router bool
			select {
			case v, ok = <-dht:
				if !ok {
					dht = nil
					continue
				}
			case v, ok = <-fromRouters:
				if !ok {
					fromRouters = nil
					if !searching.Load() {
						// Every router answered while this node has
						// no DHT peer to ask yet: what they said is
						// the answer (they read the DHT themselves).
						return
					}
					continue
				}
				router = true
			case <-grace:
				return
			case <-ctx.Done():
				return
			}
			if !better(key, best, v) {
				continue
			}
			best = v
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
			if router && grace == nil {
				grace = time.After(nameRouterGrace)
			}
		}
	}()
	return out, nil
}

// better reports whether v is a valid record for key and better than
// best (nil: none yet).
func better(key string, best, v []byte) bool {
	var val ipns.Validator
	if val.Validate(key, v) != nil {
		return false
	}
	if best == nil {
		return true
	}
	i, err := val.Select(key, [][]byte{best, v})
	return err == nil && i == 1
}

// ipnsKey reads an IPNS routing key (/ipns/...) and, when value is given,
// the record in it; ok is false for another key or a record that does
// not parse.
func ipnsKey(key string, value []byte) (ipns.Name, *ipns.Record, bool) {
	if !strings.HasPrefix(key, "/ipns/") {
		return ipns.Name{}, nil, false
	}
	name, err := ipns.NameFromRoutingKey([]byte(key))
	if err != nil {
		return ipns.Name{}, nil, false
	}
	if value == nil {
		return name, nil, true
	}
	rec, err := ipns.UnmarshalRecord(value)
	if err != nil {
		return ipns.Name{}, nil, false
	}
	return name, rec, true
}
