//go:build linux

package netlab

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// KuboBinary returns the Kubo (ipfs) binary for the tests: $KITH_KUBO, else
// ipfs in PATH. .ci/kubo.sh builds one. Without one it skips the test, or
// fails it when CI=true.
func KuboBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("KITH_KUBO"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			skipOrFail(t, "netlab: KITH_KUBO: "+err.Error())
		}
		return bin
	}
	bin, err := exec.LookPath("ipfs")
	if err != nil {
		skipOrFail(t, "netlab: no Kubo binary: set KITH_KUBO or put ipfs in PATH (.ci/kubo.sh builds one)")
	}
	return bin
}

// KuboConfig describes a Kubo node for StartKubo.
type KuboConfig struct {
	// Bin is the Kubo binary; KuboBinary's when empty.
	Bin string
	// Bootstrap lists the multiaddrs (with /p2p/ID) the node bootstraps
	// from; none when empty.
	Bootstrap []string
	// Laptop runs Kubo as a user would on a laptop behind a NAT: its
	// defaults (automatic DHT mode, AutoNAT, relay client, hole punching)
	// instead of a public server's settings; the host must then be a
	// laptop.
	Laptop bool
	// NoDHT runs a public node in no DHT (Routing.Type none), as a
	// storage provider or pinning service that announces what it holds to
	// an indexer only: peers reach it by the addresses the index gives.
	NoDHT bool
}

// A Kubo is a Kubo daemon running on a public host of a lab.
type Kubo struct {
	Host *Host
	// Repo is the node's IPFS_PATH, in a temporary directory.
	Repo string
	// PeerID is the node's peer ID.
	PeerID string
	// Addrs are the node's swarm addresses on the host's public address,
	// TCP and QUIC, each ending in /p2p/PeerID.
	Addrs   []string
	Process *Process
	bin     string
}

// Kubo's ports; one Kubo per host. The API and gateway listen on the
// namespace's own 127.0.0.1, out of the lab's reach.
const (
	kuboSwarmPort   = 4001
	kuboAPIPort     = 5001
	kuboGatewayPort = 8080
)

// StartKubo runs a Kubo daemon on the public host h, configured as a public
// node of the lab's IPFS network: DHT server (Routing.Type dhtserver),
// AutoNAT service, circuit relay v2 service, reachability forced to public
// (so that the relay and AutoNAT services start without waiting for other
// peers to confirm it), swarm on h's address over TCP and QUIC, no mDNS,
// no UPnP, no AutoConf, AutoTLS or telemetry (nothing of the real IPFS
// network). It returns once the daemon is ready, and stops it at cleanup.
func StartKubo(t testing.TB, h *Host, cfg KuboConfig) *Kubo {
	t.Helper()
	if h.router != nil && !cfg.Laptop {
		t.Fatalf("netlab: StartKubo: %s is behind a router; set KuboConfig.Laptop for a laptop", h.node)
	}
	bin := cfg.Bin
	if bin == "" {
		bin = KuboBinary(t)
	}
	k := &Kubo{Host: h, Repo: t.TempDir(), bin: bin}
	if out, err := k.Command("init", "--profile=autoconf-off").CombinedOutput(); err != nil {
		t.Fatalf("netlab: ipfs init: %v: %s", err, out)
	}
	if err := k.configure(cfg.Bootstrap, cfg.Laptop); err != nil {
		t.Fatal(err)
	}
	if cfg.NoDHT {
		if err := EditKuboConfig(k.Repo, map[string]any{"Routing.Type": "none"}); err != nil {
			t.Fatal(err)
		}
	}
	k.Process = Start(t, k.Command("daemon"))
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(k.Process.Output(), "Daemon is ready") {
		select {
		case <-k.Process.Done():
			t.Fatalf("netlab: Kubo on %s exited before it was ready: %v\n%s", h.node, k.Process.Err(), k.Process.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("netlab: Kubo on %s not ready after 2m:\n%s", h.node, k.Process.Output())
		}
	}
	id, err := k.ID()
	if err != nil {
		t.Fatal(err)
	}
	k.PeerID = id.ID
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/"+h.addr.String()+"/") {
			k.Addrs = append(k.Addrs, a)
		}
	}
	if len(k.Addrs) == 0 && !cfg.Laptop {
		t.Fatalf("netlab: Kubo on %s has no address on %s: %q", h.node, h.addr, id.Addresses)
	}
	return k
}

