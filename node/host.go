package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/config"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/node/reach"
	"github.com/kith-p2p/kith/protocol/bitswap"
	"github.com/kith-p2p/kith/protocol/fetch"
	groupnet "github.com/kith-p2p/kith/protocol/group/net"
)

// relayPeerSource hands autorelay candidate relays; the node fills it with
// peers from the DHT's routing table once the DHT exists.
type relayPeerSource func(ctx context.Context, num int) <-chan peer.AddrInfo

// observerThreshold is how many different peers must report the same
// public address before libp2p considers it (and AutoNAT v2 tests it).
// libp2p counts them per transport, and libp2p's 4 is never reached on a
// small network (a laptop talking to two or three public peers), so the
// node would never learn its router's address. 2 was not enough either: a
// laptop with two public peers often keeps QUIC to one and TCP to the
// other (libp2p dials TCP 250 ms after QUIC and keeps whichever connects
// first), so each transport had one observer, no address was ever tested
// and the reachability stayed unknown (TestGetRightAfterStart, 4 runs in
// 8). One report is enough because nothing unconfirmed is used: an
// observed address is advertised only once AutoNAT v2 has dialled it back
// (see addrFilter), and hole punching already takes single reports.
// libp2p still lists at most a few observed addresses per listen address,
// so a symmetric NAT's many ports add only a few AutoNAT tests.
const observerThreshold = 1

var setObserverThreshold sync.Once

// Autorelay tuning: libp2p waits for 4 candidates or 3 minutes before its
// first reservation (~200 s after start on a small network); one candidate
// is enough to be reachable, and a reservation within seconds of learning
// that the node is private is what makes a laptop reachable at all.
const (
	relayMinCandidates = 1
	relayBootDelay     = 5 * time.Second
	relayBackoff       = 30 * time.Second
	relayMinInterval   = time.Second
	relayNum           = 2
)

// addrFilter decides which of the host's addresses are advertised (in
// identify, DHT records, kith id): every interface address (a LAN peer or
// a public server needs them), relay circuits, the ports the router
// forwards on request (ports) and the addresses network.announce_addrs
// names, and other public addresses that are not an interface's (observed
// by peers) only once AutoNAT v2 has dialled them back. It also appends
// the circuits of group relays this node holds reservations on.
type addrFilter struct {
	h      atomic.Pointer[host.Host]
	reach  *reach.Tracker
	ports  *portMapper
	extras atomic.Pointer[func() []ma.Multiaddr]
}

func (f *addrFilter) factory(addrs []ma.Multiaddr) []ma.Multiaddr {
	hp := f.h.Load()
	if hp == nil {
		return addrs
	}
	iface, _ := (*hp).Network().InterfaceListenAddresses()
	mapped := f.ports.Mapped()
	out := make([]ma.Multiaddr, 0, len(addrs))
	for _, a := range addrs {
		if isRelayed(a) || !manet.IsPublicAddr(a) || slices.ContainsFunc(iface, a.Equal) || f.reach.IsReachable(a) {
			out = append(out, a)
		}
	}
	// libp2p takes a new mapping into its addresses at its next update
	// (seconds later), or drops it as unconfirmed: the router's word is
	// enough to give it out, until AutoNAT v2 finds it false; so is the
	// user's, for network.announce_addrs (a name is never tested).
	for _, a := range slices.Concat(mapped, f.ports.Announced()) {
		if manet.IsPublicAddr(a) && !f.reach.IsUnreachable(a) && !slices.ContainsFunc(out, a.Equal) {
			out = append(out, a)
		}
	}
	if f.reach.Reachability() == network.ReachabilityPublic {
		return out
	}
	// libp2p drops the relay circuits from the host's addresses once AutoNAT
	// v2 confirmed any address, and an IPv6 one is confirmed while IPv4
	// stays behind the NAT on many home routers: peers with IPv4 only would
	// find no way in. Not public (reach.Decide), the circuits stay.
	for _, a := range f.reach.RelayAddrs() {
		if !slices.ContainsFunc(out, a.Equal) {
			out = append(out, a)
		}
	}
	if ex := f.extras.Load(); ex != nil {
		out = append(out, (*ex)()...)
	}
	return out
}

// forceReachability sets libp2p's AutoNAT v1 to a fixed answer, which also
// stops its probing: kith's reach.Tracker decides from AutoNAT v2 instead
// (v1 only asks peers that advertise public addresses, so a lone public
// node never learns it is public), or the config decides.
func forceReachability(r network.Reachability) libp2p.Option {
	return func(cfg *config.Config) error {
		cfg.AutoNATConfig.ForceReachability = &r
		return nil
	}
}

// fixedReachability is the reachability the config imposes, or Unknown
// when AutoNAT is to decide. Without AutoNAT nothing can tell, so the node
// assumes it is private: its DHT stays a client and it seeks relays (a
// loopback test node sets its DHT mode explicitly).
func fixedReachability(cfg NetworkConfig) network.Reachability {
	switch cfg.Reachability {
	case "public":
		return network.ReachabilityPublic
	case "private":
		return network.ReachabilityPrivate
	}
	if !cfg.AutoNAT {
		return network.ReachabilityPrivate
	}
	return network.ReachabilityUnknown
}

