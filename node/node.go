package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web"
	"github.com/kith-p2p/kith/web/api"
)

// Version is kith's version, set at build time with -ldflags "-X ...".
var Version = "0.1.0-dev"

// Options say which repo a node opens and what overrides its config.
type Options struct {
	// Repo is the repo folder; empty means DefaultRepoPath().
	Repo string
	// APIAddress overrides the config's api.address when not empty
	// (tests use 127.0.0.1:0).
	APIAddress string
	// Logger receives the node's log; nil means slog.Default().
	Logger *slog.Logger
}

// Node is one kith peer. New opens it, Start serves it, Close stops it.
type Node struct {
	log   *slog.Logger
	repo  *repo
	store *blockstore.BadgerStore
	gcl   *blockstore.GCLocker
	api   *web.Server
	apiAt string // the config's (or overridden) API address

	serveErr  chan error
	stop      chan struct{} // closed when a client asks for shutdown
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New opens the repo (creating it on first use) and the block store. If it
// fails, nothing it opened stays open.
func New(opts Options) (n *Node, err error) {
	dir := opts.Repo
	if dir == "" {
		if dir, err = DefaultRepoPath(); err != nil {
			return nil, err
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("repo path: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r, err := openRepo(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	store, err := blockstore.OpenBadger(filepath.Join(dir, blocksDir))
	if err != nil {
		return nil, fmt.Errorf("open block store in %s: %w", dir, err)
	}
	n = &Node{
		log:      log,
		repo:     r,
		store:    store,
		gcl:      blockstore.NewGCLocker(),
		apiAt:    r.cfg.API.Address,
		serveErr: make(chan error, 1),
		stop:     make(chan struct{}),
	}
	if opts.APIAddress != "" {
		n.apiAt = opts.APIAddress
	}
	return n, nil
}

// Start serves the local API and publishes its address in the repo so local
// clients find it.
func (n *Node) Start(ctx context.Context) error {
	srv, err := web.Listen(n.apiAt, n, n.repo.token)
	if err != nil {
		return err
	}
	n.api = srv
	if err := writeFileAtomic(filepath.Join(n.repo.dir, api.APIFile), []byte(srv.Addr()+"\n"), 0o600); err != nil {
		_ = srv.Shutdown(ctx)
		return err
	}
	go func() { n.serveErr <- srv.Serve() }()
	n.log.Info("kith daemon ready", "peer", n.repo.id.String(), "api", "http://"+srv.Addr(), "repo", n.repo.dir)
	return nil
}

// APIAddr is the address the API listens on (after Start).
func (n *Node) APIAddr() string {
	if n.api == nil {
		return ""
	}
	return n.api.Addr()
}

// Token is the API token local clients must send.
func (n *Node) Token() string { return n.repo.token }

// Stopped is closed when a client asked the daemon to shut down.
func (n *Node) Stopped() <-chan struct{} { return n.stop }

// ServeErr delivers an error if the API server stops unexpectedly.
func (n *Node) ServeErr() <-chan error { return n.serveErr }

// Close stops the API (giving running requests a few seconds, then cutting
// them), closes the store and releases the repo. It is safe to call twice.
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
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close block store: %w", err))
		}
		if err := n.repo.close(); err != nil {
			errs = append(errs, fmt.Errorf("release repo lock: %w", err))
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
