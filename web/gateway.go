package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/ipfs/boxo/gateway"
	ipath "github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// The content gateway is boxo's (the IPFS HTTP gateway specification:
// path, subdomain and trustless gateways) over what the backend serves:
// the repo, and content held by peers, fetched as requests read it, and
// names (IPNS names and DNSLink domains) looked up as `kith get` looks
// them up. It answers on two kinds of host:
//
//   - the daemon's own address (127.0.0.1:PORT, [::1]:PORT): the path
//     gateway, /ipfs/CID[/path] and /ipns/NAME[/path]. That origin is the
//     web UI's, so everything is sandboxed (pathPolicy): shared HTML or
//     SVG runs without scripts, in an opaque origin. On localhost:PORT,
//     both redirect to the subdomain gateway, as Kubo's do.
//   - CID.ipfs.localhost:PORT and NAME.ipns.localhost:PORT (browsers
//     resolve *.localhost to loopback): the subdomain gateway. Every CID
//     and every name is an origin of its own, which holds no credential
//     and reaches no API (the guard sends a gateway host nothing but
//     this), so content runs there as the web would run it, scripts
//     included. The web UI opens previews there.
//
// A request's Host is never looked up in DNS (NoDNSLink): a DNSLink site
// is opened by its name, /ipns/DOMAIN or DOMAIN.ipns.localhost, so a page
// can make the daemon ask DNS only by a link the user follows.

// gatewayDomain is the subdomain gateway's parent: CID.ipfs.localhost,
// NAME.ipns.localhost.
const gatewayDomain = "localhost"

// pathPolicy sandboxes everything the path gateway serves. Shared content
// is untrusted and the path gateway shares the UI's origin: without the
// sandbox, shared HTML or SVG would run with that origin, read the page's
// session from its storage and drive the API with it. "sandbox" with no
// allow-same-origin gives the document an opaque origin (no access to the
// UI's storage, and its requests carry Origin: null, which the guard
// refuses) and, with no allow-scripts, runs none of its scripts at all.
//
// PDFs are the exception Chromium makes: it gives the document that holds
// its PDF viewer the gateway's origin whatever the sandbox says (see
// web/ui/pdf_test.go). That document is the browser's own, with no script
// from the file, but it is why the UI opens previews on the subdomain
// gateway, whose origins hold nothing.
const pathPolicy = "sandbox"

// newGateway returns the gateway handler for a daemon on port.
func newGateway(gw api.Gateway, port string, reg prometheus.Registerer) http.Handler {
	backend := gw.GatewayBackend()
	if reg == nil {
		reg = prometheus.NewRegistry() // boxo's metrics, unexported
	}
	cfg := gateway.Config{
		DeserializedResponses: true,
		NoDNSLink:             true,
		DisableHTMLErrors:     true,
		PublicGateways: map[string]*gateway.PublicGateway{
			// A DNSLink domain keeps its dots (docs.example.org.ipns.
			// localhost), as on Kubo's localhost: there is no certificate
			// for a label to fit.
			gatewayDomain: {Paths: []string{"/ipfs", "/ipns"}, UseSubdomains: true, NoDNSLink: true, DeserializedResponses: true},
		},
		MetricsRegistry: reg,
	}
	inner := folderDownloads(gw, gateway.NewHandler(cfg, backend))
	hosts := gateway.NewHostnameHandler(cfg, backend, inner)
	return &gatewayFront{port: port, next: hosts}
}

// gatewayFront does what kith adds in front of boxo: refuses requests
// another site makes the browser send, sets the headers each host's
// answers carry, and cuts a stream that failed midway.
type gatewayFront struct {
	port string
	next http.Handler
}

func (g *gatewayFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// No proxy stands in front of the daemon: a client must not choose
	// the host boxo routes by.
	r.Header.Del("X-Forwarded-Host")
	r.Header.Del("X-Forwarded-Proto")
	if !g.invited(r) {
		gatewayRefusal(w, "request refused: another site may link to content on this gateway but not embed it")
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if isGatewayHost(r.Host, g.port) {
		// Framed by the UI (previews) or by other content here, no one else.
		h.Set("Content-Security-Policy", "frame-ancestors 'self' "+strings.Join(g.ownOrigins(), " "))
		// The UI (another site: 127.0.0.1) embeds previews from here;
		// invited already refused everyone else.
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	} else {
		h.Set("Content-Security-Policy", pathPolicy)
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Referrer-Policy", "no-referrer")
	}
	sw := &streamWriter{ResponseWriter: w}
	g.next.ServeHTTP(sw, r)
	if sw.wrote && h.Get("X-Stream-Error") != "" {
		// boxo reports a CAR or tar stream that failed after its headers
		// in a header nobody receives; cut the connection instead, so the
		// client sees a failure rather than a short file.
		panic(http.ErrAbortHandler)
	}
}

// invited tells requests the browser sends because the user asked (a
// typed address, a link followed, this daemon's own pages) from those
// another site's page makes it send by embedding content, which would let
// any site make the daemon fetch from peers and time what it holds.
// Requests without fetch metadata come from programs, not pages.
func (g *gatewayFront) invited(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return true
	}
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document" {
		return true // a link followed, from anywhere: as on any gateway
	}
	// Embedded by the web UI or by content on this gateway: browsers
	// send their origin as the Referer (same-site is not enough: ports
	// do not count, and another gateway on *.ipfs.localhost serves
	// anyone's pages).
	ref, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || ref.Scheme != "http" {
		return false
	}
	return isOwnHost(ref.Host, g.port) || isGatewayHost(ref.Host, g.port)
}

