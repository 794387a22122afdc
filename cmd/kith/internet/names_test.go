//go:build linux

package internet_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/kith-p2p/kith/web/api"
)

// TestNamesFromKubo: a public Kubo node adds a site and publishes it
// under its IPNS name (`ipfs name publish`, into the lab's DHT); the lab's
// DNS holds two DNSLink records, one to the site's CID and one to a
// folder under the IPNS name. A kith laptop behind a NAT, which knows
// only the lab's bootstrap peers, gets a file through the IPNS name, cats
// one through the first domain, gets the folder through the second (a
// domain to a name to a CID), and is told plainly of a domain with no
// record. Then the other way: the laptop publishes its own name, and Kubo
// resolves it and cats what it points to.
func TestNamesFromKubo(t *testing.T) {
	lab := netlab.New(t)
	pub := startPublicNet(t, lab, 2, true)
	site := filepath.Join(t.TempDir(), "site")
	files := map[string]string{"index.html": "<h1>kith and Kubo</h1>\n", "docs/report.txt": "the report\n"}
	for name, body := range files {
		p := filepath.Join(site, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := kuboMust(t, pub.kubo, "add", "-Q", "-r", site)
	published := kuboMust(t, pub.kubo, "name", "publish", "--key=self", "/ipfs/"+root)
	m := regexp.MustCompile(`^Published to (k51[a-z0-9]+): /ipfs/`).FindStringSubmatch(published)
	if m == nil {
		t.Fatalf("ipfs name publish said %q", published)
	}
	name := m[1]
	lab.ServeDNS(map[string][]string{
		"_dnslink.site.example.org": {"dnslink=/ipfs/" + root},
		"_dnslink.docs.example.org": {"dnslink=/ipns/" + name + "/docs"},
	})
	home := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Cone})
	b := startKith(t, "laptop-B", home.Laptop("b"), laptopConfig(pub.boot))

	out := filepath.Join(b.files, "report.txt")
	if _, err := b.run("get", "/ipns/"+name+"/docs/report.txt", "-o", out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != files["docs/report.txt"] {
		t.Fatalf("get through the IPNS name wrote %q", got)
	}
	if got, err := b.run("cat", "/ipns/site.example.org/index.html"); err != nil || got != files["index.html"] {
		t.Fatalf("cat through the DNSLink domain: %q, %v", got, err)
	}
	docs := filepath.Join(b.files, "docs")
	if _, err := b.run("get", "ipns://docs.example.org", "-o", docs); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(docs, "report.txt")); string(got) != files["docs/report.txt"] {
		t.Fatalf("get through a domain to the IPNS name wrote %q in docs", got)
	}
	// B's gateway serves the names too, as a browser on B would open
	// them: a domain's site on the path gateway, and the domain that
	// leads to the IPNS name on its own origin.
	if got, err := b.gatewayGet("", "/ipns/site.example.org/index.html"); err != nil || got != files["index.html"] {
		t.Fatalf("B's gateway, /ipns/site.example.org/index.html: %q, %v", got, err)
	}
	if got, err := b.gatewayGet("docs.example.org.ipns.localhost", "/report.txt"); err != nil || got != files["docs/report.txt"] {
		t.Fatalf("B's gateway, docs.example.org.ipns.localhost/report.txt: %q, %v", got, err)
	}
	_, err := b.run("ls", "/ipns/nothing.example.org")
	if err == nil || !strings.Contains(err.Error(), "kith: nothing.example.org has no DNSLink record (a TXT record at _dnslink.nothing.example.org holding dnslink=/ipfs/CID)") {
		t.Fatalf("ls of a domain with no record: %v", err)
	}

	// The other way: B, behind its NAT, publishes its own name, and Kubo
	// reads it and what it points to.
	added, data := b.addFile(64 << 10)
	var rec api.NameRecord
	if err := b.runJSON(&rec, "name", "publish", added.Cid); err != nil {
		t.Fatal(err)
	}
	if rec.Value != "/ipfs/"+added.Cid || !strings.HasPrefix(rec.Name, "k51") {
		t.Fatalf("kith name publish: %+v", rec)
	}
	if got := kuboMust(t, pub.kubo, "name", "resolve", "/ipns/"+rec.Name); got != "/ipfs/"+added.Cid {
		t.Fatalf("Kubo resolved kith's name to %q, want /ipfs/%s", got, added.Cid)
	}
	// As soon as B's provider record is out (B announces once it has an
	// address others can reach it at: its relay's, here), Kubo finds B.
	waitFor(t, time.Minute, "Kubo to find B's provider record", func() bool {
		out, err := pub.kubo.Command("routing", "findprovs", "-n", "1", added.Cid).Output()
		return err == nil && strings.Contains(string(out), b.id.PeerID)
	})
	if got, err := pub.kubo.Command("cat", "/ipns/"+rec.Name).Output(); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Kubo's cat of kith's name gave %d bytes (%v), want the %d added", len(got), err, len(data))
	}
}

// gatewayGet fetches path from k's gateway with curl in k's namespace (the
// daemon listens on its loopback), as a browser on that laptop would, with
// host (and the daemon's port) as the request's Host when it is not empty.
func (k *kith) gatewayGet(host, path string) (string, error) {
	addr, err := os.ReadFile(filepath.Join(k.repo, "api"))
	if err != nil {
		return "", err
	}
	hostport := strings.TrimSpace(string(addr))
	args := []string{"-sS", "--fail-with-body", "--max-time", "90"}
	if host != "" {
		args = append(args, "-H", "Host: "+host+hostport[strings.LastIndex(hostport, ":"):])
	}
	var stderr bytes.Buffer
	cmd := k.host.Command("curl", append(args, "http://"+hostport+path)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("curl %s: %w: %s", path, err, stderr.String())
	}
	return string(out), nil
}

// kuboMust runs an ipfs command against k's daemon and returns its
// trimmed standard output, failing the test if it fails.
func kuboMust(t *testing.T, k *netlab.Kubo, args ...string) string {
	t.Helper()
	out, err := k.Command(args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ipfs %s: %v %s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}
