package reach

import (
	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

// Decide turns AutoNAT v2's per-address results into one reachability:
// public as soon as one address was dialled back, private when every
// address probed failed, unknown while nothing was confirmed either way.
func Decide(reachable, unreachable []ma.Multiaddr) network.Reachability {
	switch {
	case len(reachable) > 0:
		return network.ReachabilityPublic
	case len(unreachable) > 0:
		return network.ReachabilityPrivate
	default:
		return network.ReachabilityUnknown
	}
}

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
