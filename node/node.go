package node

import (
	"context"
	"errors"
	"fmt"
	"github.com/ipfs/boxo/namesys"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/peering"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	routedhost "github.com/libp2p/go-libp2p/p2p/host/routed"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/dht"
	"github.com/kith-p2p/kith/dht/delegated"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/node/reach"
	"github.com/kith-p2p/kith/node/relaysvc"
	"github.com/kith-p2p/kith/node/watch"
	"github.com/kith-p2p/kith/protocol/bitswap"
	"github.com/kith-p2p/kith/protocol/code"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web"
	"github.com/kith-p2p/kith/web/api"
)

// mdnsService is the name kith advertises on the LAN; distinct from IPFS's
// so kith nodes find each other and nothing else.
const mdnsService = "_kith._udp"

// Options say which repo a node opens and what overrides its config.
type Options struct {
	// Repo is the repo folder; empty means DefaultRepoPath().
	Repo string
	// Profile names the preset a new repo's config starts from ("default",
	// the same as empty, or "local"). On an existing repo, "local" narrows
	// this run to loopback (see LocalOverlay) and "default" is refused:
	// the repo's config.json decides.
	Profile string
	// APIAddress overrides the config's api.address when not empty
	// (tests use 127.0.0.1:0).
	APIAddress string
	// FreePorts has this run listen on free ports where the configured
	// ones are in use, rather than fail (a daemon started for one command).
	FreePorts bool
	// Configure, if set, adjusts the loaded config for this run only
	// (tests shorten intervals); the file is not changed.
	Configure func(*Config)
	// Logger receives the node's log; nil means slog.Default().
	Logger *slog.Logger
	// LogFile is the file Logger writes to, if any (see OpenDaemonLog),
	// which `kith doctor` names.
	LogFile string
	// DiskReserve is the free space block writes leave on the repo's disk
	// (0: blockstore.DefaultReserve); tests raise it to play a full disk.
	DiskReserve int64
}

