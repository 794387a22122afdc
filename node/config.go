package node

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"time"

	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/connmgr"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/node/atomicfile"
	"github.com/kith-p2p/kith/protocol/trustless"
)

// DefaultAPIAddress is where the local API listens unless configured.
const DefaultAPIAddress = "127.0.0.1:5091"

// DefaultP2PPort is the fixed port kith listens on for peers (TCP and QUIC),
// so a port forward or firewall rule made once keeps working.
const DefaultP2PPort = 4101

// MinDownloadLimit is the lowest fetch.download_limit: below it, a fetch
// held back by the cap would take its peers for stalled.
const MinDownloadLimit = 64 << 10

// DefaultCacheMax is fetch.cache_max in a new repo.
const DefaultCacheMax = 4 << 30

// Config is the daemon's configuration, kept as JSON in the repo's config
// file. The file is written on first run with every default spelled out, so
// a user sees what can be changed.
type Config struct {
	// Identity is this node's peer ID (the private key is in identity.key).
	Identity IdentityConfig `json:"identity"`
	// API configures the local HTTP API.
	API APIConfig `json:"api"`
	// Network configures the libp2p host: listeners, NAT traversal, limits.
	Network NetworkConfig `json:"network"`
	// DHT configures Kademlia discovery.
	DHT DHTConfig `json:"dht"`
	// Fetch configures block transfers.
	Fetch FetchConfig `json:"fetch"`
	// Groups configures group replication (see groups_config.go).
	Groups GroupsConfig `json:"groups"`
	// Names configures how IPNS names and DNSLink domains are looked up
	// (see names_config.go).
	Names NamesConfig `json:"names"`
}

// IdentityConfig names the node.
type IdentityConfig struct {
	PeerID string `json:"peer_id"`
}

// APIConfig configures the local HTTP API.
type APIConfig struct {
	// Address is host:port; the host must be a loopback address because the
	// API can read and write the user's files.
	Address string `json:"address"`
	// MetricsWithoutToken serves /metrics without the API token, for a
	// local Prometheus that cannot send one (it shows what the node
	// transfers and with how many peers; off by default).
	MetricsWithoutToken bool `json:"metrics_without_token"`
}

// NetworkConfig configures how the node reaches and is reached by peers.
type NetworkConfig struct {
	// ListenAddrs are multiaddrs to listen on (TCP and QUIC, IPv4 and IPv6).
	// Port 0 is the port of the last run when it is free (the repo's
	// listened.json remembers it: peers find the node where they last saw
	// it), else one the system picks.
	ListenAddrs []string `json:"listen_addrs"`
	// AnnounceAddrs are addresses at which peers on the internet reach
	// this node that it cannot find by itself, given out with the others
	// (Kubo's Addresses.AppendAnnounce): a port the router forwards from
	// another port outside (/ip4/203.0.113.7/tcp/40000 to 4101 inside),
	// with 0.0.0.0 for the public IPv4 address peers see when it changes
	// (/ip4/0.0.0.0/udp/40000/quic-v1), or a name
	// (/dns4/home.example.org/tcp/4101). Peers dial an IP one back, and
	// one they cannot reach is given out no more (`kith doctor`).
	AnnounceAddrs []string `json:"announce_addrs"`
	// Bootstrap peers (multiaddrs ending in /p2p/ID) to join the DHT through.
	// A new repo starts with the public IPFS (Amino) bootstrap peers, as
	// Kubo does; for a closed network, list your own peers here and set
	// dht.protocol_prefix to a prefix of your own.
	Bootstrap []string `json:"bootstrap"`
	// MDNS finds kith peers on the local network with no configuration.
	MDNS bool `json:"mdns"`
	// PortMapping asks the home router (UPnP / NAT-PMP) to forward the port.
	PortMapping bool `json:"port_mapping"`
	// AutoNAT lets peers tell this node whether it is publicly reachable
	// (AutoNAT v2: each address is confirmed by a dial back), and lets
	// this node answer such questions for others.
	AutoNAT bool `json:"autonat"`
	// Reachability is "auto" (AutoNAT decides), or "public" / "private" to
	// skip the test, e.g. "public" on a server known to be reachable.
	Reachability string `json:"reachability"`
	// HolePunching connects two nodes behind NATs directly (DCUtR).
	HolePunching bool `json:"hole_punching"`
	// RelayClient reserves a slot on a public relay when the node is not
	// reachable, so others can still reach it (and hole punch from there).
	RelayClient bool `json:"relay_client"`
	// RelayService offers, while this node is publicly reachable, the
	// limited relay every public IPFS node offers (2 minutes and 128 KiB
	// per circuit: enough to start a hole punch, never a file transfer).
	RelayService bool `json:"relay_service"`
	// GroupRelay offers, while this node is publicly reachable, a relay
	// without limits to the members of its groups, so members behind NATs
	// that hole punching cannot cross still reach each other through it.
	GroupRelay bool `json:"group_relay"`
	// ConnLow and ConnHigh bound the connection manager: above ConnHigh it
	// trims connections down to ConnLow, sparing peers in active use.
	ConnLow  int `json:"conn_low"`
	ConnHigh int `json:"conn_high"`
	// MaxMemoryMiB and MaxFileDescriptors cap what libp2p may use in all
	// (the resource manager scales its per-peer limits from these).
	MaxMemoryMiB       int `json:"max_memory_mib"`
	MaxFileDescriptors int `json:"max_file_descriptors"`

	// gater, if set, vets every connection the host dials or accepts. It is
	// for tests only (set through Options.Configure, to cut nodes apart and
	// join them again); unexported, it is never read from or written to the
	// config file, so a daemon always runs without one.
	gater connmgr.ConnectionGater
}

