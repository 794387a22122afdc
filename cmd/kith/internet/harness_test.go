//go:build linux

package internet_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// kithBin is the kith binary built once for these tests. It is built
// without the race detector: these tests run many daemons at once on two
// cores, and the daemon's code is race-tested by the other packages.
var kithBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kith-inet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kithBin = filepath.Join(dir, "kith")
	build := exec.Command("go", "build", "-o", kithBin, "github.com/kith-p2p/kith/cmd/kith")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build kith:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kith is a kith daemon running in a lab namespace.
type kith struct {
	t    testing.TB
	name string
	host *netlab.Host
	repo string
	// files is a folder of the user's files, beside the repo (kith never
	// adds from its own repo).
	files string
	proc  *netlab.Process
	id    api.ID
	env   []string // more of the daemon's environment
}

// config is a kith config.json, as nested maps, merged over the defaults
// by the daemon.
type config map[string]any

// laptopConfig is the default profile, as a new user gets it, except that
// the bootstrap list names the lab's public nodes instead of the real
// internet's.
func laptopConfig(bootstrap []string) config {
	return config{
		"network": map[string]any{"bootstrap": bootstrap},
		"dht":     map[string]any{"protocol_prefix": "/ipfs"},
	}
}

// serverConfig is a public kith node: the default profile with the lab's
// bootstrap list, on a machine with a public address (AutoNAT v2 finds
// out, as for any user).
func serverConfig(bootstrap []string) config {
	return laptopConfig(bootstrap)
}

// startKith runs `kith daemon` in h's namespace on a new repo with cfg,
// and waits until it answers.
func startKith(t testing.TB, name string, h *netlab.Host, cfg config) *kith {
	t.Helper()
	return startKithEnv(t, name, h, cfg, nil)
}

// startKithEnv is startKith with more of the daemon's environment
// ("SSL_CERT_FILE=...", say).
func startKithEnv(t testing.TB, name string, h *netlab.Host, cfg config, env []string) *kith {
	t.Helper()
	k := &kith{t: t, name: name, host: h, repo: t.TempDir(), files: t.TempDir(), env: env}
	k.writeConfig(cfg)
	k.start()
	register(k)
	return k
}

func (k *kith) writeConfig(cfg config) {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		k.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(k.repo, "config.json"), b, 0o600); err != nil {
		k.t.Fatal(err)
	}
}

// start (re)starts the daemon on its repo.
func (k *kith) start() {
	k.t.Helper()
	args := []string{"daemon", "--repo", k.repo, "--api", "127.0.0.1:0"}
	if os.Getenv("KITH_TEST_GOLOG") != "" {
		args = append(args, "--log-level", "debug")
	}
	cmd := k.host.Command(kithBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+k.repo, "GOLOG_LOG_LEVEL="+os.Getenv("KITH_TEST_GOLOG"))
	cmd.Env = append(cmd.Env, k.env...)
	k.proc = netlab.Start(k.t, cmd)
	waitFor(k.t, time.Minute, k.name+"'s daemon to answer", func() bool {
		select {
		case <-k.proc.Done():
			k.t.Fatalf("%s's daemon exited: %v\n%s", k.name, k.proc.Err(), k.proc.Output())
		default:
		}
		return k.runJSON(&k.id, "id") == nil
	})
	k.t.Cleanup(func() {
		if k.t.Failed() {
			diagnoseAll(k.t)
		}
	})
}

// The daemons of each running test, so that a failed test prints the
// doctor and peers of every one of them before any is stopped (cleanups
// run last first: each daemon's own would see the later ones gone).
var (
	labMu     sync.Mutex
	labKiths  = map[testing.TB][]*kith{}
	diagnosed = map[testing.TB]bool{}
)

func register(k *kith) {
	labMu.Lock()
	defer labMu.Unlock()
	if len(labKiths[k.t]) == 0 {
		t := k.t
		t.Cleanup(func() {
			labMu.Lock()
			delete(labKiths, t)
			delete(diagnosed, t)
			labMu.Unlock()
		})
	}
	labKiths[k.t] = append(labKiths[k.t], k)
}

