package dag

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ipfs/go-cid"
)

// fromGatewayURL reads an HTTP gateway's URL, as people copy it from a
// browser, as the content path it names: https://GATEWAY/ipfs/CID/a/b (a
// path gateway), https://CID.ipfs.GATEWAY/a/b (a subdomain gateway), and
// the same with /ipns/ and ipns for a name (a DNSLink domain inlined in
// one label, docs-example-org, read back as docs.example.org). ok is false
// when s is no http(s) URL. Only the path is read from it: the gateway is
// never asked anything, the content comes from peers and is checked
// against its CID as always.
func fromGatewayURL(s string) (p string, ok bool, err error) {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return "", false, nil
	}
	bad := fmt.Errorf("%q %w (a URL must name /ipfs/ or /ipns/ content, as a gateway's do)", s, ErrBadPath)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", true, bad
	}
	labels := strings.Split(strings.ToLower(u.Hostname()), ".")
	for i := 1; i < len(labels)-1; i++ {
		ns := labels[i]
		if ns != "ipfs" && ns != "ipns" {
			continue
		}
		root := strings.Join(labels[:i], ".")
		if ns == "ipns" && !strings.Contains(root, ".") && strings.Contains(root, "-") {
			root = uninlineDNSLink(root)
		}
		// gateway.ipfs.io is a path gateway's host, not a CID's.
		if _, err := cid.Decode(root); ns == "ipfs" && err != nil {
			continue
		}
		if _, err := CheckIPNSName(root); ns == "ipns" && err != nil {
			continue
		}
		return "/" + ns + "/" + root + u.Path, true, nil
	}
	if strings.HasPrefix(u.Path, "/ipfs/") || strings.HasPrefix(u.Path, "/ipns/") {
		return u.Path, true, nil
	}
	return "", true, bad
}

// uninlineDNSLink reads a DNSLink domain a subdomain gateway put in one
// label: "-" was ".", "--" was "-" (docs-example-org, my--site-org).
func uninlineDNSLink(label string) string {
	return strings.NewReplacer("--", "-", "-", ".").Replace(label)
}