// DHTConfig configures Kademlia discovery.
type DHTConfig struct {
	// ProtocolPrefix names the DHT to join: "/ipfs" is IPFS's public Amino
	// DHT (thousands of peers, relays and AutoNAT servers); any other
	// prefix (for example "/kith") forms a closed network of the peers that
	// use it, joined through network.bootstrap.
	ProtocolPrefix string `json:"protocol_prefix"`
	// Dual runs a WAN DHT (public addresses only) and a LAN DHT (private
	// addresses), as Kubo does, so peers on one LAN find each other without
	// the internet. Off, one DHT takes every address (loopback tests).
	Dual bool `json:"dual"`
	// Announce tells the DHT about content you add or pin, so others can
	// find it by CID alone (as IPFS does). Off, content is found only by
	// peers given a ticket, by group members and by peers already
	// connected. `kith add --private` turns it off for one add. Copies
	// that a group places are never announced.
	Announce bool `json:"announce"`
	// Mode is "auto" (server when publicly reachable, else client),
	// "server" or "client".
	Mode string `json:"mode"`
	// ReprovideInterval is how often provider records are renewed.
	ReprovideInterval Duration `json:"reprovide_interval"`
	// DelegatedRouters are asked who provides a CID, beside the DHT, over
	// the Delegated Routing V1 HTTP API (Kubo's Routing.DelegatedRouters):
	// https://cid.contact, IPNI's indexer, by default, as Kubo asks it, so
	// content that pinning services and storage providers announce only
	// there is found too. Every CID a fetch looks for in the DHT is asked
	// for there as well; [] asks the DHT only (the local profile, and a
	// closed network).
	DelegatedRouters []string `json:"delegated_routers"`
}

// FetchConfig configures block transfers. UploadLimit, DownloadLimit and
// CacheMax change while the daemon runs (liveconfig.go).
type FetchConfig struct {
	// UploadLimit caps the bytes per second served to peers, over
	// /kith/fetch and Bitswap together (0: no cap).
	UploadLimit int64 `json:"upload_limit"`
	// DownloadLimit caps the bytes per second received from peers by
	// every fetch together (gets, pins, group copies, followed folders,
	// reads), over /kith/fetch and Bitswap (0: no cap; else at least
	// MinDownloadLimit).
	DownloadLimit int64 `json:"download_limit"`
	// Bitswap exchanges blocks with IPFS nodes (Kubo and others) over
	// IPFS's Bitswap protocol: it serves them what this node holds, and
	// fetches from providers that do not speak kith's own protocol.
	Bitswap bool `json:"bitswap"`
	// HTTPProviders fetches from HTTP providers: trustless gateways that
	// pinning services and storage providers announce to the delegated
	// routers (dht.delegated_routers), over HTTPS, each block checked
	// against its CID, as Kubo's HTTPRetrieval. Only hosts at public
	// addresses are asked.
	HTTPProviders bool `json:"http_providers"`

	// httpTrust, if set, is how HTTP providers are asked: for tests only
	// (a provider on 127.0.0.1 with a certificate of the test's; set
	// through Options.Configure). Unexported, it is never read from or
	// written to the config file, so a daemon always asks public hosts
	// with the system's certificate authorities.
	httpTrust *trustless.Options
	// CacheMax bounds what finished `kith get`s, followed folders and
	// reads (`kith cat`, the gateway) leave in the repo (unpinned blocks:
	// the same content again at once, and served to peers); beyond it the
	// oldest downloads' blocks are removed, never their copies written out
	// (0: none kept). See getcache.go.
	CacheMax int64 `json:"cache_max"`
}