// Command returns `ipfs args...` run in the node's namespace on its repo,
// for the CLI commands that talk to the daemon's API (ipfs id, ipfs add,
// ipfs routing findprovs, ...).
func (k *Kubo) Command(args ...string) *exec.Cmd {
	cmd := k.Host.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+k.Repo, "IPFS_TELEMETRY=off")
	return cmd
}

// KuboID is what `ipfs id` reports.
type KuboID struct {
	ID           string
	Addresses    []string
	AgentVersion string
	Protocols    []string
}

// ID asks the daemon's API who it is (`ipfs id`).
func (k *Kubo) ID() (KuboID, error) {
	var id KuboID
	cmd := k.Command("id")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return id, fmt.Errorf("netlab: ipfs id on %s: %v: %s", k.Host.node, err, stderr.String())
	}
	if err := json.Unmarshal(out, &id); err != nil {
		return id, fmt.Errorf("netlab: ipfs id on %s: %v: %s", k.Host.node, err, out)
	}
	return id, nil
}

// configure edits the repo's config file: the settings StartKubo promises.
func (k *Kubo) configure(bootstrap []string, laptop bool) error {
	ip := k.Host.addr.String()
	if bootstrap == nil {
		bootstrap = []string{}
	}
	settings := map[string]any{
		"Addresses.API":                         fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", kuboAPIPort),
		"Addresses.Gateway":                     fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", kuboGatewayPort),
		"Bootstrap":                             bootstrap,
		"Discovery.MDNS.Enabled":                false,
		"AutoConf.Enabled":                      false,
		"AutoTLS.Enabled":                       false,
		"Plugins.Plugins.telemetry.Config.Mode": "off",
	}
	if laptop {
		// Kubo's own defaults for everything that decides reachability,
		// listening on every interface like a laptop's daemon.
		settings["Addresses.Swarm"] = []string{
			fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", kuboSwarmPort),
			fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", kuboSwarmPort),
		}
	} else {
		settings["Addresses.Swarm"] = []string{
			fmt.Sprintf("/ip4/%s/tcp/%d", ip, kuboSwarmPort),
			fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", ip, kuboSwarmPort),
		}
		for key, v := range map[string]any{
			"Routing.Type":                     "dhtserver",
			"AutoNAT.ServiceMode":              "enabled",
			"Swarm.RelayService.Enabled":       true,
			"Swarm.RelayClient.Enabled":        false,
			"Swarm.DisableNatPortMap":          true,
			"Internal.Libp2pForceReachability": "public",
		} {
			settings[key] = v
		}
	}
	return EditKuboConfig(k.Repo, settings)
}

// EditKuboConfig sets dotted keys ("Swarm.RelayService.Enabled") in the
// config file of the Kubo repo at repo, creating objects on the way.
func EditKuboConfig(repo string, settings map[string]any) error {
	path := filepath.Join(repo, "config")
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("netlab: kubo config: %w", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("netlab: kubo config: %w", err)
	}
	for key, v := range settings {
		obj, parts := c, strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := obj[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				obj[p] = next
			}
			obj = next
		}
		obj[parts[len(parts)-1]] = v
	}
	if raw, err = json.MarshalIndent(c, "", "  "); err != nil {
		return fmt.Errorf("netlab: kubo config: %w", err)
	}
	return os.WriteFile(path, raw, 0o600)
}
