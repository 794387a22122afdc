package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/kith-p2p/kith/web/api"
)

// TestLocalOverlay: what `--profile local` keeps of an existing repo's
// network settings for one run.
func TestLocalOverlay(t *testing.T) {
	tests := []struct {
		name            string
		listen, boot    []string
		wantL, wantBoot []string
	}{
		{"default repo", DefaultConfig().Network.ListenAddrs, DefaultBootstrap(),
			LocalConfig().Network.ListenAddrs, []string{}},
		{"loopback kept", []string{"/ip4/0.0.0.0/tcp/4101", "/ip4/127.0.0.1/tcp/4101", "/ip6/::1/udp/4101/quic-v1"},
			[]string{"/ip4/127.0.0.1/tcp/4102/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT", "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"},
			[]string{"/ip4/127.0.0.1/tcp/4101", "/ip6/::1/udp/4101/quic-v1"},
			[]string{"/ip4/127.0.0.1/tcp/4102/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Network.ListenAddrs, c.Network.Bootstrap = tt.listen, tt.boot
			c.Network.AnnounceAddrs = []string{"/ip4/81.2.69.160/tcp/40000"}
			c.API.Address = "127.0.0.1:5099"
			LocalOverlay(&c)
			if !slices.Equal(c.Network.ListenAddrs, tt.wantL) || !slices.Equal(c.Network.Bootstrap, tt.wantBoot) {
				t.Errorf("listen %v, bootstrap %v; want %v, %v", c.Network.ListenAddrs, c.Network.Bootstrap, tt.wantL, tt.wantBoot)
			}
			n := c.Network
			if len(n.AnnounceAddrs) > 0 {
				t.Errorf("announce addresses %v kept: a local run gives out loopback addresses only", n.AnnounceAddrs)
			}
			if n.MDNS || n.PortMapping || n.AutoNAT || n.HolePunching || n.RelayClient || n.RelayService || n.GroupRelay || c.DHT.Dual || len(c.DHT.DelegatedRouters) > 0 {
				t.Errorf("something still reaches beyond the machine: %+v, dual DHT %v, delegated routers %v", n, c.DHT.Dual, c.DHT.DelegatedRouters)
			}
			if c.API.Address != "127.0.0.1:5099" {
				t.Errorf("API address changed to %s", c.API.Address)
			}
		})
	}
}

// TestProfileOnExistingRepo: `--profile local` on a repo made with the
// default profile keeps that run on loopback and leaves config.json as it
// was; `--profile default` there is refused (the file decides).
func TestProfileOnExistingRepo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, configFile)
	if err := writeConfig(path, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Repo: dir, Profile: "default", APIAddress: "127.0.0.1:0", Logger: quietLog}); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("--profile default on an existing repo: %v, want it refused", err)
	}
	n, err := New(Options{Repo: dir, Profile: "local", APIAddress: "127.0.0.1:0", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, a := range n.host.Addrs() {
		if ip, err := manet.ToIP(a); err != nil || !ip.IsLoopback() {
			t.Errorf("listens on %s", a)
		}
	}
	if n.cfg.Network.MDNS || n.cfg.Network.PortMapping || len(n.cfg.Network.Bootstrap) != 0 {
		t.Errorf("network config of the run: %+v", n.cfg.Network)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("config.json changed")
	}
	// The doctor says the run stays here, not what the internet lacks.
	if n.local != localRun {
		t.Errorf("a local run of a default repo: local = %q", n.local)
	}
	d, err := n.Doctor(context.Background())
	if err != nil || len(d.Checks) != 1 || !strings.Contains(d.Checks[0].Text, "This run stays on this machine") {
		t.Errorf("doctor: %+v, %v", d.Checks, err)
	}
	// Nor is it said to be behind a NAT: it is local, and why.
	id, err := n.ID(context.Background())
	if err != nil || id.Reachability != "local" || d.Reachability != "local" || !strings.Contains(d.ReachabilityHow, "--profile local") {
		t.Errorf("reachability: id %q, doctor %q (%q), %v; want local, saying why", id.Reachability, d.Reachability, d.ReachabilityHow, err)
	}
	// The Settings page shows config.json, and nothing waiting for a
	// restart: the file did not change, the run overrides it.
	sts, err := n.Settings(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Pending {
			t.Errorf("%s = %s shown as applying at the next start", st.Key, st.Value)
		}
	}
}

// TestLocalRepo: a repo made with the local profile is known as such,
// run with the flag or without; a default one is not.
func TestLocalRepo(t *testing.T) {
	if isLocal(DefaultConfig()) || !isLocal(LocalConfig()) {
		t.Fatalf("isLocal: default %v, local %v", isLocal(DefaultConfig()), isLocal(LocalConfig()))
	}
	dir := t.TempDir()
	if err := writeConfig(filepath.Join(dir, configFile), LocalConfig()); err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"local", ""} {
		n, err := New(Options{Repo: dir, Profile: run, APIAddress: "127.0.0.1:0", Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		if n.local != localRepo {
			t.Errorf("a local repo run with %q: local = %q", run, n.local)
		}
		if d, err := n.Doctor(context.Background()); err != nil || d.Reachability != "local" || !strings.Contains(d.ReachabilityHow, "made with --profile local") {
			t.Errorf("a local repo run with %q: reachability %q (%q), %v", run, d.Reachability, d.ReachabilityHow, err)
		}
		n.Close()
	}
}
