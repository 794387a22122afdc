package node

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

const (
	// ticketPeerTTL is how long the peers of a ticket someone used are
	// kept connected (and their addresses remembered): long enough for a
	// big download, a pause and a resume.
	ticketPeerTTL = time.Hour
	// ticketDialTimeout bounds the dials to a ticket's peers before the
	// fetch starts (it falls back to the DHT after that).
	ticketDialTimeout = 30 * time.Second
	// maxPeeredMembers caps the group members kept connected through
	// peering: in a big group, keepConnected's few members are enough for
	// gossip, and a laptop should not hold 50 connections open.
	maxPeeredMembers = 16
	// peeringEvery is how often the peering set is brought up to date.
	peeringEvery = 30 * time.Second
)

// shareAddrs sorts this node's advertised addresses by who can use them:
// share (public, confirmed, or relay circuits: a friend on the internet),
// lan (private addresses: someone on the same network) and loopback (this
// machine only).
func (n *Node) shareAddrs() (share, lan, loopback []ma.Multiaddr) {
	for _, a := range n.host.Addrs() {
		switch {
		case isRelayed(a) || manet.IsPublicAddr(a):
			share = append(share, a)
		case manet.IsIPLoopback(a):
			loopback = append(loopback, a)
		default:
			lan = append(lan, a)
		}
	}
	return share, lan, loopback
}

// Ticket is the API's ticket for c, named as c is pinned here (the first
// name among its pins: yours, else a group's).
func (n *Node) Ticket(ctx context.Context, c cid.Cid) (api.TicketInfo, error) {
	share, _, _ := n.shareAddrs()
	name, meta := "", cid.Undef
	if pins, err := n.store.PinsOf(ctx, c); err == nil {
		for _, p := range pins {
			if p.Name != "" && (name == "" || p.Owner == blockstore.OwnerUser) {
				name = p.Name
			}
			if p.Meta.Defined() && (!meta.Defined() || p.Owner == blockstore.OwnerUser) {
				meta = p.Meta
			}
		}
	}
	return api.TicketInfo{Cid: c.String(), Ticket: n.ticket(c, name, meta), Reachable: n.internetReachable(share) > 0}, nil
}

// internetReachable counts the addresses among share through which a
// friend on the internet can be expected to reach this node: relay
// circuits, ports the router forwards here, addresses network.announce_addrs
// names (until AutoNAT v2 finds them false), and public addresses AutoNAT
// v2 dialled back (all of them on a public node). A public address that
// is only an interface's proves nothing yet: a laptop's IPv6 address
// usually sits behind its router's firewall, and a ticket holding it alone
// would send a friend's dial into that firewall, where a relay circuit
// would have led to a hole punch.
func (n *Node) internetReachable(share []ma.Multiaddr) int {
	if n.tracker.Reachability() == network.ReachabilityPublic {
		return len(share)
	}
	count := 0
	forwarded := slices.Concat(n.addrs.ports.Mapped(), n.addrs.ports.Announced())
	for _, a := range share {
		if isRelayed(a) || n.tracker.IsReachable(a) || slices.ContainsFunc(forwarded, a.Equal) && !n.tracker.IsUnreachable(a) {
			count++
		}
	}
	return count
}

// ticket makes a share ticket for c named name: this node and the
// addresses a friend can dial, LAN addresses after internet ones (loopback
// only when there is nothing else, for several daemons on one machine).
// meta, when defined, is the CID of c's modes and times (kept with its
// pin), which the friend's get gives what it writes.
func (n *Node) ticket(c cid.Cid, name string, meta cid.Cid) string {
	share, lan, loopback := n.shareAddrs()
	addrs := append(share, lan...)
	if len(addrs) == 0 {
		addrs = loopback
	}
	return ticket.Ticket{Cid: c, Name: name, Meta: meta, Peers: []peer.AddrInfo{{ID: n.host.ID(), Addrs: addrs}}}.String()
}

