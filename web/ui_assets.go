package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/kith-p2p/kith/web/ui"
)

// uiPolicy is the web UI's Content-Security-Policy for a daemon on port:
// its own scripts and styles only, no inline code, nothing from elsewhere
// but previews, which come from the subdomain gateway (CID.ipfs.localhost,
// origins that hold nothing), and no other site may frame the UI
// (clickjacking).
func uiPolicy(port string) string {
	gw := "http://*.ipfs." + gatewayDomain + ":" + port
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: " + gw + "; " +
		"media-src 'self' " + gw + "; frame-src 'self' " + gw + "; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
}

// isPublicPath names what is served without credentials: the UI's static
// files (the page asks for data through the API, which needs them) and the
// content gateway.
func isPublicPath(p string) bool {
	return p == "/" || p == "/favicon.ico" ||
		strings.HasPrefix(p, "/ui/") || strings.HasPrefix(p, "/ipfs/") || strings.HasPrefix(p, "/ipns/")
}

// uiHandler serves index.html at / and the assets under /ui/.
func uiHandler(port string) http.Handler {
	policy := uiPolicy(port)
	files := ui.Files()
	assets := http.StripPrefix("/ui/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Only the origin, and only over http: the gateway lets the UI
		// embed previews because their requests name it (see
		// gatewayFront.invited). The UI's path is always /, and the part
		// after # (a sign-in code) is never sent.
		h.Set("Referrer-Policy", "strict-origin")
		// Revalidate so a new daemon version's UI is picked up at once.
		h.Set("Cache-Control", "no-cache")
		switch {
		case r.URL.Path == "/":
			b, err := fs.ReadFile(files, "index.html")
			if err != nil {
				http.Error(w, "the web UI is missing from this build", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b)
		case r.URL.Path == "/favicon.ico":
			http.Redirect(w, r, "/ui/icon.svg", http.StatusMovedPermanently)
		case strings.HasSuffix(r.URL.Path, "/"):
			http.NotFound(w, r) // no directory listings of the assets
		default:
			assets.ServeHTTP(w, r)
		}
	})
}
