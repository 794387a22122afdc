package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNamePublishAndGet: `kith name publish` on one daemon pins a file
// added with --no-pin and points the node's IPNS name to it; a second
// daemon, connected to the first, resolves the name and gets the file by
// it; `kith name resolve` with no name shows the first's own record, and
// `kith id` its name. A second key gives a second name, listed, resolved
// and removed.
func TestNamePublishAndGet(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	startDaemon(t, a)
	startDaemon(t, b)
	if _, stderr, err := runKith(t, a, "name", "resolve"); err == nil || !strings.Contains(stderr, "kith: this node has published no name yet ('kith name publish CID' does)") {
		t.Fatalf("name resolve before a publish: %v: %s", err, stderr)
	}
	src := filepath.Join(t.TempDir(), "site.txt")
	if err := os.WriteFile(src, []byte("version 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cid := mustKith(t, a, "add", "-q", "--no-pin", src)
	mustKith(t, b, "connect", p2pAddrOf(t, a))

	out := mustKith(t, a, "name", "publish", cid)
	m := regexp.MustCompile(`(?m)^/ipns/(k51[a-z0-9]+) -> /ipfs/` + cid + `$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "sequence 0, valid until ") || !strings.Contains(out, "anyone gets it with: kith get /ipns/"+m[1]) {
		t.Fatalf("kith name publish said:\n%s", out)
	}
	name := m[1]
	// The URL it gives for a browser opens the file by name, on the
	// name's own origin of the daemon's gateway.
	web := regexp.MustCompile(`(?m)^in a browser here: (http://` + name + `\.ipns\.localhost:(\d+)/)$`).FindStringSubmatch(out)
	if web == nil {
		t.Fatalf("kith name publish gave no address for a browser:\n%s", out)
	}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+web[2]+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = name + ".ipns.localhost:" + web[2]
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "version 1\n" {
		t.Fatalf("%s: %d %q, want the published file", web[1], resp.StatusCode, body)
	}
	var pins []struct{ Cid string }
	if err := json.Unmarshal([]byte(mustKith(t, a, "--json", "pin", "ls")), &pins); err != nil || len(pins) != 1 || pins[0].Cid != cid {
		t.Fatalf("pins after the publish: %+v, %v; want the published file pinned", pins, err)
	}
	if own := mustKith(t, a, "name", "resolve"); !strings.HasPrefix(own, "/ipns/"+name+" -> /ipfs/"+cid+"\n") {
		t.Fatalf("name resolve of its own record:\n%s", own)
	}
	if id := mustKith(t, a, "id"); !strings.Contains(id, "\nipns name:    /ipns/"+name+" ('kith name publish CID' points it)\n") {
		t.Fatalf("kith id does not name the IPNS name:\n%s", id)
	}

	if got := mustKith(t, b, "name", "resolve", name); got != "/ipfs/"+cid {
		t.Fatalf("B resolved the name to %q, want /ipfs/%s", got, cid)
	}
	dst := filepath.Join(t.TempDir(), "got.txt")
	stdout, stderr, err := runKith(t, b, "get", "/ipns/"+name, "-o", dst)
	if err != nil || !strings.Contains(stderr, "looking up /ipns/"+name+" (up to a minute)...") {
		t.Fatalf("get by the name: %v\n%s%s", err, stdout, stderr)
	}
	if body, _ := os.ReadFile(dst); string(body) != "version 1\n" {
		t.Fatalf("get by the name wrote %q", body)
	}
	// The browser's address (A's gateway) pasted into B: the name in it,
	// looked up by B, not asked of A's gateway.
	if got := mustKith(t, b, "cat", web[1]); got != "version 1" {
		t.Fatalf("cat %s on B: %q", web[1], got)
	}

	// One more name, with a key of its own.
	made := mustKith(t, a, "name", "keys", "new", "site")
	km := regexp.MustCompile(`^made key site: its name is /ipns/(k51[a-z0-9]+) \('kith name publish --key site CID' points it\)$`).FindStringSubmatch(made)
	if km == nil || km[1] == name {
		t.Fatalf("kith name keys new said %q", made)
	}
	out = mustKith(t, a, "name", "publish", "--key", "site", cid)
	if !strings.Contains(out, "/ipns/"+km[1]+" -> /ipfs/"+cid+"\nkey site, sequence 0") {
		t.Fatalf("publish with key site said:\n%s", out)
	}
	ls := mustKith(t, a, "name", "keys", "ls")
	for _, want := range []string{"self  /ipns/" + name + "  /ipfs/" + cid, "site  /ipns/" + km[1] + "  /ipfs/" + cid} {
		if !strings.Contains(ls, want) {
			t.Fatalf("kith name keys ls:\n%s\nwant a row %q", ls, want)
		}
	}
	if got := mustKith(t, b, "name", "resolve", "/ipns/"+km[1]); got != "/ipfs/"+cid {
		t.Fatalf("B resolved the site's name to %q", got)
	}
	if got := mustKith(t, a, "name", "keys", "rm", "site"); got != "removed key site" {
		t.Fatalf("kith name keys rm said %q", got)
	}
	if _, stderr, err := runKith(t, a, "name", "resolve", "--key", "site"); err == nil || !strings.Contains(stderr, `kith: this node has no key "site" ('kith name keys new site' makes one)`) {
		t.Fatalf("resolve of a removed key: %v: %s", err, stderr)
	}
}
