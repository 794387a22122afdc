package dht

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// FindProviders looks up providers of c and streams them as they are found,
// at most max of them (max <= 0: no limit, the lookup runs to completion).
// The channel is closed when the lookup ends, ctx is done, or the DHT is
// closed; it is closed immediately for an undefined CID or after Close.
//
// Each provider is sent once. This node is never sent, even when it provides
// c itself. A provider whose record carries no addresses gets them from the
// local peerstore or, failing that, from a FindPeer lookup; if that fails too
// it is sent without addresses.
//
// The caller must read the channel until it is closed or cancel ctx;
// otherwise the lookup's goroutines stay blocked.
func (d *DHT) FindProviders(ctx context.Context, c cid.Cid, max int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	if d.closed() || !c.Defined() {
		close(out)
		return out
	}
	// Ask kad-dht for one more than wanted: it counts this node among the
	// providers it returns, and we drop it.
	count := 0
	if max > 0 {
		count = max + 1
	}
	lookupCtx, cancel := context.WithCancel(ctx)
	in := d.router.FindProvidersAsync(lookupCtx, c, count)
	go func() {
		defer close(out)
		defer func() {
			// Stop the lookup and wait for kad-dht's goroutine to close
			// its channel, so nothing outlives this one.
			cancel()
			for range in {
			}
		}()
		seen := make(map[peer.ID]struct{})
		sent := 0
		for {
			var ai peer.AddrInfo
			var ok bool
			select {
			case ai, ok = <-in:
			case <-d.closing:
				return
			}
			if !ok {
				return
			}
			if ai.ID == d.host.ID() {
				continue
			}
			if _, dup := seen[ai.ID]; dup {
				continue
			}
			seen[ai.ID] = struct{}{}
			if len(ai.Addrs) == 0 {
				ai = d.resolveAddrs(lookupCtx, ai.ID)
			}
			select {
			case out <- ai:
			case <-ctx.Done():
				return
			case <-d.closing:
				return
			}
			sent++
			if max > 0 && sent >= max {
				return
			}
		}
	}()
	return out
}

// resolveAddrs finds addresses for a provider whose record had none.
func (d *DHT) resolveAddrs(ctx context.Context, id peer.ID) peer.AddrInfo {
	if addrs := d.host.Peerstore().Addrs(id); len(addrs) > 0 {
		return peer.AddrInfo{ID: id, Addrs: addrs}
	}
	if ai, err := d.router.FindPeer(ctx, id); err == nil {
		return ai
	}
	return peer.AddrInfo{ID: id}
}

// FindPeer returns the addresses of peer id: those of a live connection if
// there is one, otherwise the result of a DHT lookup. It fails with an error
// wrapping routing.ErrNotFound when no peer on the lookup path knows id.
// For this node's own ID it returns the host's addresses.
func (d *DHT) FindPeer(ctx context.Context, id peer.ID) (peer.AddrInfo, error) {
	if d.closed() {
		return peer.AddrInfo{}, fmt.Errorf("dht: find peer %s: %w", id, ErrClosed)
	}
	if id == d.host.ID() {
		return peer.AddrInfo{ID: id, Addrs: d.host.Addrs()}, nil
	}
	ai, err := d.router.FindPeer(ctx, id)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("dht: find peer %s: %w", id, err)
	}
	return ai, nil
}

// Forget drops id from the routing tables, so that the next lookup of it
// asks other peers where it is instead of dialling what this node knew
// (kad-dht counts a peer it fails to dial as not found, even when a peer
// it asked next knows where it is now).
func (d *DHT) Forget(id peer.ID) {
	d.wan.RoutingTable().RemovePeer(id)
	if d.lan != nil {
		d.lan.RoutingTable().RemovePeer(id)
	}
}
