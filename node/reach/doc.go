// Package reach decides whether this node can be reached from the internet,
// and keeps what it learnt for diagnostics (kith doctor).
//
// go-libp2p has two answers to "am I reachable": AutoNAT v1, which only asks
// peers that advertise a public address and so never decides on a small
// network, and AutoNAT v2, which confirms each address by having a server
// dial it back. Several parts of the host (kad-dht's automatic mode,
// autorelay, the address manager) listen only for v1's
// EvtLocalReachabilityChanged. The Tracker turns v2's per-address results
// into that event, so the DHT mode, relay reservations and what kith shows
// all follow v2. It also infers the kind of NAT from the addresses peers
// observe (a port that changes with the observer means a symmetric NAT,
// which hole punching cannot cross) and counts hole punches.
package reach