// diagnoseAll logs doctor and peers of t's daemons still running, once.
func diagnoseAll(t testing.TB) {
	labMu.Lock()
	ks := labKiths[t]
	done := diagnosed[t]
	diagnosed[t] = true
	labMu.Unlock()
	if done {
		return
	}
	for _, k := range ks {
		select {
		case <-k.proc.Done():
			continue
		default:
		}
		if out, err := k.run("doctor"); err == nil {
			t.Logf("kith doctor on %s:\n%s", k.name, out)
		}
		var d api.Doctor
		if k.runJSON(&d, "doctor") == nil && d.LastHolePunchError != "" {
			t.Logf("last hole punch error on %s: %s", k.name, d.LastHolePunchError)
		}
		if out, err := k.run("peers"); err == nil {
			t.Logf("kith peers on %s:\n%s", k.name, out)
		}
		if b, err := os.ReadFile(filepath.Join(k.repo, "logs", "daemon.log")); err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("last lines of %s's daemon log:\n%s", k.name, strings.Join(lines[max(0, len(lines)-logTail):], "\n"))
		}
	}
}

// logTail is how many lines of each daemon's log a failed test prints.
const logTail = 60

// stop ends the daemon (SIGTERM) and waits.
func (k *kith) stop() {
	if err := k.proc.Stop(); err != nil {
		k.t.Logf("%s stopped: %v", k.name, err)
	}
}

