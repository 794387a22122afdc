package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

func TestGuard(t *testing.T) {
	g := &guard{port: "5091", token: "secret-token"}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := g.wrap(ok)
	tests := []struct {
		name   string
		host   string
		origin string
		token  string
		want   int
	}{
		{"cli request", "127.0.0.1:5091", "", "secret-token", http.StatusNoContent},
		{"localhost name", "localhost:5091", "", "secret-token", http.StatusNoContent},
		{"ipv6 loopback", "[::1]:5091", "", "secret-token", http.StatusNoContent},
		{"same-origin page", "127.0.0.1:5091", "http://127.0.0.1:5091", "secret-token", http.StatusNoContent},
		{"dns rebinding host", "evil.example:5091", "", "secret-token", http.StatusForbidden},
		{"other port", "127.0.0.1:8080", "", "secret-token", http.StatusForbidden},
		{"cross-site page", "127.0.0.1:5091", "http://evil.example", "secret-token", http.StatusForbidden},
		{"other local origin", "127.0.0.1:5091", "http://127.0.0.1:3000", "secret-token", http.StatusForbidden},
		{"null origin", "127.0.0.1:5091", "null", "secret-token", http.StatusForbidden},
		{"no token", "127.0.0.1:5091", "", "", http.StatusUnauthorized},
		{"wrong token", "127.0.0.1:5091", "", "secret-tokeN", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/gc", nil)
			r.Host = tt.host
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.token != "" {
				r.Header.Set(api.TokenHeader, "Bearer "+tt.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body.String())
			}
		})
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0"} {
		if s, err := Listen(addr, nil, "t"); err == nil {
			s.ln.Close()
			t.Fatalf("Listen(%q) succeeded", addr)
		}
	}
}
