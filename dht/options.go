package dht

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Mode selects whether this node answers DHT queries.
type Mode int

const (
	// ModeAuto is kad-dht's automatic mode: the node is a DHT server while
	// the host believes it is publicly reachable and a client otherwise. The
	// host learns its reachability from AutoNAT; without it (or on loopback
	// and private addresses) the node stays a client.
	ModeAuto Mode = iota
	// ModeServer always answers queries and stores provider records. Use it
	// for nodes known to be reachable, and in tests on 127.0.0.1.
	ModeServer
	// ModeClient only sends queries; it never stores records for others and
	// never enters other peers' routing tables.
	ModeClient
)

// String returns the mode's name, for logs and errors.
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeServer:
		return "server"
	case ModeClient:
		return "client"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// kad converts m to kad-dht's mode; ok is false for an unknown mode.
func (m Mode) kad() (mode kaddht.ModeOpt, ok bool) {
	switch m {
	case ModeAuto:
		return kaddht.ModeAuto, true
	case ModeServer:
		return kaddht.ModeServer, true
	case ModeClient:
		return kaddht.ModeClient, true
	default:
		return 0, false
	}
}

// Option configures New. Options never fail on their own; New validates the
// resulting configuration and reports every problem before starting
// anything.
type Option func(*config)

type config struct {
	mode              Mode
	prefix            protocol.ID
	dual              bool
	bootstrapPeers    []peer.AddrInfo
	reprovideInterval time.Duration
	datastore         datastore.Batching
	ownsDatastore     bool // the default in-memory store is closed by Close

	// savedPeers are the routing table's peers saved by the last Close,
	// dialled by Bootstrap beside the bootstrap peers.
	savedPeers []peer.AddrInfo

	// Test-only hooks: extra options handed to the libraries as-is.
	kadOptions      []kaddht.Option
	providerOptions []provider.Option
}

func defaultConfig() config {
	return config{
		mode:              ModeAuto,
		prefix:            AminoPrefix,
		dual:              true,
		reprovideInterval: DefaultReprovideInterval,
		datastore:         dssync.MutexWrap(datastore.NewMapDatastore()),
		ownsDatastore:     true,
	}
}

// validate reports all invalid settings at once.
func (c *config) validate() error {
	var errs []error
	if _, ok := c.mode.kad(); !ok {
		errs = append(errs, fmt.Errorf("invalid mode %v", c.mode))
	}
	switch {
	case c.reprovideInterval <= 0:
		errs = append(errs, fmt.Errorf("reprovide interval %v is not positive", c.reprovideInterval))
	case c.reprovideInterval > MaxReprovideInterval():
		errs = append(errs, fmt.Errorf("reprovide interval %v above %v: records would expire after one missed reprovide",
			c.reprovideInterval, MaxReprovideInterval()))
	}
	if c.prefix == "" || c.prefix[0] != '/' {
		errs = append(errs, fmt.Errorf("protocol prefix %q does not start with /", c.prefix))
	}
	if c.datastore == nil {
		errs = append(errs, errors.New("datastore is nil"))
	}
	for i, p := range c.bootstrapPeers {
		if err := p.ID.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("bootstrap peer %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// WithMode sets the DHT mode; the default is ModeAuto.
func WithMode(m Mode) Option {
	return func(c *config) { c.mode = m }
}

// protocols are the DHT protocol IDs this configuration speaks, WAN (or the
// only one) first.
func (c *config) protocols() []protocol.ID {
	wan := c.prefix + "/kad/1.0.0"
	if !c.dual {
		return []protocol.ID{wan}
	}
	return []protocol.ID{wan, c.prefix + "/lan/kad/1.0.0"}
}

// WithProtocolPrefix sets the DHT's protocol prefix: AminoPrefix (the
// default) joins IPFS's public DHT; KithPrefix or another prefix keeps a
// closed network that only peers using the same prefix can join.
func WithProtocolPrefix(p protocol.ID) Option {
	return func(c *config) { c.prefix = p }
}

// WithDual chooses between kad-dht's dual DHT (the default: a WAN DHT that
// only holds peers with public addresses and a LAN DHT for private ones, as
// Kubo runs, so two laptops on one LAN find each other without the
// internet) and a single DHT that takes every address, for networks on
// loopback or one private network (tests, the local profile).
func WithDual(dual bool) Option {
	return func(c *config) { c.dual = dual }
}

// WithBootstrapPeers sets the peers Bootstrap connects to. kad-dht also
// redials them on its own whenever the routing table becomes empty. There is
// no default: a DHT without bootstrap peers only knows the peers its host is
// connected to. The slice is copied.
func WithBootstrapPeers(peers []peer.AddrInfo) Option {
	return func(c *config) { c.bootstrapPeers = append([]peer.AddrInfo(nil), peers...) }
}

// WithReprovideInterval sets how often every provided key is announced
// again. The default is DefaultReprovideInterval (22h); it must be positive
// and at most half the provider record validity (24h), see timing.go.
func WithReprovideInterval(d time.Duration) Option {
	return func(c *config) { c.reprovideInterval = d }
}

// WithDatastore sets where the DHT keeps its state: provider records it
// stores for others, the keystore of keys this node provides, and the
// provider's reprovide schedule, each under its own namespace (/dht,
// /provider/keystore, /provider/state). With a persistent datastore the set
// of provided keys and the schedule survive restarts. The DHT does not close
// a datastore given here. The default is a fresh in-memory store.
func WithDatastore(ds datastore.Batching) Option {
	return func(c *config) {
		c.datastore = ds
		c.ownsDatastore = false
	}
}

// withKadOptions appends raw kad-dht options; tests use it to observe
// incoming requests.
func withKadOptions(opts ...kaddht.Option) Option {
	return func(c *config) { c.kadOptions = append(c.kadOptions, opts...) }
}

// withProviderOptions appends raw SweepingProvider options; tests use it to
// make provider construction fail after the DHT has started.
func withProviderOptions(opts ...provider.Option) Option {
	return func(c *config) { c.providerOptions = append(c.providerOptions, opts...) }
}
