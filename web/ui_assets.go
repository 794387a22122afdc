package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/kith-p2p/kith/web/ui"
)

// uiPolicy is the web UI's Content-Security-Policy: its own scripts and
// styles only, no inline code, nothing from elsewhere; previews come from
// the same origin's /ipfs/ gateway (which sandboxes them itself), and no
// other site may frame the UI (clickjacking).
const uiPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self'; frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// isPublicPath names what is served without credentials: the UI's static
// files (the page asks for data through the API, which needs them) and the
// content gateway.
func isPublicPath(p string) bool {
	return p == "/" || p == "/favicon.ico" ||
		strings.HasPrefix(p, "/ui/") || strings.HasPrefix(p, "/ipfs/")
}

// uiHandler serves index.html at / and the assets under /ui/.
func uiHandler() http.Handler {
	files := ui.Files()
	assets := http.StripPrefix("/ui/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
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
