package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestGuardGatewayHosts: a subdomain gateway host reaches the gateway and
// nothing else, whatever the path and credentials; a gateway origin
// reaches no API; hosts that only look like gateway hosts reach nothing.
func TestGuardGatewayHosts(t *testing.T) {
	const cidLabel = "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	apiRoutes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	g := &guard{port: "5091", token: "secret-token", gateway: gw, public: gw, isPublic: isPublicPath}
	h := g.wrap(apiRoutes)
	tests := []struct {
		name   string
		host   string
		origin string
		path   string
		want   int
	}{
		{"gateway host", cidLabel + ".ipfs.localhost:5091", "", "/", http.StatusTeapot},
		{"api path on a gateway host", cidLabel + ".ipfs.localhost:5091", "", "/api/v1/gc", http.StatusTeapot},
		{"upper case", strings.ToUpper(cidLabel[:1]) + cidLabel[1:] + ".IPFS.localhost:5091", "", "/api/v1/gc", http.StatusTeapot},
		{"api from a gateway origin", "127.0.0.1:5091", "http://" + cidLabel + ".ipfs.localhost:5091", "/api/v1/gc", http.StatusForbidden},
		{"not a cid", "evil.ipfs.localhost:5091", "", "/api/v1/gc", http.StatusForbidden},
		{"ipns name", "k51qzi5uqu5dj48zrfr5yuqh8xlj8c7j6ie2ulc7el0xbzrkcqg6c4u9uppqtd.ipns.localhost:5091", "", "/api/v1/gc", http.StatusTeapot},
		{"dnslink domain", "docs.example.org.ipns.localhost:5091", "", "/api/v1/gc", http.StatusTeapot},
		{"inlined dnslink domain", "docs-example-org.ipns.localhost:5091", "", "/", http.StatusTeapot},
		{"api from a name's origin", "127.0.0.1:5091", "http://docs.example.org.ipns.localhost:5091", "/api/v1/gc", http.StatusForbidden},
		{"not a name", "evil.ipns.localhost:5091", "", "/api/v1/gc", http.StatusForbidden},
		{"bad domain", "a..b.ipns.localhost:5091", "", "/", http.StatusForbidden},
		{"other port", cidLabel + ".ipfs.localhost:8080", "", "/api/v1/gc", http.StatusForbidden},
		{"nested", "a." + cidLabel + ".ipfs.localhost:5091", "", "/api/v1/gc", http.StatusForbidden},
		{"other domain", cidLabel + ".ipfs.example:5091", "", "/api/v1/gc", http.StatusForbidden},
		{"api still works", "127.0.0.1:5091", "", "/api/v1/gc", http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, tt.path, nil)
			r.Host = tt.host
			r.Header.Set("Authorization", "Bearer secret-token")
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body.String())
			}
		})
	}
}
