package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/prometheus/client_golang/prometheus"
)

// relayPeerSource hands autorelay candidate relays; the node fills it with
// peers from the DHT's routing table once the DHT exists.
type relayPeerSource func(ctx context.Context, num int) <-chan peer.AddrInfo

// newHost builds the libp2p host: TCP and QUIC, Noise and TLS, yamux, a
// resource manager and connection manager sized for a laptop, and the NAT
// traversal pieces the config turns on.
func newHost(cfg NetworkConfig, key crypto.PrivKey, bw *metrics.BandwidthCounter, reg prometheus.Registerer, relays relayPeerSource) (host.Host, error) {
	// The resource manager scales libp2p's default per-peer and per-protocol
	// limits to the memory and file descriptors a laptop daemon should use.
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
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
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.BandwidthReporter(bw),
		libp2p.PrometheusRegisterer(reg),
		libp2p.UserAgent("kith/" + Version),
	}
	if cfg.gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.gater))
	}
	if cfg.PortMapping {
		opts = append(opts, libp2p.NATPortMap())
	}
	if cfg.AutoNAT {
		opts = append(opts, libp2p.EnableAutoNATv2())
	}
	if cfg.HolePunching {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	if cfg.RelayClient {
		opts = append(opts, libp2p.EnableRelay(), libp2p.EnableAutoRelayWithPeerSource(func(ctx context.Context, num int) <-chan peer.AddrInfo {
			return relays(ctx, num)
		}))
	} else {
		opts = append(opts, libp2p.DisableRelay())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	return h, nil
}
