package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// guard rejects requests that did not come from a local client of this
// daemon: a Host header other than the daemon's own address defeats DNS
// rebinding, an Origin from another site defeats cross-site requests from web
// pages open in the user's browser, and the bearer token (readable only by
// the repo's owner) keeps other local users out. A browser signed in through
// `kith ui` carries a session cookie instead of the token.
type guard struct {
	port  string
	token string
	// sessions checks the browser's cookie; nil accepts the token only.
	sessions *sessions
	// open are handlers served without the token (still behind the Host
	// and Origin checks).
	open map[string]http.Handler
	// public, for the GET and HEAD requests isPublic accepts, serves what
	// needs no credentials: the UI's static files, /login and the content
	// gateway (still behind the Host and Origin checks).
	public   http.Handler
	isPublic func(path string) bool
}

// hostAllowed accepts loopback names with the daemon's port.
func (g *guard) hostAllowed(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != g.port {
		return false
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

func (g *guard) originAllowed(origin string) bool {
	if origin == "" {
		return true // not a browser, or a same-origin GET
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" {
		return false
	}
	return g.hostAllowed(u.Host)
}

func (g *guard) tokenOK(r *http.Request) bool {
	h := r.Header.Get(api.TokenHeader)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(g.token)) == 1
}

// authenticated accepts the bearer token, or the session cookie on a
// request the browser says came from this daemon's own pages.
func (g *guard) authenticated(r *http.Request) bool {
	if g.tokenOK(r) {
		return true
	}
	return g.sessions != nil && g.sessions.cookieOK(r) && sameOriginFetch(r)
}

func (g *guard) publicRequest(r *http.Request) bool {
	return g.public != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && g.isPublic(r.URL.Path)
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !g.hostAllowed(r.Host):
			writeError(w, &api.Error{Kind: api.KindPermission, Message: "request refused: Host " + r.Host + " is not this daemon's address"})
		case !g.originAllowed(r.Header.Get("Origin")):
			writeError(w, &api.Error{Kind: api.KindPermission, Message: "request refused: cross-origin requests are not allowed"})
		case g.open[r.URL.Path] != nil && r.Method == http.MethodGet:
			g.open[r.URL.Path].ServeHTTP(w, r)
		case g.publicRequest(r):
			g.public.ServeHTTP(w, r)
		case !g.authenticated(r):
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeErrorStatus(w, http.StatusUnauthorized, &api.Error{Kind: api.KindPermission, Message: "request refused: missing or wrong API token"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}
