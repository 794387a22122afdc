//go:build linux

package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMDNSFindsPeersOnALAN runs two daemons with mDNS on, each in a network
// namespace this test creates, joined by a veth pair: a private two-host
// LAN on this machine. With no address given to either, they must find and
// connect to each other. The multicast never leaves the namespaces.
func TestMDNSFindsPeersOnALAN(t *testing.T) {
	if os.Geteuid() != 0 {
		skipOrFail(t, "creating network namespaces needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "iproute2's ip command is missing")
	}
	suffix := fmt.Sprint(os.Getpid() % 100000)
	nsA, nsB := "kith-a-"+suffix, "kith-b-"+suffix
	vethA, vethB := "kva"+suffix, "kvb"+suffix
	run := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for _, ns := range []string{nsA, nsB} {
		if err := run("netns", "add", ns); err != nil {
			skipOrFail(t, "cannot create a network namespace here: "+err.Error())
		}
		ns := ns
		t.Cleanup(func() { run("netns", "del", ns) })
	}
	steps := [][]string{
		{"link", "add", vethA, "type", "veth", "peer", "name", vethB},
		{"link", "set", vethA, "netns", nsA},
		{"link", "set", vethB, "netns", nsB},
		{"-n", nsA, "addr", "add", "10.231.0.1/24", "dev", vethA},
		{"-n", nsB, "addr", "add", "10.231.0.2/24", "dev", vethB},
		{"-n", nsA, "link", "set", vethA, "up", "multicast", "on"},
		{"-n", nsB, "link", "set", vethB, "up", "multicast", "on"},
		{"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsB, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			t.Fatal(err)
		}
	}

	repoA, repoB := t.TempDir(), t.TempDir()
	for _, repo := range []string{repoA, repoB} {
		// A LAN laptop's config, minus talking to a router: mDNS on,
		// listening on the namespace's interfaces.
		cfg := `{"network": {"listen_addrs": ["/ip4/0.0.0.0/tcp/4101"], "bootstrap": [], "mdns": true,
			"port_mapping": false, "autonat": false, "hole_punching": false, "relay_client": false},
			"dht": {"mode": "server"}}`
		if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	startIn := func(ns, repo string) {
		var log bytes.Buffer
		// Debug logs (kith's, and libp2p's mDNS) are printed only if the
		// test fails: they say whether a peer was found and how the
		// connect to it went.
		cmd := exec.Command("ip", "netns", "exec", ns, kithBin, "daemon", "--repo", repo, "--api", "127.0.0.1:0", "--log-level", "debug")
		cmd.Env = append(os.Environ(), "GOLOG_LOG_LEVEL=error,mdns=debug")
		cmd.Stdout, cmd.Stderr = &log, &log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			if t.Failed() {
				t.Logf("daemon output (%s):\n%s", ns, log.String())
				file, _ := os.ReadFile(filepath.Join(repo, "logs", "daemon.log"))
				lines := strings.Split(strings.TrimSpace(string(file)), "\n")
				if len(lines) > 150 {
					lines = lines[len(lines)-150:]
				}
				t.Logf("daemon log file (%s, its last %d lines):\n%s", ns, len(lines), strings.Join(lines, "\n"))
			}
		})
	}
	startIn(nsA, repoA)
	startIn(nsB, repoB)
	kithIn := func(ns, repo string, args ...string) (string, error) {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns, kithBin, "--repo", repo}, args...)...).Output()
		return string(out), err
	}
	idB := ""
	waitFor(t, 60*time.Second, "daemon B to answer", func() bool {
		out, err := kithIn(nsB, repoB, "--json", "id")
		if err != nil {
			return false
		}
		if i := strings.Index(out, `"peer_id":"`); i >= 0 {
			idB = out[i+len(`"peer_id":"`):][:52]
		}
		return idB != ""
	})
	waitFor(t, 60*time.Second, "A to find B by mDNS", func() bool {
		out, err := kithIn(nsA, repoA, "peers")
		return err == nil && strings.Contains(out, idB) && strings.Contains(out, "10.231.0.2")
	})
}
