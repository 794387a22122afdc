package fetch

import (
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// Resource-manager limits of /kith/fetch. Memory is what frame bodies
// reserve while they are read (see FrameHook): per peer, enough for the
// requests of a few fetches at once (a request is at most ~540 KB); for the
// protocol, a slice of the daemon's budget that grows with it. Streams: a
// fetch keeps three lanes to a peer, up to maxLanes while its probe finds
// more carry more (lanes.go), and a peer may run several.
var (
	protocolLimit = rcmgr.BaseLimit{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 32 << 20}
	protocolScale = rcmgr.BaseLimitIncrease{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 64 << 20}
	peerLimit     = rcmgr.BaseLimit{StreamsInbound: 2 * maxLanes, StreamsOutbound: 2 * maxLanes, Streams: 4 * maxLanes, Memory: 8 << 20}
)

// AddLimits gives /kith/fetch explicit limits in l, per peer and in total,
// instead of the defaults libp2p applies to any protocol.
func AddLimits(l *rcmgr.ScalingLimitConfig) {
	l.AddProtocolLimit(ID, protocolLimit, protocolScale)
	l.AddProtocolPeerLimit(ID, peerLimit, rcmgr.BaseLimitIncrease{})
}