// ResolveRef reads what a user pasted: a CID, or a ticket, whose peers it
// connects to before returning the CID (a fetch then finds them connected
// and needs no DHT lookup), either followed by a path into the folder it
// names (CID/a/b, /ipfs/CID/a/b): the CID there is returned, its folders
// read here or fetched from peers. A ticket peer that cannot be dialled is
// only logged: the fetch still looks for providers in the DHT.
func (n *Node) ResolveRef(ctx context.Context, s string) (cid.Cid, error) {
	r, err := n.resolvePath(ctx, s)
	return r.c, err
}

// resolved is a reference read by resolvePath: the content c, at the
// path names inside root (none: c is root); meta, from a ticket, the
// modes and times of root.
type resolved struct {
	root  cid.Cid
	names []string
	c     cid.Cid
	meta  cid.Cid
}

// resolvePath is ResolveRef, with the root and the path it went through.
func (n *Node) resolvePath(ctx context.Context, s string) (resolved, error) {
	ref, names, err := dag.SplitPath(s)
	if err != nil {
		return resolved{}, &api.Error{Kind: api.KindInvalid, Message: err.Error()}
	}
	if name, ok := dag.IsName(ref); ok {
		// What the name points to, and the path under it (names.go).
		var under []string
		if ref, under, err = n.resolveName(ctx, name); err != nil {
			return resolved{}, err
		}
		names = append(under, names...)
	}
	root, meta, err := n.resolveRoot(ctx, ref)
	if err != nil || len(names) == 0 {
		return resolved{root: root, c: root, meta: meta}, err
	}
	rctx, end := n.demandRead(ctx, root)
	c, err := dag.Resolve(rctx, n.demand, root, names)
	end()
	switch {
	case errors.Is(err, dag.ErrNoEntry):
		return resolved{}, fmt.Errorf("%w: %w", err, blockstore.ErrNotFound)
	case errors.Is(err, dag.ErrNotDir), errors.Is(err, dag.ErrIsSymlink):
		return resolved{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	case errors.Is(err, blockstore.ErrNotFound):
		// A folder on the way is not here, and no peer gave it.
		if k, ok := n.keptOffline(ctx, []cid.Cid{root}); ok {
			return resolved{}, &missError{reason: k}
		}
		return resolved{}, fmt.Errorf("resolve %s: %w", short(s), err)
	case err != nil:
		return resolved{}, fmt.Errorf("resolve %s: %w", short(s), err)
	}
	return resolved{root: root, names: names, c: c, meta: meta}, nil
}

// resolveRoot is ResolveRef for a CID or a ticket alone. meta is what a
// ticket carries of the content's modes and times (Undef for a CID).
func (n *Node) resolveRoot(ctx context.Context, s string) (c, meta cid.Cid, err error) {
	if !ticket.IsTicket(s) {
		c, err := cid.Decode(s)
		if err != nil {
			return cid.Undef, cid.Undef, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%q is neither a CID nor a kith ticket", short(s))}
		}
		if err := dag.CheckCID(c); err != nil {
			return cid.Undef, cid.Undef, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s %v", c, err)}
		}
		return c, cid.Undef, nil
	}
	t, err := ticket.Parse(s)
	if err != nil {
		return cid.Undef, cid.Undef, &api.Error{Kind: api.KindInvalid, Message: err.Error()}
	}
	if t.Meta.Defined() && dag.CheckCID(t.Meta) != nil {
		t.Meta = cid.Undef // not one kith wrote: the content is still got
	}
	n.connectTicketPeers(ctx, t.Cid, t.Peers)
	return t.Cid, t.Meta, nil
}

// short cuts a long pasted string for an error message.
func short(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// connectTicketPeers remembers a ticket's peers for an hour (kept
// connected, re-dialled with back-off) and dials them now, in parallel,
// noting for c which could not be dialled and why (ticketMisses).
func (n *Node) connectTicketPeers(ctx context.Context, c cid.Cid, peers []peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(ctx, ticketDialTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, ai := range peers {
		if ai.ID == n.host.ID() {
			continue
		}
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, ticketPeerTTL)
		n.keep.addTicketPeer(ai, time.Now().Add(ticketPeerTTL))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.host.Connect(ctx, ai); err != nil {
				n.log.Info("ticket peer not reachable now; looking in the DHT too", "peer", ai.ID, "err", err)
				n.ticketMisses.failed(c, ai.ID, n.ticketMisses.dialText(ai.ID, err), time.Now())
				return
			}
			n.ticketMisses.reached(c, ai.ID)
			n.awaitDirect(ctx, ai)
		}()
	}
	wg.Wait()
}

// keepSet is what the node keeps connected through boxo's peering service
// (re-dialled with back-off, protected from the connection manager): the
// peers of recently used tickets and up to maxPeeredMembers group members.
type keepSet struct {
	mu      sync.Mutex
	tickets map[peer.ID]ticketPeer
}

type ticketPeer struct {
	ai      peer.AddrInfo
	expires time.Time
}

func (k *keepSet) addTicketPeer(ai peer.AddrInfo, expires time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tickets == nil {
		k.tickets = map[peer.ID]ticketPeer{}
	}
	k.tickets[ai.ID] = ticketPeer{ai: ai, expires: expires}
}

// want returns the ticket peers still wanted at now, dropping the others.
func (k *keepSet) want(now time.Time) []peer.AddrInfo {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []peer.AddrInfo
	for id, tp := range k.tickets {
		if now.After(tp.expires) {
			delete(k.tickets, id)
			continue
		}
		out = append(out, tp.ai)
	}
	return out
}

// peeringLoop keeps the peering service's set equal to what should be
// kept connected.
func (n *Node) peeringLoop(ctx context.Context) {
	t := time.NewTicker(peeringEvery)
	defer t.Stop()
	for {
		n.syncPeering()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) syncPeering() {
	want := map[peer.ID]peer.AddrInfo{}
	for _, ai := range n.keep.want(time.Now()) {
		want[ai.ID] = ai
	}
	for _, ai := range n.peeredMembers() {
		if _, ok := want[ai.ID]; !ok {
			want[ai.ID] = ai
		}
	}
	for _, ai := range n.peering.ListPeers() {
		if _, ok := want[ai.ID]; !ok {
			n.peering.RemovePeer(ai.ID)
		}
	}
	for _, ai := range want {
		n.peering.AddPeer(ai)
	}
}

// peeredMembers picks up to maxPeeredMembers members of this node's
// groups, the same ones every time (ranked by a hash of both peer IDs, so
// different members keep different subsets and the group stays meshed).
func (n *Node) peeredMembers() []peer.AddrInfo {
	if n.groups == nil {
		return nil
	}
	self := n.host.ID()
	byID := map[peer.ID]peer.AddrInfo{}
	for _, g := range n.groups.list() {
		g.net.Read(func(s *group.State, _ *group.Liveness) {
			for _, m := range s.Members() {
				if m.ID == self {
					continue
				}
				ai := peer.AddrInfo{ID: m.ID}
				for _, a := range m.Addrs {
					if p, err := peer.AddrInfoFromString(a); err == nil && p.ID == m.ID {
						ai.Addrs = append(ai.Addrs, p.Addrs...)
					}
				}
				byID[m.ID] = ai
			}
		})
	}
	out := make([]peer.AddrInfo, 0, len(byID))
	for _, ai := range byID {
		out = append(out, ai)
	}
	rank := func(p peer.ID) uint64 {
		h := fnv.New64a()
		h.Write([]byte(self))
		h.Write([]byte(p))
		return h.Sum64()
	}
	sort.Slice(out, func(i, j int) bool { return rank(out[i].ID) < rank(out[j].ID) })
	return out[:min(len(out), maxPeeredMembers)]
}
