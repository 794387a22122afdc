package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	dualprov "github.com/libp2p/go-libp2p-kad-dht/provider/dual"
	"github.com/libp2p/go-libp2p-kad-dht/provider/keystore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	mh "github.com/multiformats/go-multihash"
)

const (
	// AminoPrefix is the protocol prefix of IPFS's public Amino DHT, the
	// default: thousands of DHT servers, AutoNAT servers and relays.
	AminoPrefix protocol.ID = "/ipfs"
	// KithPrefix is the prefix of a closed kith-only DHT
	// (/kith/kad/1.0.0), for people who run their own bootstrap peers.
	KithPrefix protocol.ID = "/kith"
)

// Datastore namespaces, so that one datastore can hold everything.
var (
	dhtNamespace      = datastore.NewKey("/dht")
	keystoreNamespace = datastore.NewKey("/provider")
	// providerNamespace must not be under keystoreNamespace: the keystore
	// reads every key under its namespace as a provided multihash.
	providerNamespace = datastore.NewKey("/provider-state")
	// legacyProviderNamespace is where the provider kept its state before
	// (its cycle start, history and queue), read back by the keystore as
	// junk keys to announce: moved when a DHT opens.
	legacyProviderNamespace = datastore.NewKey("/provider/state")
)

// ErrClosed is returned by operations on a DHT after Close.
var ErrClosed = errors.New("dht: closed")

// sweeper is what kith uses of a sweeping provider; the single and the
// dual one both have it.
type sweeper interface {
	StartProviding(force bool, keys ...mh.Multihash) error
	StopProviding(keys ...mh.Multihash) error
	ProvideOnce(keys ...mh.Multihash) error
	Close() error
}

