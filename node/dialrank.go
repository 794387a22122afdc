package node

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// quicAfterTCP is how long a dial waits on a peer's TCP addresses before it
// tries QUIC too (libp2p's default does the reverse, with 250 ms).
const quicAfterTCP = 250 * time.Millisecond

// rankTCPFirst orders a peer's addresses for dialling like libp2p's default
// ranker (private before public, IPv6 and IPv4 raced, relays last) but with
// TCP before QUIC: when a peer offers both, kith dials TCP at once and
// QUIC only if TCP has not connected after quicAfterTCP.
//
// Why (BENCHMARKS.md, "Transports"): kith's transfers are bulk, and on
// these machines libp2p over TCP carries about twice what QUIC carries
// for the same CPU: quic-go encrypts and sends each ~1.4 KB packet on its
// own (a sendmsg or recvmmsg slot per packet, AES-GCM per packet), where
// TCP hands the kernel 64 KiB at a time. A QUIC fetch spent 7 CPU-seconds
// per GiB on the fetching side against 3.8 over TCP, and ran at half the
// speed. A TCP handshake costs a round trip or two more than QUIC's, once
// per connection. Hole punching is unaffected (libp2p dials those
// addresses all at once, whatever the ranker), and a peer reachable only
// over QUIC (a UDP hole punch, a QUIC-only listener) is dialled as before.
func rankTCPFirst(addrs []ma.Multiaddr) []network.AddrDelay {
	var tcp []ma.Multiaddr
	for _, a := range addrs {
		if isDirectTCP(a) {
			tcp = append(tcp, a)
		}
	}
	if len(tcp) == 0 {
		return swarm.DefaultDialRanker(addrs)
	}
	// TCP among itself as libp2p ranks it; everything else (QUIC, relays,
	// the rest) where libp2p's default puts it among all the addresses,
	// quicAfterTCP later.
	out := swarm.DefaultDialRanker(tcp)
	for _, d := range swarm.DefaultDialRanker(append([]ma.Multiaddr(nil), addrs...)) {
		if !isDirectTCP(d.Addr) {
			d.Delay += quicAfterTCP
			out = append(out, d)
		}
	}
	return out
}

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
