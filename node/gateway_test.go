package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestGateway serves a folder through /ipfs/CID/path with no credentials:
// ranges for seeking, content types by name then by sniffing, a folder
// listing, the sandbox and nosniff headers, and 404 for what is not here.
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
	base := "http://" + n.APIAddr() + "/ipfs/" + res.Cid
	get := func(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
		ctype  string
		body   []byte // exact, when not nil
		has    string // substring, when not empty
	}{
		{"whole file", "/clip.mp4", nil, 200, "video/mp4", video, ""},
		{"range", "/clip.mp4", map[string]string{"Range": "bytes=1000-1999"}, 206, "video/mp4", video[1000:2000], ""},
		{"sniffed text", "/notes", nil, 200, "text/plain; charset=utf-8", nil, "plain words"},
		{"html stays html", "/page.html", nil, 200, "text/html; charset=utf-8", page, ""},
		{"folder listing", "/", nil, 200, "text/html; charset=utf-8", nil, `<a href="sub%20folder/">sub folder/</a>`},
		{"space in a path", "/sub%20folder/a.txt", nil, 200, "text/plain; charset=utf-8", []byte("a"), ""},
		{"missing entry", "/nope.txt", nil, 404, "text/plain; charset=utf-8", nil, "not in this node"},
		{"bad cid", "not-a-cid", nil, 400, "text/plain; charset=utf-8", nil, "not a valid CID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := base + tt.path
			if !strings.HasPrefix(tt.path, "/") {
				url = "http://" + n.APIAddr() + "/ipfs/" + tt.path
			}
			resp, body := get(t, url, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != "sandbox" {
				t.Errorf("Content-Security-Policy %q, want sandbox", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body of %d bytes differs from the %d expected", len(body), len(tt.body))
			}
			if tt.has != "" && !strings.Contains(string(body), tt.has) {
				t.Errorf("body lacks %q:\n%s", tt.has, body)
			}
		})
	}

	t.Run("download", func(t *testing.T) {
		resp, _ := get(t, base+"/notes?download=true&filename=my%20notes.txt", nil)
		if got := resp.Header.Get("Content-Disposition"); got != "attachment; filename*=UTF-8''my%20notes.txt" {
			t.Fatalf("Content-Disposition %q", got)
		}
		resp, body := get(t, base+"/?download=true&filename=site", nil)
		if resp.Header.Get("Content-Type") != "application/x-tar" || !bytes.Contains(body, video[:512]) {
			t.Fatalf("folder download: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
		}
	})
	t.Run("folder without slash redirects", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(base + "/sub%20folder")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || !strings.HasSuffix(resp.Header.Get("Location"), "/sub%20folder/") {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("host check stays", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, base+"/notes", nil)
		req.Host = fmt.Sprintf("evil.example:%s", strings.Split(n.APIAddr(), ":")[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d for a foreign Host", resp.StatusCode)
		}
	})
	t.Run("content not in the repo", func(t *testing.T) {
		resp, _ := get(t, "http://"+n.APIAddr()+"/ipfs/bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d for a CID not in the repo", resp.StatusCode)
		}
	})
}

// TestGatewayHeadersByType checks that every kind of answer carries the
// same sandbox and nosniff headers (PDFs included: they need no narrower
// policy, see web/gateway.go), and that the type follows the name, so a
// file named .pdf is never served as HTML whatever its bytes.
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
	base := "http://" + n.APIAddr() + "/ipfs/" + res.Cid
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/doc.pdf", 200, "application/pdf"},
		{"/no-ext-pdf", 200, "application/pdf"},
		{"/fake.pdf", 200, "application/pdf"},
		{"/no-ext-htm?filename=x.pdf", 200, "application/pdf"},
		{"/page.html", 200, "text/html; charset=utf-8"},
		{"/page.xhtml", 200, "application/xhtml+xml"},
		{"/no-ext-htm", 200, "text/html; charset=utf-8"},
		{"/pic.svg", 200, "image/svg+xml"},
		{"/feed.xml", 200, "text/xml; charset=utf-8"},
		{"/", 200, "text/html; charset=utf-8"},
		{"/sub", 301, ""},
		{"/missing.pdf", 404, "text/plain; charset=utf-8"},
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := noRedirect.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
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
