package node

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/web/api"
)

// Validate checks that the daemon can run with c, naming the first
// setting it cannot use and what it takes. Loading a config and `kith
// config set` both call it, so a file that `set` wrote always loads. The
// error wraps api.ErrInvalid.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	return nil
}

func (c Config) validate() error {
	if err := validateAPIAddress(c.API.Address); err != nil {
		return err
	}
	n := c.Network
	for _, s := range n.ListenAddrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return fmt.Errorf("network.listen_addrs: %q is not a multiaddr (for example /ip4/0.0.0.0/tcp/%d)", s, DefaultP2PPort)
		}
		_, tcpErr := a.ValueForProtocol(ma.P_TCP)
		_, quicErr := a.ValueForProtocol(ma.P_QUIC_V1)
		if tcpErr != nil && quicErr != nil {
			return fmt.Errorf("network.listen_addrs: %q is neither TCP nor QUIC (for example /ip4/0.0.0.0/tcp/%d or /ip4/0.0.0.0/udp/%d/quic-v1)", s, DefaultP2PPort, DefaultP2PPort)
		}
	}
	for _, s := range n.AnnounceAddrs {
		if err := validateAnnounce(s); err != nil {
			return err
		}
	}
	for _, s := range n.Bootstrap {
		if _, err := peer.AddrInfoFromString(s); err != nil {
			return fmt.Errorf("network.bootstrap: %q is not a multiaddr ending in /p2p/ID (`kith id` prints a peer's addresses)", s)
		}
	}
	switch n.Reachability {
	case "auto", "public", "private":
	default:
		return fmt.Errorf("network.reachability %q is not auto, public or private", n.Reachability)
	}
	switch {
	case n.ConnLow < 0:
		return fmt.Errorf("network.conn_low %d is negative", n.ConnLow)
	case n.ConnHigh < 1:
		return fmt.Errorf("network.conn_high %d must be at least 1", n.ConnHigh)
	case n.ConnLow > n.ConnHigh:
		return fmt.Errorf("network.conn_low (%d) is above network.conn_high (%d): connections are trimmed from high down to low", n.ConnLow, n.ConnHigh)
	case n.MaxMemoryMiB < 1:
		return fmt.Errorf("network.max_memory_mib %d must be at least 1", n.MaxMemoryMiB)
	case n.MaxFileDescriptors < 1:
		return fmt.Errorf("network.max_file_descriptors %d must be at least 1", n.MaxFileDescriptors)
	}
	d := c.DHT
	if !strings.HasPrefix(d.ProtocolPrefix, "/") {
		return fmt.Errorf("dht.protocol_prefix %q must start with / (\"/ipfs\" joins the public IPFS DHT)", d.ProtocolPrefix)
	}
	switch d.Mode {
	case "auto", "server", "client":
	default:
		return fmt.Errorf("dht.mode %q is not auto, server or client", d.Mode)
	}
	if err := positive("dht.reprovide_interval", d.ReprovideInterval); err != nil {
		return err
	}
	if m := dht.MaxReprovideInterval(); time.Duration(d.ReprovideInterval) > m {
		return fmt.Errorf("dht.reprovide_interval %s is above %s: provider records would expire between two announcements", time.Duration(d.ReprovideInterval), m)
	}
	for i, u := range d.DelegatedRouters {
		if err := delegated.Check(u); err != nil {
			return fmt.Errorf("dht.delegated_routers: %w", err)
		}
		if slices.Contains(d.DelegatedRouters[:i], u) {
			return fmt.Errorf("dht.delegated_routers lists %s twice", u)
		}
	}
	if c.Fetch.UploadLimit < 0 {
		return fmt.Errorf("fetch.upload_limit %d is negative (0: no cap)", c.Fetch.UploadLimit)
	}
	if l := c.Fetch.DownloadLimit; l < 0 {
		return fmt.Errorf("fetch.download_limit %d is negative (0: no cap)", l)
	} else if l > 0 && l < MinDownloadLimit {
		return fmt.Errorf("fetch.download_limit %s is below the lowest cap, %s per second (0: no cap)", humanize.IBytes(uint64(l)), humanize.IBytes(MinDownloadLimit))
	}
	if c.Fetch.CacheMax < 0 {
		return fmt.Errorf("fetch.cache_max %d is negative (0: keep nothing a download fetched)", c.Fetch.CacheMax)
	}
	g := c.Groups
	for _, t := range []struct {
		key string
		d   Duration
	}{
		{"groups.heartbeat_interval", g.HeartbeatInterval},
		{"groups.grace", g.Grace},
		{"groups.release_delay", g.ReleaseDelay},
		{"groups.sync_interval", g.SyncInterval},
		{"groups.tombstone_horizon", g.TombstoneHorizon},
		{"groups.watch_interval", g.WatchInterval},
	} {
		if err := positive(t.key, t.d); err != nil {
			return err
		}
	}
	switch {
	case g.BudgetPercent < 0 || g.BudgetPercent > 100:
		return fmt.Errorf("groups.budget_percent %d is not a percentage from 0 (keep no copies for the groups) to 100", g.BudgetPercent)
	case g.BudgetMax < 0:
		return fmt.Errorf("groups.budget_max %d is negative (0: no cap)", g.BudgetMax)
	case g.FetchConcurrency < 1:
		return fmt.Errorf("groups.fetch_concurrency %d must be at least 1", g.FetchConcurrency)
	}
	for i, u := range c.Names.DelegatedRouters {
		if err := delegated.Check(u); err != nil {
			return fmt.Errorf("names.delegated_routers: %w", err)
		}
		if slices.Contains(c.Names.DelegatedRouters[:i], u) {
			return fmt.Errorf("names.delegated_routers lists %s twice", u)
		}
	}
	if _, err := parseDNSResolvers(c.Names.DNSResolvers); err != nil {
		return err
	}
	return nil
}

// validateAPIAddress checks what web.Listen will accept: host:port on a
// loopback address, since the API reads and writes the user's files.
func validateAPIAddress(addr string) error {
	if addr == "" {
		return fmt.Errorf("api.address is empty (the default is %s)", DefaultAPIAddress)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("api.address %q is not host:port (for example %s)", addr, DefaultAPIAddress)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("api.address %q is not on this computer only: the API listens on a loopback address (127.0.0.1, ::1 or localhost), since it can read and write your files", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("api.address %q: the port must be a number from 0 to 65535 (0 picks a free one)", addr)
	}
	return nil
}

func positive(key string, d Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %s must be longer than zero", key, time.Duration(d))
	}
	return nil
}
