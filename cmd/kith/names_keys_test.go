//go:build linux

package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestNameKeysMoveToAndFromKubo: a key made by kith goes to Kubo in both
// of Kubo's formats, and one Kubo made comes to kith, each keeping its
// name (Kubo's ipfs key export/import, on a Kubo repo with no daemon). A
// file is never overwritten; self, a key the node has under another
// name, and what is not a key are refused, each in one sentence. A key
// renamed keeps its name.
func TestNameKeysMoveToAndFromKubo(t *testing.T) {
	repo, files := t.TempDir(), t.TempDir()
	startDaemon(t, repo)
	k := &kubo{t: t, bin: netlab.KuboBinary(t), repo: t.TempDir()}
	if out, err := k.command("init", "--profile=test").CombinedOutput(); err != nil {
		t.Fatalf("ipfs init: %v: %s", err, out)
	}
	nameIn := regexp.MustCompile(`/ipns/(k51[a-z0-9]+)`)
	made := nameIn.FindStringSubmatch(mustKith(t, repo, "name", "keys", "new", "site"))
	if made == nil {
		t.Fatal("kith name keys new printed no name")
	}
	site := made[1]

	// kith to Kubo: the default format, then PEM.
	keyFile, pemFile := filepath.Join(files, "site.key"), filepath.Join(files, "site.pem")
	if out := mustKith(t, repo, "name", "keys", "export", "site", "-o", keyFile); !strings.Contains(out, "wrote key site to "+keyFile) {
		t.Fatalf("export said %q", out)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the exported key file: %v, %v; want it readable by its owner only", fi, err)
	}
	mustKith(t, repo, "name", "keys", "export", "site", "--format", "pem-pkcs8-cleartext", "-o", pemFile)
	if pem, _ := os.ReadFile(pemFile); !strings.HasPrefix(string(pem), "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("the PEM export begins %.40q", pem)
	}
	if got := k.must("key", "import", "site", keyFile); got != site {
		t.Fatalf("Kubo imported kith's key as %s, want %s", got, site)
	}
	if got := k.must("key", "import", "--format=pem-pkcs8-cleartext", "site-pem", pemFile); got != site {
		t.Fatalf("Kubo imported kith's PEM key as %s, want %s", got, site)
	}

	// Kubo to kith.
	blog := k.must("key", "gen", "--type=ed25519", "blog")
	blogFile := filepath.Join(files, "blog.key")
	k.must("key", "export", "blog", "-o", blogFile)
	if out := mustKith(t, repo, "name", "keys", "import", "blog", blogFile); out != "imported key blog: its name is /ipns/"+blog+" ('kith name publish --key blog CID' points it)" {
		t.Fatalf("import of Kubo's key said %q, want its name %s", out, blog)
	}
	if ls := mustKith(t, repo, "name", "keys", "ls"); !regexp.MustCompile(`(?m)^blog\s+/ipns/` + blog + `\s`).MatchString(ls) {
		t.Fatalf("name keys ls after the import:\n%s", ls)
	}
	stdout, _, err := runKith(t, repo, "name", "keys", "export", "blog", "-o", "-") // raw: a key may end in a byte that looks like space
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(blogFile); stdout != string(want) {
		t.Fatalf("export -o - wrote %d bytes, want the %d of the key Kubo exported", len(stdout), len(want))
	}

	for _, tt := range []struct {
		args []string
		says string
	}{
		{[]string{"export", "site", "-o", keyFile}, keyFile + " exists already: choose another file with -o"},
		{[]string{"export", "self", "-o", filepath.Join(files, "self.key")}, "this node's own key (self) is its identity and is not exported"},
		{[]string{"export", "nothing", "-o", filepath.Join(files, "nothing.key")}, `this node has no key "nothing"`},
		{[]string{"export", "site", "--format", "pem", "-o", filepath.Join(files, "x")}, `"pem" is not a key format: use libp2p-protobuf-cleartext or pem-pkcs8-cleartext`},
		{[]string{"import", "site-again", pemFile}, `this node has that key already, as "site"`},
		{[]string{"import", "blog", keyFile}, `this node has a key "blog" already`},
		{[]string{"import", "notes", filepath.Join(repo, "config.json")}, "not a key kith can import: neither a libp2p key"},
		{[]string{"import", "self", keyFile}, `"self" is this node's own key`},
	} {
		_, stderr, err := runKith(t, repo, append([]string{"name", "keys"}, tt.args...)...)
		if err == nil || !strings.Contains(stderr, "kith: "+tt.says) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("kith name keys %s: %v, said %q; want one line saying %q", strings.Join(tt.args, " "), err, stderr, tt.says)
		}
	}

	if out := mustKith(t, repo, "name", "keys", "rename", "blog", "journal"); out != "renamed key blog to journal: its name is still /ipns/"+blog {
		t.Fatalf("rename said %q", out)
	}
	if ls := mustKith(t, repo, "name", "keys", "ls"); !regexp.MustCompile(`(?m)^journal\s+/ipns/`+blog+`\s`).MatchString(ls) || strings.Contains(ls, "blog ") {
		t.Fatalf("name keys ls after the rename:\n%s", ls)
	}
}
