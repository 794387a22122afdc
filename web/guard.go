package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// guard rejects requests that did not come from a local client of this
// daemon: a Host header other than the daemon's own address defeats DNS
// rebinding (subdomain gateway hosts, CID.ipfs.localhost:PORT, are handed
// to the content gateway and reach nothing else), an Origin from another site defeats cross-site requests from web
// pages open in the user's browser, and the bearer token (readable only by
// the repo's owner) keeps other local users out. The web UI's page, signed
// in through `kith ui`, sends a session secret instead of the token, and
// only from its own origin.
type guard struct {
	port  string
	token string
	// sessions checks web UI session secrets; nil accepts the token only.
	sessions *sessions
	// signIn redeems a sign-in code (POST signInPath); it needs no
	// credentials but only answers the UI's own page. Nil: no route.
	signIn http.Handler
	// open are handlers served without the token (still behind the Host
	// and Origin checks).
	open map[string]http.Handler
	// public, for the GET and HEAD requests isPublic accepts, serves what
	// needs no credentials: the UI's static files and the content gateway
	// (still behind the Host and Origin checks).
	public   http.Handler
	isPublic func(path string) bool
	// gateway answers every request to a subdomain gateway host
	// (CID.ipfs.localhost:PORT), and nothing else does.
	gateway http.Handler
}

// hostAllowed accepts loopback names with the daemon's port: the API's
// and the UI's hosts. Gateway hosts are not among them.
func (g *guard) hostAllowed(hostport string) bool { return isOwnHost(hostport, g.port) }

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

// Refusals of credentials, one sentence each.
var (
	errNoCredentials = &api.Error{Kind: api.KindPermission, Message: "request refused: missing or wrong API token"}
	errSessionEnded  = &api.Error{Kind: api.KindPermission, Message: "request refused: this web UI session has ended or expired; run `kith ui` to sign in again"}
	errNotOwnPage    = &api.Error{Kind: api.KindPermission, Message: "request refused: a web UI session is accepted only from the web UI's own page"}
)

// authenticate accepts the bearer token, or a web UI session secret on a
// request the browser says came from the UI's own page. It returns r with
// the session in its context, or the refusal and its status.
func (g *guard) authenticate(r *http.Request) (*http.Request, int, error) {
	if g.tokenOK(r) {
		return r, 0, nil
	}
	secret := r.Header.Get(api.SessionHeader)
	if secret == "" || g.sessions == nil {
		return nil, http.StatusUnauthorized, errNoCredentials
	}
	if !fromOwnPage(r) {
		return nil, http.StatusForbidden, errNotOwnPage
	}
	k, ok := g.sessions.use(secret)
	if !ok {
		return nil, http.StatusUnauthorized, errSessionEnded
	}
	return r.WithContext(withSession(r.Context(), k)), 0, nil
}

func (g *guard) publicRequest(r *http.Request) bool {
	return g.public != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && g.isPublic(r.URL.Path)
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case g.gateway != nil && isGatewayHost(r.Host, g.port):
			// A gateway origin reaches the gateway and nothing else: no
			// API, no UI, whatever the path (boxo serves /api/v1/... there
			// as a path inside the CID).
			g.gateway.ServeHTTP(w, r)
		case !g.hostAllowed(r.Host):
			writeError(w, &api.Error{Kind: api.KindPermission, Message: "request refused: Host " + r.Host + " is not this daemon's address"})
		case !g.originAllowed(r.Header.Get("Origin")):
			writeError(w, &api.Error{Kind: api.KindPermission, Message: "request refused: cross-origin requests are not allowed"})
		case g.open[r.URL.Path] != nil && r.Method == http.MethodGet:
			g.open[r.URL.Path].ServeHTTP(w, r)
		case g.publicRequest(r):
			g.public.ServeHTTP(w, r)
		case g.signIn != nil && r.Method == http.MethodPost && r.URL.Path == signInPath:
			// Checked before a code is touched, so a refused request
			// does not use it up.
			if !fromOwnPage(r) {
				writeError(w, &api.Error{Kind: api.KindPermission, Message: "request refused: sign-in codes are redeemed only by the web UI's own page"})
				return
			}
			g.signIn.ServeHTTP(w, r)
		default:
			ar, status, err := g.authenticate(r)
			if err != nil {
				if status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", "Bearer")
				}
				writeErrorStatus(w, status, err)
				return
			}
			next.ServeHTTP(w, ar)
		}
	})
}
