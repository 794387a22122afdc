package node

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// TestGatewayNames: a node publishes a site under its IPNS name; another
// node's gateway serves it by that name, on the path gateway (sandboxed,
// as /ipfs/ is) and on the name's own subdomain origin, which localhost
// redirects to, and serves the signed record itself for clients that
// check it. A name no one published is 404 and a mistyped one 400, each
// with the sentence `kith get` says.
func TestGatewayNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	page := "<!doctype html><title>site</title><script src=app.js></script>"
	report := "the report, version 1\n"
	site, err := a.Add(ctx, "site", files.NewMapDirectory(map[string]files.Node{
		"index.html": files.NewBytesFile([]byte(page)),
		"app.js":     files.NewBytesFile([]byte("document.title = 'ran'")),
		"docs":       files.NewMapDirectory(map[string]files.Node{"report.txt": files.NewBytesFile([]byte(report))}),
	}), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "a peer in A's routing table", func() bool { return a.dht.RoutingTableSize() > 0 })
	rec, err := a.PublishName(ctx, cid.MustParse(site.Cid), api.NameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	name, p := rec.Name, port(b)

	resp, body := gatewayGet(t, b, "", "/ipns/"+name+"/docs/report.txt", nil)
	if resp.StatusCode != http.StatusOK || string(body) != report {
		t.Fatalf("/ipns/NAME/docs/report.txt: %d %q, want the report", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != "sandbox" {
		t.Errorf("the path gateway served a name with Content-Security-Policy %q, want sandbox", got)
	}
	if got := resp.Header.Get("X-Ipfs-Roots"); !strings.Contains(got, site.Cid) {
		t.Errorf("X-Ipfs-Roots %q, want the site's CID %s", got, site.Cid)
	}

	resp, _ = gatewayGet(t, b, "localhost:"+p, "/ipns/"+name+"/docs/", nil)
	want := "http://" + name + ".ipns.localhost:" + p + "/docs/"
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != want {
		t.Fatalf("localhost's /ipns/NAME/docs/: %d to %q, want a redirect to %s", resp.StatusCode, loc, want)
	}
	resp, body = gatewayGet(t, b, name+".ipns.localhost:"+p, "/", nil)
	if resp.StatusCode != http.StatusOK || string(body) != page {
		t.Fatalf("the name's subdomain: %d %q, want the site's index.html", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "frame-ancestors") {
		t.Errorf("the name's subdomain answered with Content-Security-Policy %q, want frame-ancestors only (its scripts run)", csp)
	}
	resp, body = gatewayGet(t, b, name+".ipns.localhost:"+p, "/api/v1/id", map[string]string{"Authorization": "Bearer " + b.Token()})
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), b.Host().ID().String()) {
		t.Fatalf("/api/v1/id on a name's subdomain: %d %.200s, want the gateway's 404", resp.StatusCode, body)
	}

	// A folder downloads as a tar named after it, as under /ipfs/.
	resp, body = gatewayGet(t, b, "", "/ipns/"+name+"/docs/?download=true", nil)
	if resp.Header.Get("Content-Type") != "application/x-tar" || !strings.Contains(resp.Header.Get("Content-Disposition"), "docs.tar") {
		t.Fatalf("a folder under the name, downloaded: %d %s, %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	if tr := tar.NewReader(bytes.NewReader(body)); !slices.Contains(tarNames(t, tr), "docs/report.txt") {
		t.Fatalf("the folder's archive lacks docs/report.txt")
	}

	resp, body = gatewayGet(t, b, "", "/ipns/"+name+"?format=ipns-record", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("?format=ipns-record: %d %s", resp.StatusCode, body)
	}
	r, err := ipns.UnmarshalRecord(body)
	if err != nil {
		t.Fatalf("the record served: %v", err)
	}
	n, err := ipns.NameFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipns.ValidateWithName(r, n); err != nil {
		t.Fatalf("the record served does not validate: %v", err)
	}
	if v, err := r.Value(); err != nil || v.String() != "/ipfs/"+site.Cid {
		t.Fatalf("the record served points to %v (%v), want /ipfs/%s", v, err, site.Cid)
	}

	nobody := unpublishedName(t).String()
	for _, tt := range []struct {
		host, path string
		status     int
		says       string
	}{
		{"", "/ipns/" + nobody + "/", 404, "no peer in the DHT holds a record of /ipns/" + nobody},
		{nobody + ".ipns.localhost:" + p, "/", 404, "no peer in the DHT holds a record of /ipns/" + nobody},
		{"", "/ipns/" + nobody + "?format=ipns-record", 404, "no peer in the DHT holds a record of /ipns/" + nobody},
		{"", "/ipns/" + nobody + "/docs/?download=true", 404, "no peer in the DHT holds a record of /ipns/" + nobody},
		{"", "/ipns/not_a_name/", 400, `"not_a_name" is neither an IPNS name`},
		{"", "/ipns/" + name + "/nothing.txt", 404, `no link named "nothing.txt"`},
	} {
		resp, body := gatewayGet(t, b, tt.host, tt.path, nil)
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.says) {
			t.Errorf("%s%s: %d %q, want %d saying %q", tt.host, tt.path, resp.StatusCode, body, tt.status, tt.says)
		}
	}
}

// tarNames lists the entries of an archive.
func tarNames(t *testing.T, tr *tar.Reader) []string {
	t.Helper()
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("the archive, after %v: %v", names, err)
		}
		names = append(names, hdr.Name)
	}
}
