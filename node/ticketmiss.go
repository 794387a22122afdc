package node

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// ticketMisses remembers, per content and for as long as a ticket's peers
// are kept (ticketPeerTTL), which of a ticket's peers could not be dialled
// and why. A fetch that then finds nobody says that first (explainMiss):
// the person holds a ticket that names who has the content, and "no
// providers" would not tell them that this peer is the one to check.
type ticketMisses struct {
	mu sync.Mutex
	m  map[cid.Cid]ticketMiss
	// causes keeps, per peer and address, why its last real dial failed:
	// a dial soon after is refused by the swarm's back-off ("dial
	// backoff"), which says nothing of why the peer cannot be reached.
	causes map[peer.ID]map[string]error
}

type ticketMiss struct {
	why map[peer.ID]string // peer -> why the dial failed
	at  time.Time
}

// maxTicketMisses bounds the contents remembered; the oldest goes first.
const maxTicketMisses = 64

// failed records that p, named by a ticket for c, could not be dialled.
func (t *ticketMisses) failed(c cid.Cid, p peer.ID, why string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[cid.Cid]ticketMiss{}
	}
	tm, ok := t.m[c]
	if !ok {
		if len(t.m) >= maxTicketMisses {
			t.dropOldestLocked()
		}
		tm = ticketMiss{why: map[peer.ID]string{}}
	}
	tm.why[p] = why
	tm.at = now
	t.m[c] = tm
}

// dialText is dialReason of err, a failed dial of p, where an address
// refused by back-off is said with why its last real dial failed.
func (t *ticketMisses) dialText(p peer.ID, err error) string {
	var de *swarm.DialError
	if !errors.As(err, &de) {
		return dialReason(err)
	}
	cp := *de
	cp.DialErrors = slices.Clone(de.DialErrors)
	t.mu.Lock()
	if t.causes == nil {
		t.causes = map[peer.ID]map[string]error{}
	}
	known := t.causes[p]
	for i, te := range cp.DialErrors {
		addr := te.Address.String()
		switch {
		case !errors.Is(te.Cause, swarm.ErrDialBackoff):
			if known == nil {
				if len(t.causes) >= maxTicketMisses {
					clear(t.causes) // a bound, rarely met: tickets name few peers
				}
				known = map[string]error{}
				t.causes[p] = known
			}
			known[addr] = te.Cause
		case known[addr] != nil:
			cp.DialErrors[i].Cause = known[addr]
		}
	}
	t.mu.Unlock()
	return dialReason(&cp)
}

// reached forgets an earlier failure of p for c.
func (t *ticketMisses) reached(c cid.Cid, p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tm, ok := t.m[c]; ok {
		delete(tm.why, p)
		if len(tm.why) == 0 {
			delete(t.m, c)
		}
	}
}

// unreached returns the ticket peers of c whose dial failed within
// ticketPeerTTL of now and that connected returns false for, with why.
func (t *ticketMisses) unreached(c cid.Cid, now time.Time, connected func(peer.ID) bool) map[peer.ID]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tm, ok := t.m[c]
	if !ok || now.Sub(tm.at) > ticketPeerTTL {
		return nil
	}
	out := map[peer.ID]string{}
	for p, why := range tm.why {
		if !connected(p) {
			out[p] = why
		}
	}
	return out
}

func (t *ticketMisses) dropOldestLocked() {
	var oldest cid.Cid
	var at time.Time
	for c, tm := range t.m {
		if at.IsZero() || tm.at.Before(at) {
			oldest, at = c, tm.at
		}
	}
	delete(t.m, oldest)
}

// ticketMissText says which of a ticket's sharers could not be reached.
func ticketMissText(why map[peer.ID]string) string {
	ids := make([]peer.ID, 0, len(why))
	for p := range why {
		ids = append(ids, p)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) == 1 {
		return fmt.Sprintf("The ticket's sharer (%s) could not be reached: %s.", shortID(ids[0]), why[ids[0]])
	}
	parts := make([]string, len(ids))
	for i, p := range ids {
		parts[i] = fmt.Sprintf("%s: %s", shortID(p), why[p])
	}
	return fmt.Sprintf("None of the ticket's %d sharers could be reached (%s).", len(ids), strings.Join(parts, "; "))
}
