package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

const (
	// loginCodeTTL is how long a login link works: long enough to switch to
	// the browser, short enough that a link seen in a process list or a
	// shell history is useless by the time anyone else reads it.
	loginCodeTTL = 2 * time.Minute
	// maxLoginCodes bounds the codes waiting to be redeemed.
	maxLoginCodes = 32
	// sessionMaxAge keeps the browser signed in across daemon restarts.
	sessionMaxAge = 30 * 24 * time.Hour
)

// sessions signs browsers in without the API token ever reaching a page:
// `kith ui` (which can read the token file) asks for a one-time login code,
// the browser redeems it at /login, and gets an HttpOnly cookie whose value
// is derived from the token. Scripts cannot read the cookie, other sites
// never get it sent (SameSite=Strict, and the guard's Origin and
// Sec-Fetch-Site checks), and a leaked cookie is not the token itself.
type sessions struct {
	token string
	port  string

	mu    sync.Mutex
	codes map[string]time.Time // code -> expiry
}

func newSessions(token, port string) *sessions {
	return &sessions{token: token, port: port, codes: map[string]time.Time{}}
}

// cookieName carries the port because cookies ignore ports: two daemons on
// 127.0.0.1 must not overwrite each other's session.
func (s *sessions) cookieName() string { return "kith_session_" + s.port }

// value is the session cookie's value: an HMAC of a fixed label under the
// token, so it changes when the token does and reveals nothing of it.
func (s *sessions) value() string {
	m := hmac.New(sha256.New, []byte(s.token))
	m.Write([]byte("kith web ui session v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newCode issues a one-time login code.
func (s *sessions) newCode() (string, time.Time) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	code := base64.RawURLEncoding.EncodeToString(b[:])
	exp := time.Now().Add(loginCodeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	for len(s.codes) >= maxLoginCodes {
		for c := range s.codes {
			delete(s.codes, c)
			break
		}
	}
	s.codes[code] = exp
	return code, exp
}

// redeem consumes code; it is true once per valid, unexpired code.
func (s *sessions) redeem(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	for c := range s.codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			delete(s.codes, c)
			return true
		}
	}
	return false
}

func (s *sessions) pruneLocked() {
	now := time.Now()
	for c, exp := range s.codes {
		if now.After(exp) {
			delete(s.codes, c)
		}
	}
}

// cookieOK reports whether r carries this daemon's session cookie.
func (s *sessions) cookieOK(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.value())) == 1
}

// sameOriginFetch reports whether a cookie-carrying request came from this
// daemon's own pages or from the user (typed URL, bookmark). Browsers send
// cookies to every port of 127.0.0.1 (it is one "site"), so a page on
// another local port could otherwise make credentialed GETs (an <img>, a
// link); Sec-Fetch-Site tells them apart. Browsers too old to send it are
// still held to the Origin check.
func sameOriginFetch(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// setCookie signs the browser in.
func (s *sessions) setCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(),
		Value:    s.value(),
		Path:     "/",
		MaxAge:   int(sessionMaxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// handleLoginCode issues a login URL; the route needs the bearer token, so
// only a local client that can read the repo (kith ui) gets one.
func (s *Server) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	code, exp := s.sessions.newCode()
	writeJSON(w, api.LoginCode{URL: "http://" + s.Addr() + "/login?code=" + code, Expires: exp.UTC()})
}

// handleLogin redeems a login code for the session cookie and sends the
// browser to the UI.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// The code must not leak to other sites through the Referer of
	// anything the next page loads.
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !s.sessions.redeem(r.URL.Query().Get("code")) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(loginFailedPage))
		return
	}
	s.sessions.setCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

const loginFailedPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kith: sign-in link expired</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>This sign-in link has expired or was already used</h1>
<p>Run <code>kith ui</code> in a terminal to open a new one.</p>
</body></html>
`
