package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// signInPath redeems a sign-in code. It takes no credentials (the code is
// one), so the guard serves it apart from the authenticated routes.
const signInPath = api.Prefix + "/ui/session"

// errTokenOnly refuses a web UI session on the routes that issue sign-in
// codes: a session that could mint codes could outlive its own expiry and
// a revocation.
var errTokenOnly = &api.Error{Kind: api.KindPermission, Message: "sign-in links are issued to the kith command only, not to a web UI session"}

// handleLoginCode issues a one-time sign-in link; only a holder of the API
// token (kith ui, which can read the repo) gets one.
func (s *Server) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	if _, ok := sessionOf(r); ok {
		writeError(w, errTokenOnly)
		return
	}
	code, id, exp := s.sessions.newCode()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, api.LoginCode{ID: id, URL: "http://" + s.Addr() + "/#signin=" + code, Expires: exp.UTC()})
}

// handleLoginWait answers once the sign-in link named by ?id= is used or
// has expired, so `kith ui` can remove the file that holds it.
func (s *Server) handleLoginWait(w http.ResponseWriter, r *http.Request) {
	if _, ok := sessionOf(r); ok {
		writeError(w, errTokenOnly)
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, fmt.Errorf("missing id parameter: %w", api.ErrInvalid))
		return
	}
	state, err := s.sessions.wait(r.Context(), id)
	if err != nil {
		writeError(w, fmt.Errorf("wait for the browser to sign in: %w", err))
		return
	}
	writeJSON(w, api.LoginState{State: state})
}

// handleSignIn redeems a sign-in code (the request body) for a session.
// The guard has checked that the browser says the request comes from the
// UI's own page.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1024))
	if err != nil {
		writeError(w, fmt.Errorf("read the sign-in code: %w", api.ErrInvalid))
		return
	}
	secret, exp, ok := s.sessions.redeem(strings.TrimSpace(string(body)))
	if !ok {
		writeError(w, &api.Error{Kind: api.KindPermission, Message: "this sign-in link has expired or was already used: run `kith ui` to open a new one"})
		return
	}
	writeJSON(w, api.Session{Secret: secret, IdleTimeout: int64(sessionIdle / time.Second), Expires: exp.UTC()})
}

// handleRevoke ends every web UI session and unused sign-in link: for
// `kith ui --revoke` and the UI's "Sign out everywhere".
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, api.Revoked{Sessions: s.sessions.revokeAll()})
}

// forgetOldCookie deletes the kith_session_PORT cookie that earlier
// versions signed browsers in with. It is no longer accepted, but browsers
// would go on sending it to every port of 127.0.0.1 until it expired.
func forgetOldCookie(port string, next http.Handler) http.Handler {
	name := "kith_session_" + port
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(name); err == nil {
			http.SetCookie(w, &http.Cookie{Name: name, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		next.ServeHTTP(w, r)
	})
}
