package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

func bearer() http.Header { return http.Header{"Authorization": {"Bearer secret-token"}} }

// login gets a one-time link as `kith ui` does and redeems it, returning
// the session cookie.
func login(t *testing.T, s *Server) *http.Cookie {
	t.Helper()
	resp := request(t, s, http.MethodPost, "/api/v1/ui/login", bearer())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login code: status %d", resp.StatusCode)
	}
	var lc api.LoginCode
	if err := json.NewDecoder(resp.Body).Decode(&lc); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(lc.URL, "http://"+s.Addr())
	if !strings.HasPrefix(path, "/login?code=") || time.Until(lc.Expires) > loginCodeTTL {
		t.Fatalf("login code %+v", lc)
	}
	resp = request(t, s, http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("redeem: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("redeem set %d cookies", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || !strings.HasPrefix(c.Name, "kith_session_") {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if strings.Contains(c.Value, "secret-token") {
		t.Fatal("the cookie carries the API token")
	}
	// The code works once.
	if resp := request(t, s, http.MethodGet, path, nil); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("second redeem: status %d", resp.StatusCode)
	}
	return c
}

func TestLoginAndCookie(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	if resp := request(t, s, http.MethodPost, "/api/v1/ui/login", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login code without the token: status %d", resp.StatusCode)
	}
	if resp := request(t, s, http.MethodGet, "/login?code=guessed", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("made-up code: status %d", resp.StatusCode)
	}
	c := login(t, s)
	cookie := c.Name + "=" + c.Value
	self := "http://" + s.Addr()
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
		{"api with the cookie", "GET", "/api/v1/jobs", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"post with the cookie from the ui", "POST", "/api/v1/jobs/cancel?id=x", http.Header{"Cookie": {cookie}, "Origin": {self}, "Sec-Fetch-Site": {"same-origin"}}, 404},
		{"cookie from another local port", "POST", "/api/v1/jobs/cancel?id=x", http.Header{"Cookie": {cookie}, "Origin": {"http://127.0.0.1:1"}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"cookie on an embedded get from another port", "GET", "/api/v1/jobs", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-site"}}, 401},
		{"cookie from an opaque origin", "GET", "/api/v1/jobs", http.Header{"Cookie": {cookie}, "Origin": {"null"}}, 403},
		{"wrong cookie", "GET", "/api/v1/jobs", http.Header{"Cookie": {c.Name + "=forged"}}, 401},
		{"bearer still works", "GET", "/api/v1/jobs", bearer(), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := request(t, s, tt.method, tt.path, tt.header); resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	resp := request(t, s, http.MethodGet, "/", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("UI Content-Security-Policy %q", csp)
	}
}

func TestLoginCodeExpires(t *testing.T) {
	ss := newSessions("tok", "5091")
	code, _ := ss.newCode()
	ss.mu.Lock()
	ss.codes[code] = time.Now().Add(-time.Second)
	ss.mu.Unlock()
	if ss.redeem(code) {
		t.Fatal("an expired code was accepted")
	}
	for range maxLoginCodes + 5 {
		ss.newCode()
	}
	if len(ss.codes) > maxLoginCodes {
		t.Fatalf("%d codes kept, want at most %d", len(ss.codes), maxLoginCodes)
	}
}
