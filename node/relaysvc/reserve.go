package relaysvc

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	// renewBefore renews a reservation this long before it expires.
	renewBefore = 10 * time.Minute
	// reserveTimeout bounds one reservation request.
	reserveTimeout = 20 * time.Second
	// protectTag keeps the connection to a relay we hold a reservation on:
	// the relay drops the reservation when the connection closes.
	protectTag = "kith-group-relay"
)

var circuit = ma.StringCast("/p2p-circuit")

// Reservations holds reservations on group members' relays for a node
// that is not reachable itself. Autorelay picks its relays among strangers
// and gets limited circuits; these are the unlimited ones group transfers
// need, kept for as long as the member relays.
type Reservations struct {
	h host.Host

	mu   sync.Mutex
	held map[peer.ID]*client.Reservation
}

// NewReservations returns an empty set for h.
func NewReservations(h host.Host) *Reservations {
	return &Reservations{h: h, held: map[peer.ID]*client.Reservation{}}
}

// Refresh makes the held set match relays: it reserves on relays it holds
// nothing on, renews reservations that expire soon, and releases the rest.
// Relays that refuse are skipped until the next call.
func (r *Reservations) Refresh(ctx context.Context, relays []peer.AddrInfo) {
	want := map[peer.ID]bool{}
	for _, ai := range relays {
		want[ai.ID] = true
	}
	r.mu.Lock()
	for p := range r.held {
		if !want[p] {
			delete(r.held, p)
			r.h.ConnManager().Unprotect(p, protectTag)
		}
	}
	var todo []peer.AddrInfo
	for _, ai := range relays {
		if rsvp, ok := r.held[ai.ID]; !ok || time.Until(rsvp.Expiration) < renewBefore {
			todo = append(todo, ai)
		}
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, ai := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, reserveTimeout)
			defer cancel()
			rsvp, err := client.Reserve(cctx, r.h, ai)
			r.mu.Lock()
			defer r.mu.Unlock()
			if err != nil {
				delete(r.held, ai.ID)
				return
			}
			r.held[ai.ID] = rsvp
			r.h.ConnManager().Protect(ai.ID, protectTag)
		}()
	}
	wg.Wait()
}

// Drop forgets every reservation (the node became public, or its network
// changed and they are gone anyway).
func (r *Reservations) Drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.held {
		r.h.ConnManager().Unprotect(p, protectTag)
	}
	clear(r.held)
}

// Addrs returns the circuit addresses peers can dial to reach this node
// through the relays it holds reservations on. A reservation whose relay
// is no longer connected is left out: the relay has dropped it.
func (r *Reservations) Addrs() []ma.Multiaddr {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ma.Multiaddr
	for p, rsvp := range r.held {
		if time.Now().After(rsvp.Expiration) || len(r.h.Network().ConnsToPeer(p)) == 0 {
			continue
		}
		for _, a := range rsvp.Addrs {
			out = append(out, a.Encapsulate(circuit))
		}
	}
	slices.SortFunc(out, ma.Multiaddr.Compare)
	return out
}

// Relays lists the relays this node holds a reservation on.
func (r *Reservations) Relays() []peer.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []peer.ID
	for p := range r.held {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
