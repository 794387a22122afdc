package node

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/protocol/trustless"
)

// startRouters sets up the delegated routers (dht.delegated_routers), the
// HTTP providers they may name (fetch.http_providers), and where names are
// looked up and published (the DHT and names.delegated_routers).
func (n *Node) startRouters() error {
	protocols := delegated.Bitswap
	if n.cfg.Fetch.HTTPProviders {
		protocols = append(slices.Clone(protocols), delegated.HTTP...)
		var o trustless.Options
		if n.cfg.Fetch.httpTrust != nil {
			o = *n.cfg.Fetch.httpTrust
		}
		o.UserAgent = "kith/" + BuildVersion()
		n.httpProviders = newHTTPProviders(o)
	}
	var err error
	if n.delegated, err = delegated.New(n.cfg.DHT.DelegatedRouters, "kith/"+BuildVersion(), protocols); err != nil {
		return fmt.Errorf("config dht.delegated_routers: %w", err)
	}
	names, err := delegated.NewNames(n.cfg.Names.DelegatedRouters, "kith/"+BuildVersion())
	if err != nil {
		return fmt.Errorf("config names.delegated_routers: %w", err)
	}
	n.nameStore = nameRouting{dht: n.dht.Routing(), routers: names, waitDHT: n.awaitDHTPeer, dhtMissed: func() {
		select {
		case n.republishSoon <- struct{}{}:
		default:
		}
	}}
	return nil
}

// findPeerWait bounds the DHT lookup of a provider that a delegated
// router named without an address.
const findPeerWait = 15 * time.Second

// findProviders asks the DHT and the delegated routers
// (dht.delegated_routers) at once who provides c, and streams each
// provider once, as it is found, at most max of them (<= 0: no limit);
// this node is never sent. A provider a router names without an address
// is looked up in the peerstore, then in the DHT. The channel closes when
// every source is done or ctx is; the caller reads it to the end or
// cancels ctx.
func (n *Node) findProviders(ctx context.Context, c cid.Cid, max int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	ctx, cancel := context.WithCancel(ctx)
	fromDHT := n.dht.FindProviders(ctx, c, max)
	fromRouters := n.delegated.FindProviders(ctx, c) // how each did: kith doctor
	go func() {
		defer close(out)
		dhtCh, routerCh := fromDHT, fromRouters
		defer func() {
			// Stop both lookups and wait for their channels to close, so
			// nothing outlives this one.
			cancel()
			for range dhtCh {
			}
			for range routerCh {
			}
		}()
		seen := map[peer.ID]bool{n.host.ID(): true}
		sent := 0
		for fromDHT != nil || fromRouters != nil {
			var ai peer.AddrInfo
			var ok bool
			select {
			case ai, ok = <-fromDHT:
				if !ok {
					fromDHT = nil
					continue
				}
			case ai, ok = <-fromRouters:
				if !ok {
					fromRouters = nil
					continue
				}
				if len(ai.Addrs) == 0 && !seen[ai.ID] {
					ai = n.whereIs(ctx, ai.ID)
				}
			case <-ctx.Done():
				return
			}
			if seen[ai.ID] {
				continue
			}
			seen[ai.ID] = true
			select {
			case out <- ai:
			case <-ctx.Done():
				return
			}
			if sent++; max > 0 && sent >= max {
				return
			}
		}
	}()
	return out
}

// whereIs finds the addresses of a provider named without them: those
// the node knows, else the DHT's (within findPeerWait); none if neither
// knows.
func (n *Node) whereIs(ctx context.Context, id peer.ID) peer.AddrInfo {
	if addrs := n.host.Peerstore().Addrs(id); len(addrs) > 0 {
		return peer.AddrInfo{ID: id, Addrs: addrs}
	}
	ctx, cancel := context.WithTimeout(ctx, findPeerWait)
	defer cancel()
	if ai, err := n.dht.FindPeer(ctx, id); err == nil {
		return ai
	}
	return peer.AddrInfo{ID: id}
}

// providerSources names where findProviders looks, for a sentence: "the
// DHT names", or "the DHT and cid.contact name" (one, many: the verb's
// two forms).
func (n *Node) providerSources(one, many string) string {
	if len(n.cfg.DHT.DelegatedRouters) == 0 {
		return "the DHT " + one
	}
	var hosts []string
	for _, s := range n.cfg.DHT.DelegatedRouters {
		if u, err := url.Parse(s); err == nil {
			hosts = append(hosts, u.Host)
		}
	}
	return "the DHT and " + strings.Join(hosts, ", ") + " " + many
}

// routersHow is the doctor's line on the delegated routers: what each did
// lately, as of now, those asked for providers, then those for names.
func routersHow(providers, names []delegated.Status, now time.Time) string {
	var parts []string
	for _, s := range providers {
		parts = append(parts, routerHow(s, "providers", now))
	}
	for _, s := range names {
		parts = append(parts, routerHow(s, "names", now))
	}
	return strings.Join(parts, "; ")
}

// routerHow says what one router, asked for what, did lately.
func routerHow(s delegated.Status, what string, now time.Time) string {
	how := "not asked yet"
	switch {
	case !s.Failed.IsZero() && s.Failed.After(s.Answered):
		how = fmt.Sprintf("failed %s ago (%v)", ago(now, s.Failed), s.Err)
	case !s.Answered.IsZero():
		how = fmt.Sprintf("answered %s ago", ago(now, s.Answered))
	}
	return s.URL + " (" + what + "): " + how
}

// routerWarnings warns of each delegated router whose last lookup
// failed (a firewall, a proxy or a DNS filter in the way, the service
// down), saying what is missed and how to stop asking it.
func routerWarnings(f facts, warn func(text, fix string)) {
	for _, r := range []struct {
		list   []delegated.Status
		what   string
		missed string
		key    string
	}{
		{f.providerRouters, "providers", "content that only its index knows of (what pinning services and storage providers hold) is not found", "dht.delegated_routers"},
		{f.nameRouters, "names", "IPNS names are looked up in the DHT alone, which takes longer", "names.delegated_routers"},
	} {
		for _, s := range r.list {
			if s.Failed.IsZero() || !s.Failed.After(s.Answered) {
				continue
			}
			warn(fmt.Sprintf("The delegated router %s could not be asked for %s (%s ago: %v): %s.", s.URL, r.what, ago(f.now, s.Failed), s.Err, r.missed),
				fmt.Sprintf("check that this machine reaches %s (a firewall, a proxy or a DNS filter may block it); `kith config set %s '[]'` (then restart) stops asking it", s.URL, r.key))
		}
	}
}

// ago says how long before now t was, to the second (to the minute past
// an hour).
func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d >= time.Hour {
		d = d.Round(time.Minute)
	}
	return d.String()
}