// Duration is a time.Duration written as "22h0m0s" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig is the configuration a new repo starts with: a laptop on
// a home network.
func DefaultConfig() Config {
	port := fmt.Sprint(DefaultP2PPort)
	return Config{
		API: APIConfig{Address: DefaultAPIAddress},
		Network: NetworkConfig{
			ListenAddrs: []string{
				"/ip4/0.0.0.0/tcp/" + port,
				"/ip4/0.0.0.0/udp/" + port + "/quic-v1",
				"/ip6/::/tcp/" + port,
				"/ip6/::/udp/" + port + "/quic-v1",
			},
			AnnounceAddrs:      []string{},
			Bootstrap:          DefaultBootstrap(),
			MDNS:               true,
			PortMapping:        true,
			AutoNAT:            true,
			Reachability:       "auto",
			HolePunching:       true,
			RelayClient:        true,
			RelayService:       true,
			GroupRelay:         true,
			ConnLow:            32,
			ConnHigh:           96,
			MaxMemoryMiB:       512,
			MaxFileDescriptors: 1024,
		},
		DHT: DHTConfig{ProtocolPrefix: "/ipfs", Dual: true, Announce: true,
			Mode: "auto", ReprovideInterval: Duration(22 * time.Hour),
			DelegatedRouters: DefaultDelegatedRouters()},
		Fetch:  FetchConfig{Bitswap: true, HTTPProviders: true, CacheMax: DefaultCacheMax},
		Groups: DefaultGroupsConfig(),
		Names:  NamesConfig{DNSResolvers: defaultDNSResolvers(), DelegatedRouters: DefaultNameRouters()},
	}
}

// LocalConfig is a preset for tests and for trying several daemons on one
// machine: it listens on 127.0.0.1 only (random ports), dials no public
// bootstrap peer, never multicasts (no mDNS), never talks to a router (no
// port mapping), and runs one DHT (loopback addresses are neither WAN nor
// LAN to the dual DHT's filters) in server mode, since loopback nodes are
// never "publicly reachable".
func LocalConfig() Config {
	c := DefaultConfig()
	c.API.Address = "127.0.0.1:0"
	c.Network.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	c.Network.Bootstrap = []string{}
	stayLocal(&c)
	return c
}

// stayLocal turns off everything of c that reaches beyond the machine or
// needs a public address: mDNS, port mapping, AutoNAT, hole punching,
// relays, announce addresses, and the dual DHT (one DHT in server mode
// instead).
func stayLocal(c *Config) {
	if len(c.Network.AnnounceAddrs) > 0 {
		c.Network.AnnounceAddrs = []string{}
	}
	c.Network.MDNS = false
	c.Network.PortMapping = false
	c.Network.AutoNAT = false
	c.Network.HolePunching = false
	c.Network.RelayClient = false
	c.Network.RelayService = false
	c.Network.GroupRelay = false
	c.DHT.Dual = false
	c.DHT.Mode = "server"
	c.DHT.DelegatedRouters = []string{}
	c.Names.DelegatedRouters = []string{}
}

// LocalOverlay narrows an existing repo's config to what the local
// profile allows, for one run (`kith daemon --profile local` on a repo
// made with the default profile): listen addresses and bootstrap peers
// that are not loopback are dropped (the local profile's listen addresses
// replace them if none is left), announce addresses too, and mDNS, port
// mapping, AutoNAT, hole punching, relays and the dual DHT are off. The
// API and everything else stay as configured.
func LocalOverlay(c *Config) {
	c.Network.ListenAddrs = loopbackOnly(c.Network.ListenAddrs)
	if len(c.Network.ListenAddrs) == 0 {
		c.Network.ListenAddrs = LocalConfig().Network.ListenAddrs
	}
	c.Network.Bootstrap = loopbackOnly(c.Network.Bootstrap)
	stayLocal(c)
}

