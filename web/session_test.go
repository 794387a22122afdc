package web

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

func bearer() http.Header { return http.Header{"Authorization": {"Bearer secret-token"}} }

// fromUI is what Chromium sends with the UI's own fetches.
func fromUI(secret string) http.Header {
	return http.Header{
		api.SessionHeader: {secret},
		"Sec-Fetch-Site":  {"same-origin"},
		"Sec-Fetch-Mode":  {"cors"},
	}
}

// clock is a test clock the sessions read instead of the time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeClock makes s's sessions read a clock the test moves.
func fakeClock(s *Server) *clock {
	c := &clock{t: time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)}
	s.sessions.mu.Lock()
	s.sessions.now = c.now
	s.sessions.mu.Unlock()
	return c
}

// askLoginCode asks for a sign-in link as `kith ui` does and returns it with
// the code its fragment carries.
func askLoginCode(t *testing.T, s *Server) (api.LoginCode, string) {
	t.Helper()
	resp := request(t, s, http.MethodPost, "/api/v1/ui/login", bearer())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login code: status %d", resp.StatusCode)
	}
	var lc api.LoginCode
	if err := json.NewDecoder(resp.Body).Decode(&lc); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(lc.URL)
	if err != nil {
		t.Fatal(err)
	}
	code, ok := strings.CutPrefix(u.Fragment, "signin=")
	if !ok || u.Host != s.Addr() || u.Path != "/" || u.RawQuery != "" || len(code) < 43 || lc.ID == "" {
		t.Fatalf("login code %+v: want http://ADDR/#signin=CODE (256 bits) and an ID", lc)
	}
	if strings.Contains(lc.ID, code) || strings.Contains(code, lc.ID) {
		t.Fatal("the link's ID gives the code away")
	}
	return lc, code
}

// redeem posts a code as the UI's page does, with the given headers.
func redeem(t *testing.T, s *Server, code string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.Addr()+signInPath, strings.NewReader(code))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func pageHeaders(s *Server) http.Header {
	return http.Header{
		"Origin":         {"http://" + s.Addr()},
		"Sec-Fetch-Site": {"same-origin"},
		"Content-Type":   {"text/plain;charset=UTF-8"},
	}
}

// signIn signs a page in and returns its session secret.
func signIn(t *testing.T, s *Server) string {
	t.Helper()
	_, code := askLoginCode(t, s)
	resp := redeem(t, s, code, pageHeaders(s))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: status %d", resp.StatusCode)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("redeem set cookies %v: the session must not be an ambient credential", resp.Cookies())
	}
	var sess api.Session
	if err := json.NewDecoder(resp.Body).Decode(&sess); err != nil {
		t.Fatal(err)
	}
	if len(sess.Secret) < 43 || strings.Contains(sess.Secret, "secret-token") || sess.IdleTimeout != int64(sessionIdle/time.Second) {
		t.Fatalf("session %+v", sess)
	}
	return sess.Secret
}

func status(t *testing.T, s *Server, method, path string, header http.Header) int {
	t.Helper()
	return request(t, s, method, path, header).StatusCode
}