// Node is one kith peer. New opens it, Start serves it, Close stops it.
type Node struct {
	log           *slog.Logger
	trim          *memTrimmer
	getCache      getCache     // finished gets whose blocks the repo keeps (getcache.go)
	mirrorFetched fetchedBytes // what followed folders fetched of the versions they write
	repo          *repo
	cfg           Config
	store         *blockstore.BadgerStore
	gcl           *blockstore.GCLocker
	reg           *prometheus.Registry
	bw            *metrics.BandwidthCounter
	history       statsHistory // the last two minutes of traffic, for the UI's chart
	host          host.Host
	dht           *dht.DHT
	delegated     *delegated.Routers // dht.delegated_routers (providers.go)
	httpProviders *httpProviders     // fetch.http_providers (httpproviders.go); nil when off
	nameStore     nameRouting        // where names are looked up and published (names_routing.go)
	names         namesys.NameSystem // IPNS names and DNSLink domains (names.go)
	republishSoon chan struct{}      // a publish failed: republishLoop tries again soon
	server        *fetch.Server
	bitswap       *bitswap.Exchange // nil when fetch.bitswap is off
	fetcher       *fetch.Fetcher
	local         string                  // localRun, localRepo: kept on this machine (doctor)
	demand        *demandStore            // the repo plus what peers hold, for the gateway
	gateway       *gatewayBackend         // what the web gateway serves
	tracker       *reach.Tracker          // reachability, NAT type, hole punches
	addrs         *addrFilter             // what the host advertises
	relaySvc      *relaysvc.Service       // the relays this node offers when public
	groupRes      *relaysvc.Reservations  // our reservations on group members' relays
	peering       *peering.PeeringService // keeps group members and ticket peers connected
	keep          keepSet
	ticketMisses  ticketMisses
	protoProbes   probeTimes // see confirmProtocol
	connBytes     *connCounter
	ifaceIPs      map[string]bool // interface IPs at the last check (watchNetwork only)
	rejoining     atomic.Bool     // a rejoin of a node left without DHT peers is running
	rejoin        chan struct{}
	groupRelayNow chan struct{}
	mdns          mdns.Service
	api           *web.Server
	apiAt         string // the config's (or overridden) API address
	logFile       string // where the log goes besides stderr ("" if nowhere)
	jobs          *jobRegistry
	dropWait      time.Duration  // a get's or pin add's wait for peers that went away (defaultDropWait)
	dhtPeerWait   time.Duration  // a name's wait for a first DHT peer (defaultDHTPeerWait)
	groupWatch    groupWatchers  // who to tell when what the groups show changed
	uploads       *uploadTracker // what peers download from us
	stopFetched   func()         // ends the fetch.FetchedID handler
	codes         codeBook       // the short codes open now (codes.go)
	stopCodes     func()         // ends the code protocol's handler
	groups        *groupSet      // group replication; nil until Start
	// groupsReady is groups for code that may run on libp2p's goroutines
	// before Start (the relay service, the dial gater).
	groupsReady atomic.Pointer[groupSet]
	watcher     *watch.Watcher  // folders shared with --watch; nil until Start
	mirrors     *mirror.Mirrors // folders following a group's share (get --follow); nil until Start
	adds        *addIndex       // the last add of each path, reused by the next

	// The settings that change while the daemon runs (liveconfig.go):
	// fetch.upload_limit, fetch.download_limit and fetch.cache_max; the
	// space offered to groups (groups.budget_percent and budget_max, in
	// budget once changed: n.cfg's until then).
	upload, download *rate.Limiter
	cacheMax         atomic.Int64
	budget           atomic.Pointer[GroupsConfig]

	ctx    context.Context // lives until Close; background work hangs off it
	cancel context.CancelFunc
	bg     sync.WaitGroup
	// bgMu orders background's Add with Close's Wait (bgClosed).
	bgMu     sync.Mutex
	bgClosed bool

	serveErr  chan error
	stop      chan struct{} // closed when a client asks for shutdown
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New opens the repo (creating it on first use), the block store and the
// libp2p host with its DHT and protocols. If it fails, nothing it opened
// stays open.
func New(opts Options) (n *Node, err error) {
	dir, err := resolveRepoDir(opts.Repo)
	if err != nil {
		return nil, err
	}
	profile := DefaultConfig
	if opts.Profile != "" {
		p, ok := Profiles[opts.Profile]
		if !ok {
			return nil, fmt.Errorf("unknown profile %q (use default or local): %w", opts.Profile, api.ErrInvalid)
		}
		profile = p
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = &Node{
		log:           log,
		adds:          newAddIndex(dir, log),
		logFile:       opts.LogFile,
		gcl:           blockstore.NewGCLocker(),
		dropWait:      defaultDropWait,
		dhtPeerWait:   defaultDHTPeerWait,
		reg:           prometheus.NewRegistry(),
		bw:            metrics.NewBandwidthCounter(),
		ctx:           ctx,
		cancel:        cancel,
		serveErr:      make(chan error, 1),
		stop:          make(chan struct{}),
		rejoin:        make(chan struct{}, 1),
		groupRelayNow: make(chan struct{}, 1),
		republishSoon: make(chan struct{}, 1),
	}
	n.jobs = newJobRegistry(n)
	n.trim = newMemTrimmer(func() error {
		if n.store == nil {
			return nil
		}
		return n.store.ReleaseMemory()
	})
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()
	if n.repo, err = openRepo(dir, profile); err != nil {
		return n, err
	}
	n.cfg = n.repo.cfg
	repoLocal := isLocal(n.cfg)
	if !n.repo.created {
		switch opts.Profile {
		case "local":
			if repoLocal {
				break // a repo made with the local profile
			}
			LocalOverlay(&n.cfg)
			log.Info("profile local applies to this run: loopback only, no mDNS, no port mapping, no public bootstrap peers (config.json is unchanged)")
		case "default":
			return n, fmt.Errorf("repo %s already exists and its config.json decides how it joins the network; --profile default only seeds a new repo (drop the flag, or use --profile local to keep this run on 127.0.0.1): %w", dir, api.ErrInvalid)
		}
	}
	if opts.Configure != nil {
		opts.Configure(&n.cfg)
	}
	switch {
	case !isLocal(n.cfg):
	case repoLocal:
		n.local = localRepo
	default:
		n.local = localRun
	}
	n.apiAt = n.cfg.API.Address
	if opts.APIAddress != "" {
		n.apiAt = opts.APIAddress
	}
	var storeOpts []blockstore.BadgerOption
	if opts.DiskReserve > 0 {
		storeOpts = append(storeOpts, blockstore.WithReserve(opts.DiskReserve))
	}
	if n.store, err = blockstore.OpenBadger(filepath.Join(dir, blocksDir), storeOpts...); err != nil {
		return n, fmt.Errorf("open block store in %s: %w", dir, err)
	}
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.tracker = reach.NewTracker(reach.Options{
		Forced:   fixedReachability(n.cfg.Network),
		OnChange: n.reachabilityChanged,
	})
	n.addrs = &addrFilter{reach: n.tracker, ports: &portMapper{publicIP: n.tracker.PublicIPv4}}
	gater := &groupPathGater{test: n.cfg.Network.gater}
	netCfg := n.cfg.Network
	if opts.FreePorts {
		netCfg.ListenAddrs = freePorts(netCfg.ListenAddrs)
	}
	netCfg.ListenAddrs = stickyPorts(netCfg.ListenAddrs, loadListened(dir))
	if n.host, err = newHost(netCfg, n.repo.key, n.bw, n.reg, n.relayCandidates, n.tracker, n.addrs, gater); err != nil {
		return n, err
	}
	if err := saveListened(dir, n.host.Network().ListenAddresses()); err != nil {
		n.log.Warn("the next run may listen on other ports", "err", err)
	}
	n.relaySvc = relaysvc.New(n.host, relaysvc.Options{
		Public: n.cfg.Network.RelayService, Groups: n.cfg.Network.GroupRelay, Members: memberIndex{n}})
	n.groupRes = relaysvc.NewReservations(n.host)
	extras := n.groupRes.Addrs
	n.addrs.extras.Store(&extras)
	// kith's protocols (the DHT, fetch, groups) see a host that counts
	// their bytes per connection (kith peers).
	n.connBytes = newConnCounter(n.host.Network())
	n.host = countingHost{Host: n.host, c: n.connBytes}
	if n.dht, err = newDHT(ctx, n.host, n.cfg, n.store.Datastore()); err != nil {
		return n, err
	}
	if err := n.startRouters(); err != nil {
		return n, err
	}
	if n.names, err = newNames(n.nameStore, n.namesStore(), n.cfg.Names); err != nil {
		return n, err
	}
	n.withdrawStaleCodes(ctx)
	if err := n.tracker.Start(n.host); err != nil {
		return n, fmt.Errorf("watch reachability: %w", err)
	}
	// From here on, a dial to a peer whose addresses are unknown or stale
	// asks the DHT where it is now.
	n.host = routedhost.Wrap(n.host, n.dht.Routing())
	n.peering = peering.NewPeeringService(n.host)
	gater.node.Store(n)
	fm := fetch.NewMetrics(n.reg)
	// One upload cap for /kith/fetch and Bitswap together, one download
	// cap for every fetch; both change live (ApplyConfig).
	n.upload = fetch.NewUploadLimiter(n.cfg.Fetch.UploadLimit)
	n.download = fetch.NewDownloadLimiter(n.cfg.Fetch.DownloadLimit)
	n.cacheMax.Store(n.cfg.Fetch.CacheMax)
	n.uploads = newUploadTracker(n.isPinnedRoot)
	n.uploads.sent = n.trim.served
	n.server = fetch.NewServer(n.host, n.store, fetch.WithServerMetrics(fm), fetch.WithUploadLimiter(n.upload),
		fetch.WithServeObserver(n.uploads.observer(protoKith)))
	n.stopFetched = fetch.HandleFetched(n.host, n.uploads.fetched)
	n.stopCodes = code.Serve(n.host, n.answerCode)
	fopts := []fetch.FetcherOption{fetch.WithFetcherMetrics(fm), fetch.WithConnect(n.connectProvider),
		fetch.WithDownloadLimiter(n.download)}
	ex := exchanges{http: n.httpProviders}
	if n.cfg.Fetch.Bitswap {
		n.bitswap = bitswap.New(n.host, n.store, bitswap.WithUploadLimiter(n.upload), bitswap.WithMetrics(bitswap.NewMetrics(n.reg)),
			bitswap.WithServeObserver(n.uploads.observer(protoBitswap)))
		ex.bs = n.bitswap
	}
	if ex.bs != nil || ex.http != nil {
		fopts = append(fopts, fetch.WithBitswap(ex))
	}
	n.fetcher = fetch.NewFetcher(n.host, n.store, fopts...)
	sources := []BlockSource{newKithSource(n)}
	if ex.bs != nil || ex.http != nil {
		sources = append(sources, newBitswapSource(n, ex))
	}
	n.demand = newDemandStore(n.store, n.gcl, n.reg, sources...)
	n.demand.reads.done = n.readEnded
	if n.gateway, err = newGatewayBackend(n); err != nil {
		return n, err
	}
	n.gateway.patience = func() *readPatience { return n.readPatience("gateway") }
	n.reg.MustRegister(newNetCollector(n))
	return n, nil
}

// Start joins the network (bootstrap, mDNS, announcing pinned content) and
// serves the local API, publishing its address in the repo so local
// clients find it.
func (n *Node) Start(ctx context.Context) error {
	if err := n.startGroups(); err != nil { // before the API serves group calls
		n.log.Warn("group replication is off", "err", err)
	}
	if err := n.startWatches(); err != nil {
		n.log.Warn("watched folders are not followed", "err", err)
	}
	if err := n.startMirrors(); err != nil {
		n.log.Warn("mirrored folders are not followed", "err", err)
	}
	webOpts := []web.Option{web.WithMetrics(n.reg)}
	if n.cfg.API.MetricsWithoutToken {
		webOpts = append(webOpts, web.WithOpenMetrics())
	}
	srv, err := web.Listen(n.apiAt, n, n.repo.token, webOpts...)
	if err != nil {
		return err
	}
	n.api = srv
	if err := writeFileAtomic(filepath.Join(n.repo.dir, api.APIFile), []byte(srv.Addr()+"\n"), 0o600); err != nil {
		_ = srv.Shutdown(ctx)
		n.api = nil
		return err
	}
	go func() { n.serveErr <- srv.Serve() }()
	if n.cfg.Network.MDNS {
		n.mdns = mdns.NewMdnsService(n.host, mdnsService, &mdnsNotifee{n: n})
		if err := n.mdns.Start(); err != nil {
			n.log.Warn("mDNS discovery is off", "err", err)
			n.mdns = nil
		}
	}
	n.background(n.joinNetwork)
	if st := n.tracker.Status(); st.Forced {
		n.reachabilityChanged(st.Reachability)
	}
	n.background(n.watchNetwork)
	n.background(n.punchLoop)
	n.background(n.recordStats)
	n.background(n.repairLoop)
	n.background(n.republishLoop)
	n.background(func(ctx context.Context) { n.trimCache(ctx, nil) }) // a limit lowered since the last run
	n.host.Network().Notify(&network.NotifyBundle{ConnectedF: func(nw network.Network, c network.Conn) {
		go n.dropStaleDirect(nw, c) // not on libp2p's notification goroutine
	}})
	if err := n.peering.Start(); err != nil {
		n.log.Warn("peering is off", "err", err)
	} else {
		n.background(n.peeringLoop)
	}
	if n.cfg.Network.RelayClient {
		n.background(n.groupRelayLoop)
	}
	n.jobs.resume()
	n.log.Info("kith daemon ready", "peer", n.host.ID().String(), "api", "http://"+srv.Addr(), "repo", n.repo.dir, "web_ui", "run `kith ui` to open it signed in")
	return nil
}

// background runs fn on the node's context; Close waits for it. Once
// Close began, fn is not run: work that a request's end starts (a
// download listed in the cache) may come in while the node stops.
func (n *Node) background(fn func(ctx context.Context)) {
	n.bgMu.Lock()
	defer n.bgMu.Unlock()
	if n.bgClosed {
		return
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		fn(n.ctx)
	}()
}

// APIAddr is the address the API listens on (after Start).
func (n *Node) APIAddr() string {
	if n.api == nil {
		return ""
	}
	return n.api.Addr()
}

// APIIdle is how long the API has answered no request (0 while it
// answers one, or before Start).
func (n *Node) APIIdle() time.Duration {
	if n.api == nil {
		return 0
	}
	return n.api.Idle()
}

// Host is the node's libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Token is the API token local clients must send.
func (n *Node) Token() string { return n.repo.token }

// RepoDir is the repo folder.
func (n *Node) RepoDir() string { return n.repo.dir }

// Stopped is closed when a client asked the daemon to shut down.
func (n *Node) Stopped() <-chan struct{} { return n.stop }

// ServeErr delivers an error if the API server stops unexpectedly.
func (n *Node) ServeErr() <-chan error { return n.serveErr }

// Close stops the API (cancelling running requests), background work,
// discovery, protocols, the DHT and the host, then closes the store and
// releases the repo. It is safe to call twice and on a half-built node.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.api != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = n.api.Shutdown(ctx)
			cancel()
			<-n.serveErr
			_ = os.Remove(filepath.Join(n.repo.dir, api.APIFile))
		}
		n.bgMu.Lock()
		n.bgClosed = true
		n.bgMu.Unlock()
		n.cancel()
		n.bg.Wait()
		n.trim.close()
		if n.mdns != nil {
			_ = n.mdns.Close()
		}
		if n.server != nil {
			n.server.Close()
			n.stopFetched()
			n.stopCodes()
		}
		if n.bitswap != nil {
			_ = n.bitswap.Close()
		}
		if n.httpProviders != nil {
			n.httpProviders.c.Close()
		}
		if n.dht != nil {
			if err := n.dht.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close DHT: %w", err))
			}
		}
		if n.peering != nil {
			n.peering.Stop()
		}
		if n.relaySvc != nil {
			n.relaySvc.Close()
		}
		if n.tracker != nil {
			n.tracker.Close()
		}
		// Last before the host: the groups' goodbyes (sent as their loops
		// ended, above) are on their way out meanwhile.
		n.closeGroups()
		if n.host != nil {
			if err := n.host.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close libp2p host: %w", err))
			}
		}
		if n.store != nil {
			if err := n.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close block store: %w", err))
			}
		}
		if n.repo != nil {
			if err := n.repo.close(); err != nil {
				errs = append(errs, fmt.Errorf("release repo lock: %w", err))
			}
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