// isLocal reports whether c already stays on the machine as the local
// profile does (LocalOverlay changes nothing of its network).
func isLocal(c Config) bool {
	o := c
	LocalOverlay(&o)
	return reflect.DeepEqual(c.Network, o.Network) && reflect.DeepEqual(c.DHT, o.DHT)
}

// loopbackOnly keeps the multiaddrs whose IP is a loopback address.
func loopbackOnly(addrs []string) []string {
	out := []string{}
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		if ip, err := manet.ToIP(a); err == nil && ip.IsLoopback() {
			out = append(out, s)
		}
	}
	return out
}

// DefaultBootstrap is the public Amino DHT's bootstrap list (kad-dht's,
// as Kubo uses).
func DefaultBootstrap() []string {
	var out []string
	for _, a := range kaddht.DefaultBootstrapPeers {
		out = append(out, a.String())
	}
	return out
}

// DefaultDelegatedRouters is where a new repo on the public network asks
// for providers beside the DHT: IPNI's indexer, as Kubo asks.
func DefaultDelegatedRouters() []string {
	return []string{"https://cid.contact"}
}

// Profiles are the named presets `kith daemon --profile` accepts for a new repo.
var Profiles = map[string]func() Config{
	"default": DefaultConfig,
	"local":   LocalConfig,
}

// loadConfig reads the config file, filling fields it lacks with
// defaults, and validates it.
func loadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultConfig(), fmt.Errorf("read config %s: %w", path, err)
	}
	cfg, err := decodeConfig(b)
	if err != nil {
		return cfg, fmt.Errorf("config %s is not valid JSON: %w", path, err)
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// decodeConfig reads a config file's bytes as the daemon means them:
// DefaultConfig for what the file lacks, and an older kith's file upgraded.
func decodeConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, err
	}
	upgradeConfig(b, &cfg)
	return cfg, nil
}

// upgradeConfig keeps a config written by an older kith meaning what it
// meant: before the public DHT became the default, kith peers formed a
// closed network on /kith/kad/1.0.0 with one DHT and no bootstrap peers.
// A file without dht.protocol_prefix is such a config; it stays on that
// network (kith doctor says how to join the public one).
func upgradeConfig(raw []byte, cfg *Config) {
	var probe struct {
		Network map[string]json.RawMessage `json:"network"`
		DHT     map[string]json.RawMessage `json:"dht"`
		Names   map[string]json.RawMessage `json:"names"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.DHT == nil {
		return
	}
	if _, ok := probe.DHT["delegated_routers"]; !ok {
		defer keepToItself(cfg, &cfg.DHT.DelegatedRouters)
	}
	if _, ok := probe.Names["delegated_routers"]; !ok {
		defer keepToItself(cfg, &cfg.Names.DelegatedRouters)
	}
	if _, ok := probe.DHT["protocol_prefix"]; ok {
		return
	}
	cfg.DHT.ProtocolPrefix = "/kith"
	if _, ok := probe.DHT["dual"]; !ok {
		cfg.DHT.Dual = false
	}
	if _, ok := probe.Network["bootstrap"]; !ok {
		cfg.Network.Bootstrap = []string{} // the old default: no public peers
	}
}

// keepToItself upgrades a config written before a list of delegated
// routers (dht.delegated_routers, names.delegated_routers), routers: a
// node that stays on the machine (the local profile's config) or on a
// closed network (another DHT than the public one) asks no router, so no
// CID or name it looks for leaves for a server it never named.
func keepToItself(cfg *Config, routers *[]string) {
	o := *cfg
	o.DHT.DelegatedRouters = []string{}
	if cfg.DHT.ProtocolPrefix != "/ipfs" || isLocal(o) {
		*routers = []string{}
	}
}

// writeConfig writes cfg atomically (temp file, fsync, rename).
func writeConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// writeFileAtomic replaces path with data so a crash leaves the old or the
// new file, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.Write(path, data, mode)
}