// setBitswapLimits gives Bitswap's streams resource-manager limits of their
// own, as libp2p gives its services, rather than the defaults for any
// protocol. Per peer: a Bitswap server sends each message of blocks on a
// stream of its own, which stays open here until the message is read and
// passed on; a refused stream is a message lost for good (the server does
// not send it again). So a peer may hold as many inbound streams as this
// node has wants on it: up to 128 per fetch (fetch's bitswapMaxWants),
// plus its wants stream and a few for the gateway. Outbound: one of wants,
// and kith's server's messages, each on a stream of its own that stays
// open until the peer has read it and boxo has closed it in the
// background (for up to the send's timeout): a busy IPFS node taking
// thousands of small blocks keeps dozens open, so 64 (a refused one is
// sent again: protocol/bitswap's sendRetries). Memory bounds the
// flow-control windows of those streams (a stream whose window cannot grow
// is slower, not refused).
func setBitswapLimits(l *rcmgr.ScalingLimitConfig) {
	for _, p := range bitswap.Protocols {
		l.AddProtocolLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 512, StreamsOutbound: 256, Streams: 768, Memory: 64 << 20},
			rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 64 << 20})
		l.AddProtocolPeerLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 160, StreamsOutbound: 64, Streams: 224, Memory: 32 << 20},
			rcmgr.BaseLimitIncrease{})
	}
}

// newHost builds the libp2p host: TCP and QUIC, Noise and TLS, yamux, a
// resource manager and connection manager sized for a laptop, and the NAT
// traversal pieces the config turns on.
func newHost(cfg NetworkConfig, key crypto.PrivKey, bw *metrics.BandwidthCounter, reg prometheus.Registerer,
	relays relayPeerSource, tracker *reach.Tracker, filter *addrFilter, gater *groupPathGater) (host.Host, error) {
	setObserverThreshold.Do(func() { observedaddrs.ActivationThresh = observerThreshold })
	// The resource manager scales libp2p's default per-peer and per-protocol
	// limits to the memory and file descriptors a laptop daemon should use.
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	setBitswapLimits(&limits)
	fetch.AddLimits(&limits)
	groupnet.AddLimits(&limits)
	if busy := portsInUse(cfg.ListenAddrs); len(busy) > 0 {
		return nil, portInUseError(busy, cfg.ListenAddrs)
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.Scale(int64(cfg.MaxMemoryMiB)<<20, cfg.MaxFileDescriptors)))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	// The grace period spares new connections (a fetch that just started)
	// from trimming.
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		// TLS 1.3 first, Noise for peers without it: on TCP the session
		// cipher is most of the transfer's CPU after hashing, and TLS
		// picks AES-GCM where the CPU has AES instructions (laptops and
		// servers alike), which costs a fraction of Noise's
		// ChaCha20-Poly1305 (BENCHMARKS.md, "Transports"). Kubo prefers TLS
		// too; QUIC always uses TLS 1.3.
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DialRanker(rankTCPFirst),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.BandwidthReporter(bw),
		libp2p.PrometheusRegisterer(reg),
		libp2p.UserAgent("kith/" + BuildVersion()),
		libp2p.AddrsFactory(filter.factory),
		// Dialling relay circuits (a friend behind NAT) needs the circuit
		// transport whatever this node offers.
		libp2p.EnableRelay(),
	}
	opts = append(opts, libp2p.ConnectionGater(gater))
	// Also without port mapping: a port forwarded by hand is tried.
	filter.ports.off = !cfg.PortMapping
	filter.ports.announce = parseAnnounce(cfg.AnnounceAddrs)
	opts = append(opts, filter.ports.option())
	// Unknown here means the reach.Tracker decides (and v1 stays silent).
	opts = append(opts, forceReachability(fixedReachability(cfg)))
	if cfg.AutoNAT {
		// No UDP or IPv6 black-hole detector: libp2p shares them read-only
		// with the AutoNAT v2 server's dialer, which then refuses every
		// QUIC (or IPv6) dial-back until this node has made 100 outbound
		// UDP (IPv6) dials. A young public node (all of a small or closed
		// network) would never test a laptop's QUIC address, and a laptop
		// whose peers saw only its QUIC address would stay "unknown" behind
		// its NAT; nor would it test an IPv6 address, so a laptop whose
		// router lets IPv6 in would never learn it (every IPv6 dial-back
		// refused in TestOpenIPv6ReachesIPv4OnlyPeers). A blocked UDP or
		// IPv6 costs a dial 250 ms before the other is tried (libp2p races
		// them); rare on home networks.
		opts = append(opts, libp2p.EnableAutoNATv2(), libp2p.UDPBlackHoleSuccessCounter(nil), libp2p.IPv6BlackHoleSuccessCounter(nil))
	}
	if cfg.HolePunching {
		punch := reach.PunchFilter{Listen: func() []ma.Multiaddr {
			if hp := filter.h.Load(); hp != nil {
				return (*hp).Network().ListenAddresses()
			}
			return nil
		}}
		opts = append(opts, libp2p.EnableHolePunching(holepunch.WithTracer(tracker.HolePunchTracer()), holepunch.WithAddrFilter(punch)))
	}
	if cfg.RelayClient {
		opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(
			func(ctx context.Context, num int) <-chan peer.AddrInfo { return relays(ctx, num) },
			autorelay.WithMinCandidates(relayMinCandidates),
			autorelay.WithBootDelay(relayBootDelay),
			autorelay.WithBackoff(relayBackoff),
			autorelay.WithMinInterval(relayMinInterval),
			autorelay.WithNumRelays(relayNum),
		))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		if addrInUse(err) {
			return nil, portInUseError(cfg.ListenAddrs, cfg.ListenAddrs)
		}
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	filter.h.Store(&h)
	return h, nil
}
