package reach

import (
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

// Decide turns AutoNAT v2's per-address results into one reachability:
// public once an IPv4 address was dialled back, or an IPv6 one while no
// IPv4 address is closed or waiting to be tested; private when every
// address probed failed, or only IPv6 got through and IPv4 did not; unknown
// while nothing was confirmed either way, or IPv6 got through and IPv4 is
// still being tested.
//
// IPv6 alone does not make a dual-stack node public: many homes' routers
// let IPv6 in while IPv4 stays behind a NAT, and a node taken for public
// drops its relay reservations, so peers with IPv4 only (most of them,
// still) could no longer reach it at all.
func Decide(reachable, unreachable, unknown []ma.Multiaddr) network.Reachability {
	switch {
	case slices.ContainsFunc(reachable, isIP4):
		return network.ReachabilityPublic
	case len(reachable) > 0 && slices.ContainsFunc(unreachable, isIP4):
		return network.ReachabilityPrivate
	case len(reachable) > 0 && slices.ContainsFunc(unknown, isIP4):
		return network.ReachabilityUnknown
	case len(reachable) > 0:
		return network.ReachabilityPublic
	case len(unreachable) > 0:
		return network.ReachabilityPrivate
	default:
		return network.ReachabilityUnknown
	}
}

// isIP4 reports whether a is an IPv4 address.
func isIP4(a ma.Multiaddr) bool { return len(a) > 0 && a[0].Code() == ma.P_IP4 }

// Name is a reachability in the words kith shows.
func Name(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}