// run runs a kith command against this daemon, in its namespace.
func (k *kith) run(args ...string) (string, error) {
	cmd := k.host.Command(kithBin, append([]string{"--repo", k.repo}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("kith %s on %s: %v: %s", strings.Join(args, " "), k.name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// runJSON runs a command with --json and decodes its last line into v.
func (k *kith) runJSON(v any, args ...string) error {
	out, err := k.run(append([]string{"--json"}, args...)...)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), v)
}

// addrs are the daemon's addresses on the lab, with /p2p/ID, for
// bootstrap lists.
func (k *kith) addrs() []string {
	var id api.ID
	if err := k.runJSON(&id, "id"); err != nil {
		k.t.Fatal(err)
	}
	var out []string
	for _, a := range id.Addresses {
		if strings.Contains(a, "/"+k.host.Addr().String()+"/") ||
			(k.host.Addr6().IsValid() && strings.Contains(a, "/"+k.host.Addr6().String()+"/")) {
			out = append(out, a+"/p2p/"+id.PeerID)
		}
	}
	if len(out) == 0 {
		k.t.Fatalf("%s has no address on %s: %v", k.name, k.host.Addr(), id.Addresses)
	}
	return out
}

func (k *kith) doctor() api.Doctor {
	var d api.Doctor
	if err := k.runJSON(&d, "doctor"); err != nil {
		k.t.Fatal(err)
	}
	return d
}

func (k *kith) peers() []api.Peer {
	var ps []api.Peer
	if err := k.runJSON(&ps, "peers"); err != nil {
		k.t.Fatal(err)
	}
	return ps
}

// addFile writes size random bytes to a file in the user's folder and adds
// it; it returns the add result and the bytes.
func (k *kith) addFile(size int, extra ...string) (api.AddResult, []byte) {
	k.t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(k.files, "shared.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		k.t.Fatal(err)
	}
	var res api.AddResult
	if err := k.runJSON(&res, append([]string{"add", path}, extra...)...); err != nil {
		k.t.Fatal(err)
	}
	return res, data
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%v: %s", time.Since(start).Round(10*time.Millisecond), what)
}

// publicNet is the small public network standing in for Amino: kith
// public nodes and a Kubo.
type publicNet struct {
	kiths []*kith
	kubo  *netlab.Kubo
	boot  []string
}

// startPublicNet starts n kith public nodes and one Kubo, bootstrapping
// from each other.
func startPublicNet(t *testing.T, lab *netlab.Lab, n int, withKubo bool) *publicNet {
	t.Helper()
	pn := &publicNet{}
	first := startKith(t, "public-1", lab.PublicHost("pub1"), serverConfig(nil))
	pn.kiths = append(pn.kiths, first)
	pn.boot = append(pn.boot, first.addrs()...)
	if withKubo {
		pn.kubo = netlab.StartKubo(t, lab.PublicHost("kubo"), netlab.KuboConfig{Bootstrap: pn.boot})
		pn.boot = append(pn.boot, pn.kubo.Addrs...)
	}
	for i := 2; i <= n; i++ {
		k := startKith(t, fmt.Sprintf("public-%d", i), lab.PublicHost(fmt.Sprintf("pub%d", i)), serverConfig(pn.boot))
		pn.kiths = append(pn.kiths, k)
		pn.boot = append(pn.boot, k.addrs()...)
	}
	return pn
}

// getsDirectly gets ticket (of data, added on from) with `kith get`
// into a new file, and checks that the copy came over a direct connection
// to from (gotDirectly). It returns how long the get took.
func (k *kith) getsDirectly(ticket string, from *kith, data []byte) time.Duration {
	k.t.Helper()
	out := filepath.Join(k.files, "got.bin")
	os.Remove(out)
	start := time.Now()
	if o, err := k.run("get", ticket, "-o", out); err != nil {
		k.t.Fatalf("%s's get: %v: %s", k.name, err, o)
	}
	took := time.Since(start)
	k.gotDirectly(out, from, data)
	return took
}

// gotDirectly checks what k's get wrote to out: from's data, which came
// over a direct (not relayed) connection to from.
func (k *kith) gotDirectly(out string, from *kith, data []byte) {
	k.t.Helper()
	k.gotDirectlyUnless(out, from, data, nil)
}

// gotDirectlyUnless is gotDirectly for a sender that stops once k's get
// has it all (kith send --once, whose end closes gone): when it has
// stopped before k is asked, the connection is gone with it, and what
// is left to check is that k had no relay that carries transfers (a
// stranger's relay is limited to hole punching: it carries none), so the
// copy came directly.
func (k *kith) gotDirectlyUnless(out string, from *kith, data []byte, gone <-chan struct{}) {
	k.t.Helper()
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		k.t.Fatalf("%s's copy differs from %s's file (%d of %d bytes, err %v)", k.name, from.name, len(got), len(data), err)
	}
	ps := k.peers()
	if hasDirectConnTo(ps, from.id.PeerID, int64(len(data))) {
		return
	}
	if gone == nil {
		k.t.Fatalf("%s's copy did not come over a direct connection to %s: %+v", k.name, from.name, ps)
	}
	wait := time.After(30 * time.Second) // the connection may go before the sender's process ends
	select {
	case <-gone:
		for _, p := range ps {
			if p.Relayed && !p.Limited {
				k.t.Fatalf("%s has a relayed connection that carries transfers: %+v", k.name, p)
			}
		}
		k.t.Logf("%s stopped before %s was asked for its connections: no relay that carries transfers, so the copy came directly", from.name, k.name)
	case <-wait:
		k.t.Fatalf("%s's copy did not come over a direct connection to %s, which still runs: %+v", k.name, from.name, ps)
	}
}

// send stops k's daemon (k's repo is set up for the lab; send runs a
// daemon of its own, as with no daemon running) and runs `kith send ARGS
// FILE` on a new file of size random bytes, which it returns.
func (k *kith) send(size int, args ...string) (*netlab.Process, []byte) {
	k.t.Helper()
	k.stop()
	data := make([]byte, size)
	rand.Read(data)
	src := filepath.Join(k.files, "notes.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		k.t.Fatal(err)
	}
	cmd := k.host.Command(kithBin, append(append([]string{"--repo", k.repo, "send"}, args...), src)...)
	return netlab.Start(k.t, cmd), data
}

// printed waits for p to print a line re matches and returns its first
// group.
func printed(t testing.TB, p *netlab.Process, re *regexp.Regexp, what string) string {
	t.Helper()
	var s string
	waitFor(t, 60*time.Second, what, func() bool {
		if m := re.FindStringSubmatch(p.Output()); m != nil {
			s = m[1]
		}
		return s != ""
	})
	return s
}

// hasDirectConnTo reports whether k has a direct (not relayed) connection
// to peer id that carried at least min bytes in.
func hasDirectConnTo(ps []api.Peer, id string, min int64) bool {
	for _, p := range ps {
		if p.ID == id && !p.Relayed && p.BytesIn >= min {
			return true
		}
	}
	return false
}