// oldCookie is the cookie earlier versions set: an HMAC of the token,
// sent by the browser to every port of 127.0.0.1.
func oldCookie(s *Server) string {
	m := hmac.New(sha256.New, []byte("secret-token"))
	m.Write([]byte("kith web ui session v1"))
	_, port, _ := strings.Cut(s.Addr(), ":")
	return "kith_session_" + port + "=" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestSignIn(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	if got := status(t, s, http.MethodPost, "/api/v1/ui/login", nil); got != http.StatusUnauthorized {
		t.Fatalf("login code without the token: status %d", got)
	}
	if got := status(t, s, http.MethodGet, "/login?code=guessed", nil); got == http.StatusOK || got == http.StatusSeeOther {
		t.Fatalf("the old /login route answers %d", got)
	}
	if resp := redeem(t, s, "guessed", pageHeaders(s)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("made-up code: status %d", resp.StatusCode)
	}

	lc, code := askLoginCode(t, s)
	// A code is redeemed only by a browser's fetch from the UI's own
	// origin; a refusal does not use it up.
	refusals := []struct {
		name   string
		header http.Header
	}{
		{"no fetch metadata", http.Header{}},
		{"another local port", http.Header{"Origin": {"http://127.0.0.1:1"}, "Sec-Fetch-Site": {"same-site"}}},
		{"a navigation", http.Header{"Sec-Fetch-Site": {"none"}}},
	}
	for _, tt := range refusals {
		if resp := redeem(t, s, code, tt.header); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("redeem from %s: status %d", tt.name, resp.StatusCode)
		}
	}
	resp := redeem(t, s, code, pageHeaders(s))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: status %d", resp.StatusCode)
	}
	var sess api.Session
	if err := json.NewDecoder(resp.Body).Decode(&sess); err != nil {
		t.Fatal(err)
	}
	if resp := redeem(t, s, code, pageHeaders(s)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second redeem: status %d", resp.StatusCode)
	}
	var st api.LoginState
	if err := json.NewDecoder(request(t, s, http.MethodGet, "/api/v1/ui/login/wait?id="+lc.ID, bearer()).Body).Decode(&st); err != nil || st.State != api.LoginSignedIn {
		t.Fatalf("wait after redeem: %+v, %v", st, err)
	}

	secret := sess.Secret
	self := "http://" + s.Addr()
	withOrigin := fromUI(secret)
	withOrigin.Set("Origin", self)
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		want   int
	}{
		{"ui page without credentials", "GET", "/", nil, 200},
		{"ui asset without credentials", "GET", "/ui/js/app.js", nil, 200},
		{"api without credentials", "GET", "/api/v1/jobs", nil, 401},
		{"session from the ui", "GET", "/api/v1/jobs", fromUI(secret), 200},
		{"post with the session from the ui", "POST", "/api/v1/jobs/cancel?id=x", withOrigin, 404},
		{"session replayed without fetch metadata", "GET", "/api/v1/jobs", http.Header{api.SessionHeader: {secret}}, 403},
		{"session replayed as a navigation", "GET", "/api/v1/jobs", http.Header{api.SessionHeader: {secret}, "Sec-Fetch-Site": {"none"}}, 403},
		{"session from another local port", "GET", "/api/v1/jobs", http.Header{api.SessionHeader: {secret}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"session with another origin", "POST", "/api/v1/jobs/cancel?id=x", http.Header{api.SessionHeader: {secret}, "Sec-Fetch-Site": {"same-origin"}, "Origin": {"http://127.0.0.1:1"}}, 403},
		{"forged session", "GET", "/api/v1/jobs", fromUI("forged"), 401},
		{"session asking for a sign-in link", "POST", "/api/v1/ui/login", withOrigin, 403},
		{"session waiting on a sign-in link", "GET", "/api/v1/ui/login/wait?id=" + lc.ID, fromUI(secret), 403},
		{"old cookie replayed", "GET", "/api/v1/jobs", http.Header{"Cookie": {oldCookie(s)}}, 401},
		{"old cookie from the ui", "GET", "/api/v1/jobs", http.Header{"Cookie": {oldCookie(s)}, "Sec-Fetch-Site": {"same-origin"}}, 401},
		{"bearer still works", "GET", "/api/v1/jobs", bearer(), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(t, s, tt.method, tt.path, tt.header); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
	resp = request(t, s, http.MethodGet, "/", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("UI Content-Security-Policy %q", csp)
	}
}

func TestOldCookieIsDeleted(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	resp := request(t, s, http.MethodGet, "/", http.Header{"Cookie": {oldCookie(s)}})
	name, _, _ := strings.Cut(oldCookie(s), "=")
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != name || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Fatalf("cookies set %+v, want %s deleted", cs, name)
	}
	if resp := request(t, s, http.MethodGet, "/", nil); len(resp.Cookies()) != 0 {
		t.Fatalf("a browser without the old cookie got cookies %v", resp.Cookies())
	}
}

func TestSessionsRevoked(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	a, b := signIn(t, s), signIn(t, s)
	pending, code := askLoginCode(t, s)
	waited := make(chan string, 1)
	go func() {
		st, err := waitLogin(s, pending.ID)
		if err != nil {
			t.Error(err)
		}
		waited <- st
	}()

	// The page's "Sign out everywhere" uses its own session.
	h := fromUI(a)
	h.Set("Origin", "http://"+s.Addr())
	resp := request(t, s, http.MethodPost, "/api/v1/ui/revoke", h)
	var rv api.Revoked
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil || rv.Sessions != 2 {
		t.Fatalf("revoke: status %d, %+v, %v", resp.StatusCode, rv, err)
	}
	for _, secret := range []string{a, b} {
		if got := status(t, s, http.MethodGet, "/api/v1/jobs", fromUI(secret)); got != http.StatusUnauthorized {
			t.Fatalf("revoked session: status %d", got)
		}
	}
	if resp := redeem(t, s, code, pageHeaders(s)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a link issued before the revocation: status %d", resp.StatusCode)
	}
	select {
	case st := <-waited:
		if st != api.LoginExpired {
			t.Fatalf("wait on a revoked link: %q", st)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waiting on a link did not end when it was revoked")
	}
	// kith ui --revoke uses the token.
	c := signIn(t, s)
	resp = request(t, s, http.MethodPost, "/api/v1/ui/revoke", bearer())
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil || rv.Sessions != 1 {
		t.Fatalf("revoke with the token: %+v, %v", rv, err)
	}
	if got := status(t, s, http.MethodGet, "/api/v1/jobs", fromUI(c)); got != http.StatusUnauthorized {
		t.Fatalf("revoked session: status %d", got)
	}
}

// waitLogin waits on a sign-in link as `kith ui` does. It does not use
// request, which may only be called from the test's goroutine.
func waitLogin(s *Server, id string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/api/v1/ui/login/wait?id="+id, nil)
	if err != nil {
		return "", err
	}
	req.Header = bearer()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var st api.LoginState
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st.State, err
}

func TestSessionsExpire(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	clk := fakeClock(s)
	ok := func(secret string) bool {
		t.Helper()
		switch got := status(t, s, http.MethodGet, "/api/v1/jobs", fromUI(secret)); got {
		case http.StatusOK:
			return true
		case http.StatusUnauthorized:
			return false
		default:
			t.Fatalf("status %d", got)
			return false
		}
	}

	t.Run("idle", func(t *testing.T) {
		secret := signIn(t, s)
		clk.advance(sessionIdle - time.Second)
		if !ok(secret) {
			t.Fatal("a session used within its idle time was refused")
		}
		clk.advance(sessionIdle - time.Second)
		if !ok(secret) {
			t.Fatal("using a session did not extend it")
		}
		clk.advance(sessionIdle)
		if ok(secret) {
			t.Fatal("an idle session was accepted")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		secret := signIn(t, s)
		for age := sessionIdle / 2; age < sessionMaxAge; age += sessionIdle / 2 {
			clk.advance(sessionIdle / 2)
			if !ok(secret) {
				t.Fatalf("a busy session was refused %s after it started", age)
			}
		}
		clk.advance(sessionIdle / 2)
		if ok(secret) {
			t.Fatalf("a session was accepted past its maximum age of %s", sessionMaxAge)
		}
	})
	t.Run("code", func(t *testing.T) {
		lc, code := askLoginCode(t, s)
		clk.advance(loginCodeTTL)
		if resp := redeem(t, s, code, pageHeaders(s)); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("an expired code: status %d", resp.StatusCode)
		}
		if st, err := waitLogin(s, lc.ID); err != nil || st != api.LoginExpired {
			t.Fatalf("wait on an expired link: %q, %v", st, err)
		}
	})
}

func TestSessionsBounded(t *testing.T) {
	ss := newSessions()
	for range maxLoginCodes + 5 {
		ss.newCode()
	}
	if len(ss.codes) > maxLoginCodes {
		t.Fatalf("%d codes kept, want at most %d", len(ss.codes), maxLoginCodes)
	}
	clk := &clock{t: time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)}
	ss.now = clk.now
	var secrets []string
	for range maxSessions + 1 {
		code, _, _ := ss.newCode()
		secret, _, ok := ss.redeem(code)
		if !ok {
			t.Fatal("redeem failed")
		}
		secrets = append(secrets, secret)
		clk.advance(time.Second)
	}
	if len(ss.live) != maxSessions {
		t.Fatalf("%d sessions kept, want %d", len(ss.live), maxSessions)
	}
	if _, ok := ss.use(secrets[0]); ok {
		t.Fatal("the least recently used session outlived the cap")
	}
	if _, ok := ss.use(secrets[maxSessions]); !ok {
		t.Fatal("the newest session was dropped")
	}
}

// TestEventStreamEndsWithSession checks that a revoked session's open
// event stream is cut, so the page learns it was signed out.
func TestEventStreamEndsWithSession(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	secret := signIn(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = fromUI(secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: stats" {
	}
	if got := status(t, s, http.MethodPost, "/api/v1/ui/revoke", bearer()); got != http.StatusOK {
		t.Fatalf("revoke: status %d", got)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("the stream failed instead of ending: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the stream outlived its session")
	}
}