// ownOrigins are the web UI's origins, for frame-ancestors.
func (g *gatewayFront) ownOrigins() []string {
	return []string{"http://127.0.0.1:" + g.port, "http://localhost:" + g.port, "http://[::1]:" + g.port,
		"http://*.ipfs." + gatewayDomain + ":" + g.port, "http://*.ipns." + gatewayDomain + ":" + g.port}
}

// isOwnHost accepts the daemon's loopback names with its port.
func isOwnHost(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || p != port {
		return false
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// isGatewayHost accepts the subdomain gateway's hosts: LABEL.ipfs.localhost:PORT,
// where LABEL is a CID (boxo redirects other spellings of one to its
// canonical label), and NAME.ipns.localhost:PORT, where NAME is an IPNS
// name or a DNSLink domain (dots kept, or inlined in one label as
// docs-example-org, which boxo reads back).
func isGatewayHost(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || p != port {
		return false
	}
	host = strings.ToLower(host)
	if label, ok := strings.CutSuffix(host, ".ipfs."+gatewayDomain); ok {
		if label == "" || strings.Contains(label, ".") {
			return false
		}
		_, err = cid.Decode(label)
		return err == nil
	}
	name, ok := strings.CutSuffix(host, ".ipns."+gatewayDomain)
	if !ok || name == "" {
		return false
	}
	if _, err := cid.Decode(name); err == nil {
		return true // a name's key as a CID (k51...)
	}
	if !strings.Contains(name, ".") {
		name = gateway.UninlineDNSLink(name)
	}
	domain, err := dag.CheckIPNSName(name)
	return err == nil && domain
}

// folderDownloads makes ?download=true on a folder what it was before the
// gateway was boxo's: a tar archive (boxo's format=tar), named after the
// folder, rather than its listing; the folder in it is named so too
// (tarRenamer), not by its CID.
func folderDownloads(gw api.Gateway, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		isPath := strings.HasPrefix(r.URL.Path, "/ipfs/") || strings.HasPrefix(r.URL.Path, "/ipns/")
		if q.Get("download") != "true" || q.Get("format") != "" || !isPath || strings.Contains(r.Header.Get("Accept"), "application/") {
			next.ServeHTTP(w, r)
			return
		}
		root, sub, err := contentRoot(r.Context(), gw, r.URL.Path)
		var status *gateway.ErrorStatusCode
		switch {
		case errors.As(err, &status):
			// A name not looked up (said now: boxo would look it up
			// again, as long again).
			gatewayError(w, status.StatusCode, api.Sentence(status.Err))
			return
		case err != nil:
			next.ServeHTTP(w, r) // an error boxo will report
			return
		}
		e, err := gw.Resolve(r.Context(), root, sub)
		if err != nil || e.Type != "dir" {
			next.ServeHTTP(w, r) // a file, or an error boxo will report
			return
		}
		name := q.Get("filename")
		if name == "" {
			if name = path.Base(strings.TrimRight(r.URL.Path, "/")); strings.HasPrefix(name, "/") || name == "." {
				name = root.String()
			}
		}
		if !strings.HasSuffix(name, ".tar") {
			name += ".tar"
		}
		q.Set("format", "tar")
		q.Set("filename", name)
		r.URL.RawQuery = q.Encode()
		folder := tarFolderName(name)
		if folder == "" || folder == e.Cid {
			next.ServeHTTP(w, r)
			return
		}
		tw := newTarRenamer(w, e.Cid, folder)
		next.ServeHTTP(tw, r)
		tw.finish()
	})
}

// contentRoot splits a gateway path, /ipfs/CID[/sub] or /ipns/NAME[/sub],
// into the CID it starts from and the path under it (a name looked up as
// the gateway looks it up, its record's path joined with the rest).
func contentRoot(ctx context.Context, gw api.Gateway, p string) (cid.Cid, string, error) {
	cp, err := ipath.NewPath(p)
	if err != nil {
		return cid.Undef, "", err
	}
	ip, _, _, err := gw.GatewayBackend().ResolveMutable(ctx, cp)
	if err != nil {
		return cid.Undef, "", err
	}
	return ip.RootCid(), strings.Join(ip.Segments()[2:], "/"), nil
}

// streamWriter notes whether the response has started.
type streamWriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *streamWriter) WriteHeader(code int) {
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *streamWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush lets boxo stream listings and archives as they are made.
func (s *streamWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// gatewayRefusal is a gateway's refusal: plain text, one sentence.
func gatewayRefusal(w http.ResponseWriter, msg string) {
	gatewayError(w, http.StatusForbidden, msg)
}

// gatewayError is a gateway error: plain text, one sentence, as boxo's.
func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