// DHT is kith's Kademlia DHT together with the provider that announces and
// reprovides this node's content keys.
type DHT struct {
	host host.Host
	cfg  config

	router routing.Routing   // the dual DHT, or wan alone
	wan    *kaddht.IpfsDHT   // the public DHT; the only one when not dual
	lan    *kaddht.IpfsDHT   // nil when not dual
	kads   []*kaddht.IpfsDHT // wan, then lan if any

	keystore keystore.Keystore
	prov     sweeper
	single   *provider.SweepingProvider // prov when not dual (tests read its stats)

	// closing is closed when Close starts; operations check it to fail
	// fast with ErrClosed instead of reaching into stopped components.
	closing   chan struct{}
	life      context.Context // cancelled when Close starts; background work runs on it
	stopLife  context.CancelFunc
	bg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New starts a DHT on h and the provider that reprovides its keys.
//
// The host must already listen on the addresses peers should use: provider
// records carry h.Addrs() at announcement time. New dials nothing; call
// Bootstrap to join the network. The ctx bounds reading the saved state
// only; the DHT runs until Close.
//
// If New fails, everything it started has been stopped again and the DHT
// stream handlers are removed from the host.
func New(ctx context.Context, h host.Host, opts ...Option) (*DHT, error) {
	if h == nil {
		return nil, errors.New("dht: new: host is nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("dht: new: invalid options: %w", err)
	}
	d := &DHT{host: h, cfg: cfg, closing: make(chan struct{})}
	d.life, d.stopLife = context.WithCancel(context.Background())
	// fail stops what has been started and reports why New failed, plus
	// anything that went wrong while stopping.
	fail := func(err error) (*DHT, error) {
		d.stopLife()
		return nil, errors.Join(err, d.cleanup())
	}
	if err := d.startKad(ctx); err != nil {
		return fail(err)
	}
	if err := moveLegacyProviderState(ctx, cfg.datastore); err != nil {
		return fail(err)
	}
	var err error
	// The keystore is ours rather than the provider's so that ProvideNow
	// and Reprovide can read the provided keys (see provide.go).
	d.keystore, err = keystore.NewKeystore(namespace.Wrap(cfg.datastore, keystoreNamespace))
	if err != nil {
		return fail(fmt.Errorf("dht: new: open provider keystore: %w", err))
	}
	if err := d.startProvider(); err != nil {
		return fail(err)
	}
	d.cfg.savedPeers = loadPeers(ctx, cfg.datastore)
	d.bg.Add(2)
	go d.savePeersLoop()
	go d.smallNetworkLoop()
	return d, nil
}

// startKad starts kad-dht: one DHT, or the WAN and LAN pair of kad-dht's
// dual package (public and private addresses kept apart, as in Kubo).
func (d *DHT) startKad(ctx context.Context) error {
	cfg := d.cfg
	mode, _ := cfg.mode.kad()
	common := []kaddht.Option{
		// Always set explicitly (even when empty) so that no code path
		// falls back to kad-dht's built-in bootstrap peers.
		kaddht.BootstrapPeers(cfg.bootstrapPeers...),
	}
	common = append(common, cfg.kadOptions...)
	if !cfg.dual {
		opts := append([]kaddht.Option{kaddht.Mode(mode), kaddht.ProtocolPrefix(cfg.prefix),
			kaddht.Datastore(namespace.Wrap(cfg.datastore, dhtNamespace))}, common...)
		ipfs, err := kaddht.New(d.host, opts...)
		if err != nil {
			return fmt.Errorf("dht: new: start kad-dht on %s: %w", d.host.ID(), err)
		}
		d.wan, d.router, d.kads = ipfs, ipfs, []*kaddht.IpfsDHT{ipfs}
		return nil
	}
	// The LAN DHT serves whenever this node is not forced to be a client:
	// everyone on a LAN can reach everyone else.
	lanMode := kaddht.ModeServer
	if cfg.mode == ModeClient {
		lanMode = kaddht.ModeClient
	}
	dd, err := dual.New(d.host,
		dual.DHTOption(common...),
		dual.WanDHTOption(kaddht.Mode(mode), kaddht.ProtocolPrefix(cfg.prefix),
			kaddht.Datastore(namespace.Wrap(cfg.datastore, dhtNamespace.ChildString("wan")))),
		// The prefix replaces the LAN extension dual.New set, so add it
		// back: the LAN DHT must speak its own protocol (/ipfs/lan/kad/1.0.0).
		dual.LanDHTOption(kaddht.Mode(lanMode), kaddht.ProtocolPrefix(cfg.prefix), kaddht.ProtocolExtension(dual.LanExtension),
			kaddht.Datastore(namespace.Wrap(cfg.datastore, dhtNamespace.ChildString("lan")))),
	)
	if err != nil {
		return fmt.Errorf("dht: new: start kad-dht (WAN and LAN) on %s: %w", d.host.ID(), err)
	}
	d.wan, d.lan, d.router, d.kads = dd.WAN, dd.LAN, dd, []*kaddht.IpfsDHT{dd.WAN, dd.LAN}
	return nil
}

// startProvider starts the sweeping provider(s) over the shared keystore.
func (d *DHT) startProvider() error {
	cfg := d.cfg
	if dd, ok := d.router.(*dual.DHT); ok {
		p, err := dualprov.New(dd,
			dualprov.WithKeystore(d.keystore),
			dualprov.WithDatastoreWAN(namespace.Wrap(cfg.datastore, providerNamespace.ChildString("wan"))),
			dualprov.WithDatastoreLAN(namespace.Wrap(cfg.datastore, providerNamespace.ChildString("lan"))),
			dualprov.WithReprovideInterval(cfg.reprovideInterval),
			dualprov.WithMaxReprovideDelay(maxReprovideDelay(cfg.reprovideInterval)),
		)
		if err != nil {
			return fmt.Errorf("dht: new: start provider: %w", err)
		}
		d.prov = p
		return nil
	}
	ipfs := d.wan
	provOpts := []provider.Option{
		provider.WithHost(d.host),
		provider.WithRouter(ipfs),
		provider.WithMessageSender(ipfs.MessageSender()),
		provider.WithSelfAddrs(ipfs.FilteredAddrs),
		provider.WithReplicationFactor(ipfs.BucketSize()),
		// Record ourselves as a provider locally too, as kad-dht's dual
		// provider does, so this node answers GET_PROVIDERS for its own
		// content.
		provider.WithAddLocalRecord(func(ctx context.Context, k mh.Multihash) error {
			return ipfs.Provide(ctx, cid.NewCidV1(cid.Raw, k), false)
		}),
		provider.WithKeystore(d.keystore),
		provider.WithDatastore(namespace.Wrap(cfg.datastore, providerNamespace)),
		provider.WithReprovideInterval(cfg.reprovideInterval),
		provider.WithMaxReprovideDelay(maxReprovideDelay(cfg.reprovideInterval)),
	}
	provOpts = append(provOpts, cfg.providerOptions...)
	p, err := provider.New(provOpts...)
	if err != nil {
		return fmt.Errorf("dht: new: start provider: %w", err)
	}
	d.prov, d.single = p, p
	return nil
}

// Close saves the routing table's peers for the next start, stops the
// provider, then the DHT, and closes the default in-memory datastore
// (never one given with WithDatastore). It is idempotent and safe to call
// concurrently; every call returns the first call's result. The host is
// not closed.
func (d *DHT) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
		d.stopLife()
		d.bg.Wait()
		if len(d.kads) > 0 {
			savePeers(context.Background(), d.cfg.datastore, d.RoutingPeers())
		}
		d.closeErr = d.cleanup()
	})
	return d.closeErr
}

