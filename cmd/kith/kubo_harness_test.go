//go:build linux

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// kubo is a Kubo (IPFS) daemon for the tests: loopback only, no bootstrap
// peers, no mDNS, AutoConf, AutoTLS or telemetry, and the import settings
// of IPIP-499 (the test-cid-v1-wide profile), so that it adds the same
// bytes to the same CIDs as kith.
type kubo struct {
	t    testing.TB
	bin  string
	repo string
	proc *netlab.Process
	// id is its peer ID; addr a TCP multiaddr (with /p2p/) to dial it at.
	id   string
	addr string
}

// startKubo runs a Kubo daemon until the test ends. Without a Kubo binary
// (KITH_KUBO, or ipfs in PATH; .ci/kubo.sh builds one) the test is skipped,
// or fails when CI=true.
func startKubo(t testing.TB) *kubo {
	t.Helper()
	k := &kubo{t: t, bin: netlab.KuboBinary(t), repo: t.TempDir()}
	if out, err := k.command("init", "--profile=test,test-cid-v1-wide,autoconf-off").CombinedOutput(); err != nil {
		t.Fatalf("ipfs init: %v: %s", err, out)
	}
	k.configure()
	k.proc = netlab.Start(t, k.command("daemon", "--enable-gc=false"))
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(k.proc.Output(), "Daemon is ready") {
		select {
		case <-k.proc.Done():
			t.Fatalf("Kubo exited before it was ready: %v\n%s", k.proc.Err(), k.proc.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Kubo not ready after 2m:\n%s", k.proc.Output())
		}
	}
	var id struct {
		ID        string
		Addresses []string
	}
	if err := json.Unmarshal([]byte(k.must("id")), &id); err != nil {
		t.Fatal(err)
	}
	k.id = id.ID
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			k.addr = a
		}
	}
	if k.addr == "" {
		t.Fatalf("Kubo has no loopback TCP address: %q", id.Addresses)
	}
	return k
}

// configure edits the repo's config: the settings startKubo promises.
func (k *kubo) configure() {
	if err := netlab.EditKuboConfig(k.repo, map[string]any{
		"Addresses.Swarm":                       []string{"/ip4/127.0.0.1/tcp/0"},
		"Addresses.API":                         "/ip4/127.0.0.1/tcp/0",
		"Addresses.Gateway":                     "/ip4/127.0.0.1/tcp/0",
		"Bootstrap":                             []string{},
		"Routing.Type":                          "dht",
		"Discovery.MDNS.Enabled":                false,
		"Swarm.DisableNatPortMap":               true,
		"Swarm.RelayClient.Enabled":             false,
		"Swarm.RelayService.Enabled":            false,
		"AutoConf.Enabled":                      false,
		"AutoTLS.Enabled":                       false,
		"Plugins.Plugins.telemetry.Config.Mode": "off",
	}); err != nil {
		k.t.Fatal(err)
	}
}

// command returns `ipfs args...` on the daemon's repo.
func (k *kubo) command(args ...string) *exec.Cmd {
	cmd := exec.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo, "IPFS_TELEMETRY=off")
	return cmd
}

// run runs an ipfs command and returns its stdout.
func (k *kubo) run(args ...string) (string, error) {
	cmd := k.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("ipfs %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// must runs an ipfs command that must succeed and returns its trimmed
// stdout.
func (k *kubo) must(args ...string) string {
	k.t.Helper()
	out, err := k.run(args...)
	if err != nil {
		k.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// kill ends the daemon at once (SIGKILL), as a crash or a pulled cable
// would.
func (k *kubo) kill() {
	_ = syscall.Kill(k.proc.Pid(), syscall.SIGKILL)
	<-k.proc.Done()
}

// connectKith connects the kith daemon of repo and Kubo.
func connectKith(t testing.TB, repo string, k *kubo) {
	t.Helper()
	mustKith(t, repo, "connect", k.addr)
}
