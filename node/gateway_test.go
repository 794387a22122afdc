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

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// gatewayGet sends a GET to the daemon's address with the given Host (the
// daemon's own address when empty) and headers, following no redirect.
func gatewayGet(t *testing.T, n *Node, host, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+n.APIAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp, b
}

// port is the daemon's API port.
func port(n *Node) string { return n.APIAddr()[strings.LastIndex(n.APIAddr(), ":")+1:] }

// TestGateway serves a folder through the path gateway, /ipfs/CID/path,
// with no credentials: ranges for seeking, content types by name then by
// sniffing, a folder listing, the sandbox and nosniff headers, and 404 for
// what nobody has.
func TestGateway(t *testing.T) {
	n, c := startNode(t)
	ctx := context.Background()
	video := randomData(300 << 10)
	page := []byte("<!doctype html><script>alert(1)</script><p>hi</p>")
	dir := files.NewMapDirectory(map[string]files.Node{
		"clip.mp4":   files.NewBytesFile(video),
		"notes":      files.NewBytesFile([]byte("plain words, no extension\n")),
		"page.html":  files.NewBytesFile(page),
		"sub folder": files.NewMapDirectory(map[string]files.Node{"a.txt": files.NewBytesFile([]byte("a"))}),
	})
	res, err := c.Add(ctx, "site", dir, 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "/ipfs/" + res.Cid
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
		ctype  string
		body   []byte // exact, when not nil
		has    string // substring, when not empty
	}{
		{"whole file", base + "/clip.mp4", nil, 200, "video/mp4", video, ""},
		{"range", base + "/clip.mp4", map[string]string{"Range": "bytes=1000-1999"}, 206, "video/mp4", video[1000:2000], ""},
		{"suffix range", base + "/clip.mp4", map[string]string{"Range": "bytes=-100"}, 206, "video/mp4", video[len(video)-100:], ""},
		{"sniffed text", base + "/notes", nil, 200, "text/plain; charset=utf-8", nil, "plain words"},
		{"html stays html", base + "/page.html", nil, 200, "text/html", page, ""},
		{"folder listing", base + "/", nil, 200, "text/html", nil, ">sub folder</a>"},
		{"space in a path", base + "/sub%20folder/a.txt", nil, 200, "text/plain; charset=utf-8", []byte("a"), ""},
		{"missing entry", base + "/nope.txt", nil, 404, "text/plain; charset=utf-8", nil, `no link named "nope.txt"`},
		{"bad cid", "/ipfs/not-a-cid", nil, 400, "text/plain; charset=utf-8", nil, "invalid cid"},
		{"nobody has it", "/ipfs/bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe", nil, 404, "text/plain; charset=utf-8", nil, "neither in this repo nor with any peer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := gatewayGet(t, n, "", tt.path, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Content-Type"); tt.ctype != "" && got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body of %d bytes differs from the %d expected", len(body), len(tt.body))
			}
			if tt.has != "" && !strings.Contains(string(body), tt.has) {
				t.Errorf("body lacks %q:\n%.2000s", tt.has, body)
			}
		})
	}

	t.Run("download", func(t *testing.T) {
		resp, _ := gatewayGet(t, n, "", base+"/notes?download=true&filename=my%20notes.txt", nil)
		if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment;") || !strings.Contains(got, "filename*=UTF-8''my%20notes.txt") {
			t.Fatalf("Content-Disposition %q", got)
		}
		resp, body := gatewayGet(t, n, "", base+"/?download=true&filename=site", nil)
		if resp.Header.Get("Content-Type") != "application/x-tar" || !bytes.Contains(body, video[:512]) {
			t.Fatalf("folder download: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
		}
		if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, "site.tar") {
			t.Fatalf("folder download named %q, want site.tar", got)
		}
		// Unpacked, it is ./site, not ./CID.
		tr := tar.NewReader(bytes.NewReader(body))
		var names []string
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("the archive, after %v: %v", names, err)
			}
			names = append(names, hdr.Name)
			if hdr.Name == "site/clip.mp4" {
				if b, _ := io.ReadAll(tr); !bytes.Equal(b, video) {
					t.Fatalf("site/clip.mp4 in the archive: %d bytes differ from the file's", len(b))
				}
			}
		}
		if !slices.Contains(names, "site/clip.mp4") || !slices.Contains(names, "site/sub folder/a.txt") || slices.ContainsFunc(names, func(n string) bool { return !strings.HasPrefix(n, "site") }) {
			t.Fatalf("the archive holds %v, want everything under site/", names)
		}
	})
	t.Run("folder without slash redirects", func(t *testing.T) {
		resp, _ := gatewayGet(t, n, "", base+"/sub%20folder", nil)
		if resp.StatusCode != http.StatusMovedPermanently || !strings.HasSuffix(resp.Header.Get("Location"), "/sub%20folder/") {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("host check stays", func(t *testing.T) {
		resp, _ := gatewayGet(t, n, "evil.example:"+port(n), base+"/notes", nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d for a foreign Host", resp.StatusCode)
		}
	})
}

// TestGatewayHeadersByType checks that every kind of answer of the path
// gateway carries the same sandbox and nosniff headers (PDFs included, see
// web/gateway.go), and that the type follows the name, so a file named
// .pdf is never served as HTML whatever its bytes.
func TestGatewayHeadersByType(t *testing.T) {
	n, c := startNode(t)
	page := []byte("<!doctype html><script>alert(1)</script>")
	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n")
	dir := files.NewMapDirectory(map[string]files.Node{
		"page.html":  files.NewBytesFile(page),
		"page.xhtml": files.NewBytesFile(page),
		"pic.svg":    files.NewBytesFile([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)),
		"feed.xml":   files.NewBytesFile([]byte(`<?xml version="1.0"?><a/>`)),
		"doc.pdf":    files.NewBytesFile(pdf),
		"no-ext-pdf": files.NewBytesFile(pdf),
		"no-ext-htm": files.NewBytesFile(page),
		"fake.pdf":   files.NewBytesFile(page),
		"sub":        files.NewMapDirectory(map[string]files.Node{"a.txt": files.NewBytesFile([]byte("a"))}),
	})
	res, err := c.Add(context.Background(), "mixed", dir, 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "/ipfs/" + res.Cid
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/doc.pdf", 200, "application/pdf"},
		{"/no-ext-pdf", 200, "application/pdf"},
		{"/fake.pdf", 200, "application/pdf"},
		{"/no-ext-htm?filename=x.pdf", 200, "application/pdf"},
		{"/page.html", 200, "text/html"},
		{"/page.xhtml", 200, "application/xhtml+xml"},
		{"/no-ext-htm", 200, "text/html"},
		{"/pic.svg", 200, "image/svg+xml"},
		{"/feed.xml", 200, "text/xml; charset=utf-8"},
		{"/", 200, "text/html"},
		{"/sub", 301, ""},
		{"/missing.pdf", 404, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, _ := gatewayGet(t, n, "", base+tt.path, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Type"); tt.ctype != "" && got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != "sandbox" {
				t.Errorf("Content-Security-Policy %q, want exactly sandbox", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}

// TestGatewayEmbedding: another site may link to content (a navigation)
// but not embed it, which would make the daemon fetch from peers and let
// the site time what it holds; the web UI and content on the gateway may.
func TestGatewayEmbedding(t *testing.T) {
	n, c := startNode(t)
	res, err := c.Add(context.Background(), "pic.png", files.NewBytesFile([]byte("not really a png")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := port(n)
	sub := res.Cid + ".ipfs.localhost:" + p
	embed := func(site, referer string) map[string]string {
		h := map[string]string{"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
		if referer != "" {
			h["Referer"] = referer
		}
		return h
	}
	tests := []struct {
		name   string
		host   string
		path   string
		header map[string]string
		status int
	}{
		{"program", sub, "/", nil, 200},
		{"typed address", sub, "/", map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, 200},
		{"link from another site", sub, "/", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, 200},
		{"framed by another site", sub, "/", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe", "Referer": "http://evil.example/"}, 403},
		{"embedded by another site", sub, "/", embed("cross-site", "http://evil.example/"), 403},
		{"embedded without referer", sub, "/", embed("cross-site", ""), 403},
		{"embedded by another local port", sub, "/", embed("same-site", "http://other.ipfs.localhost:8080/"), 403},
		{"embedded by the UI", sub, "/", embed("cross-site", "http://127.0.0.1:"+p+"/"), 200},
		{"embedded by other content here", sub, "/", embed("same-site", "http://bafkqaaa.ipfs.localhost:"+p+"/"), 200},
		{"path gateway, same origin", "", "/ipfs/" + res.Cid, embed("same-origin", ""), 200},
		{"path gateway, another local app", "", "/ipfs/" + res.Cid, embed("same-site", "http://127.0.0.1:3000/"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := gatewayGet(t, n, tt.host, tt.path, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
		})
	}
}

// TestGatewayErrorsAreOneLine: errors are plain text, not boxo's HTML page
// with links to the public IPFS web.
func TestGatewayErrorsAreOneLine(t *testing.T) {
	n, _ := startNode(t)
	resp, body := gatewayGet(t, n, "", "/ipfs/not-a-cid", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "<") || strings.Count(strings.TrimSpace(string(body)), "\n") != 0 {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
}
