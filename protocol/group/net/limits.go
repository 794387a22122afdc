package groupnet

import (
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// AddLimits gives the sync protocol explicit resource-manager limits in l:
// a member syncs with a peer over one stream at a time per group, so a few
// streams per peer; in total, room for every member of several groups.
// (Gossip runs over pubsub, which has limits of its own.)
func AddLimits(l *rcmgr.ScalingLimitConfig) {
	l.AddProtocolLimit(SyncProtocol,
		rcmgr.BaseLimit{StreamsInbound: 128, StreamsOutbound: 128, Streams: 256, Memory: 16 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 16 << 20})
	l.AddProtocolPeerLimit(SyncProtocol,
		rcmgr.BaseLimit{StreamsInbound: 8, StreamsOutbound: 8, Streams: 16, Memory: 4 << 20},
		rcmgr.BaseLimitIncrease{})
}
