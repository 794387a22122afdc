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
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	"github.com/libp2p/go-libp2p-kad-dht/provider/keystore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	mh "github.com/multiformats/go-multihash"
)

const (
	// ProtocolPrefix separates kith's DHT from IPFS's Amino DHT ("/ipfs").
	ProtocolPrefix protocol.ID = "/kith"
	// ProtocolID is the DHT protocol kith peers speak.
	ProtocolID = ProtocolPrefix + "/kad/1.0.0"
)

// Datastore namespaces, so that one datastore can hold everything.
var (
	dhtNamespace      = datastore.NewKey("/dht")
	keystoreNamespace = datastore.NewKey("/provider") // the keystore adds "/keystore"
	providerNamespace = datastore.NewKey("/provider/state")
)

// ErrClosed is returned by operations on a DHT after Close.
var ErrClosed = errors.New("dht: closed")

// DHT is kith's Kademlia DHT together with the provider that announces and
// reprovides this node's content keys.
type DHT struct {
	host     host.Host
	cfg      config
	ipfs     *kaddht.IpfsDHT
	keystore keystore.Keystore
	prov     *provider.SweepingProvider

	// closing is closed when Close starts; operations check it to fail
	// fast with ErrClosed instead of reaching into stopped components.
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New starts a DHT on h and the provider that reprovides its keys.
//
// The host must already listen on the addresses peers should use: provider
// records carry h.Addrs() at announcement time. New dials nothing; call
// Bootstrap to join the network. The ctx bounds the DHT's lifetime like
// kad-dht's (cancelling it stops the DHT's background work), but Close must
// still be called.
//
// If New fails, everything it started has been stopped again and the DHT
// stream handler is removed from the host.
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
	mode, _ := cfg.mode.kad()

	d := &DHT{host: h, cfg: cfg, closing: make(chan struct{})}
	// fail stops what has been started and reports why New failed, plus
	// anything that went wrong while stopping.
	fail := func(err error) (*DHT, error) {
		return nil, errors.Join(err, d.cleanup())
	}

	kadOpts := []kaddht.Option{
		kaddht.ProtocolPrefix(ProtocolPrefix),
		kaddht.Mode(mode),
		kaddht.Datastore(namespace.Wrap(cfg.datastore, dhtNamespace)),
		// Always set explicitly (even when empty) so that no code path can
		// fall back to public bootstrap peers.
		kaddht.BootstrapPeers(cfg.bootstrapPeers...),
	}
	kadOpts = append(kadOpts, cfg.kadOptions...)
	ipfs, err := kaddht.New(ctx, h, kadOpts...)
	if err != nil {
		return fail(fmt.Errorf("dht: new: start kad-dht on %s: %w", h.ID(), err))
	}
	d.ipfs = ipfs

	// The keystore is ours rather than the provider's so that ProvideNow
	// can register a key without triggering a second, asynchronous
	// announcement (see provide.go).
	d.keystore, err = keystore.NewKeystore(namespace.Wrap(cfg.datastore, keystoreNamespace))
	if err != nil {
		return fail(fmt.Errorf("dht: new: open provider keystore: %w", err))
	}

	provOpts := []provider.Option{
		provider.WithHost(h),
		provider.WithRouter(ipfs),
		provider.WithMessageSender(ipfs.MessageSender()),
		provider.WithSelfAddrs(ipfs.FilteredAddrs),
		provider.WithReplicationFactor(ipfs.BucketSize()),
		// Record ourselves as a provider locally too, as kad-dht's dual
		// provider does, so this node answers GET_PROVIDERS for its own
		// content.
		provider.WithAddLocalRecord(func(k mh.Multihash) error {
			return ipfs.Provide(ipfs.Context(), cid.NewCidV1(cid.Raw, k), false)
		}),
		provider.WithKeystore(d.keystore),
		provider.WithDatastore(namespace.Wrap(cfg.datastore, providerNamespace)),
		provider.WithReprovideInterval(cfg.reprovideInterval),
		provider.WithMaxReprovideDelay(maxReprovideDelay(cfg.reprovideInterval)),
	}
	provOpts = append(provOpts, cfg.providerOptions...)
	d.prov, err = provider.New(provOpts...)
	if err != nil {
		return fail(fmt.Errorf("dht: new: start provider: %w", err))
	}
	return d, nil
}

// Close stops the provider, then the DHT, and closes the default in-memory
// datastore (never one given with WithDatastore). It is idempotent and safe
// to call concurrently; every call returns the first call's result. The host
// is not closed.
func (d *DHT) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
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
	if d.ipfs != nil {
		if err := d.ipfs.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kad-dht: %w", err))
		}
	}
	// kad-dht leaves its stream handler installed (also when its New fails
	// half-way); a closed DHT must not answer queries.
	d.host.RemoveStreamHandler(ProtocolID)
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

// Routing returns the underlying kad-dht as a libp2p router, for components
// such as autorelay's peer source. Its Provide is a one-off announcement:
// use DHT.Provide for keys that must be reprovided.
func (d *DHT) Routing() routing.Routing {
	return d.ipfs
}

// RoutingTableSize returns the number of peers in the routing table.
func (d *DHT) RoutingTableSize() int {
	return d.ipfs.RoutingTable().Size()
}