// cleanup stops whatever has been started, in reverse order: the provider
// uses the keystore and the DHT, the keystore uses the datastore.
func (d *DHT) cleanup() error {
	var errs []error
	if d.prov != nil {
		if err := d.prov.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close provider: %w", err))
		}
	}
	if d.keystore != nil {
		if err := d.keystore.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close keystore: %w", err))
		}
	}
	for _, k := range d.kads {
		if err := k.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kad-dht: %w", err))
		}
	}
	// kad-dht leaves its stream handlers installed (also when its New
	// fails half-way); a closed DHT must not answer queries.
	for _, p := range d.cfg.protocols() {
		d.host.RemoveStreamHandler(p)
	}
	if d.cfg.ownsDatastore && d.cfg.datastore != nil {
		if err := d.cfg.datastore.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close in-memory datastore: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dht: close: %w", err)
	}
	return nil
}

// closed reports whether Close has been called.
func (d *DHT) closed() bool {
	select {
	case <-d.closing:
		return true
	default:
		return false
	}
}

// Routing returns the DHT (both halves when dual) as a libp2p router, for
// components such as a routed host or autorelay's peer source. Its Provide
// is a one-off announcement: use DHT.Provide for keys that must be
// reprovided.
func (d *DHT) Routing() routing.Routing {
	return d.router
}

// RoutingTableSize returns the number of peers in the routing tables (WAN
// and LAN together when dual).
func (d *DHT) RoutingTableSize() int {
	n := 0
	for _, k := range d.kads {
		n += k.RoutingTable().Size()
	}
	return n
}

// Stats describes the DHT for diagnostics.
type Stats struct {
	// Protocol is the WAN (or only) DHT's protocol ID.
	Protocol protocol.ID
	// WAN and LAN are the routing table sizes (LAN is 0 when not dual).
	WAN, LAN int
	// Server reports whether the WAN (or only) DHT answers queries now.
	Server bool
	// Bootstrap is how many bootstrap peers are configured, and
	// BootstrapConnected how many of them are connected now.
	Bootstrap, BootstrapConnected int
}

// serving reports whether the WAN (or only) DHT answers queries now: its
// protocol has a stream handler, which kad-dht sets in server mode and
// removes in client mode. (kad-dht's Mode() is the configured option, so
// in auto mode it said "auto" whatever the node did: the doctor showed
// public servers as clients.)
func (d *DHT) serving() bool {
	want := d.cfg.protocols()[0]
	for _, p := range d.host.Mux().Protocols() {
		if p == want {
			return true
		}
	}
	return false
}

// Stats returns the DHT's state now.
func (d *DHT) Stats() Stats {
	st := Stats{Protocol: d.cfg.protocols()[0], WAN: d.wan.RoutingTable().Size(), Server: d.serving()}
	if d.lan != nil {
		st.LAN = d.lan.RoutingTable().Size()
	}
	st.Bootstrap = len(d.cfg.bootstrapPeers)
	for _, ai := range d.cfg.bootstrapPeers {
		if len(d.host.Network().ConnsToPeer(ai.ID)) > 0 {
			st.BootstrapConnected++
		}
	}
	return st
}

// RoutingPeers lists the routing tables' peers with their known addresses,
// WAN first.
func (d *DHT) RoutingPeers() []peer.AddrInfo {
	var out []peer.AddrInfo
	seen := map[peer.ID]bool{}
	for _, k := range d.kads {
		for _, p := range k.RoutingTable().ListPeers() {
			if seen[p] {
				continue
			}
			seen[p] = true
			if ai := d.host.Peerstore().PeerInfo(p); len(ai.Addrs) > 0 {
				out = append(out, ai)
			}
		}
	}
	return out
}
