package node

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// quicAfterTCP is how long a dial waits on a peer's LAN TCP addresses
// before it tries the others too (libp2p's default does the reverse, with
// 250 ms).
const quicAfterTCP = 250 * time.Millisecond

// rankTCPFirst orders a peer's addresses for dialling like libp2p's default
// ranker (private before public, IPv6 and IPv4 raced, relays last), except
// that on a LAN it prefers TCP to QUIC: when a peer offers TCP on a private
// address, kith dials it at once and everything else quicAfterTCP later.
//
// Why (BENCHMARKS.md, "Links users really get"): on a LAN the link is
// faster than QUIC's CPU cost allows. On these machines libp2p over TCP
// carries about twice what QUIC carries for half the CPU: quic-go seals
// and sends each ~1.4 KB packet on its own, where TCP hands the kernel
// 64 KiB at a time. Between two daemons on a bridge a QUIC fetch ran at
// 181 MB/s against 354 over TCP, with 5.6 CPU-seconds per GiB against 2.9
// on the fetching side. On the internet the link, not the CPU, is usually
// the limit, and the default order stays: QUIC first. It is what lets a
// laptop that moved to another network learn its new public address from
// the peers it reconnects to and hole-punch again (TestAddressChange
// failed with TCP first everywhere). Hole punching is unaffected either way
// (libp2p dials those addresses all at once, whatever the ranker).
func rankTCPFirst(addrs []ma.Multiaddr) []network.AddrDelay {
	var lan []ma.Multiaddr
	for _, a := range addrs {
		if isLANTCP(a) {
			lan = append(lan, a)
		}
	}
	if len(lan) == 0 {
		return swarm.DefaultDialRanker(addrs)
	}
	// LAN TCP among itself as libp2p ranks it; everything else (QUIC,
	// public addresses, relays) where libp2p's default puts it among all
	// the addresses, quicAfterTCP later.
	out := swarm.DefaultDialRanker(lan)
	for _, d := range swarm.DefaultDialRanker(append([]ma.Multiaddr(nil), addrs...)) {
		if !isLANTCP(d.Addr) {
			d.Delay += quicAfterTCP
			out = append(out, d)
		}
	}
	return out
}

// isLANTCP reports whether a is a plain TCP address (not a relay circuit,
// not a websocket) on a private network.
func isLANTCP(a ma.Multiaddr) bool { return isDirectTCP(a) && manet.IsPrivateAddr(a) }

// isDirectTCP reports whether a is a plain TCP address (not a relay
// circuit, not a websocket).
func isDirectTCP(a ma.Multiaddr) bool {
	direct, tcp := true, false
	for _, c := range a {
		switch c.Protocol().Code {
		case ma.P_TCP:
			tcp = true
		case ma.P_CIRCUIT, ma.P_WS, ma.P_WSS, ma.P_TLS, ma.P_SNI, ma.P_HTTP, ma.P_HTTPS:
			direct = false
		}
	}
	return tcp && direct
}
