// Package ui holds the web UI's static files (HTML, CSS, ES modules),
// embedded in the binary so the UI works offline, with no CDN and no build
// step, and the local sign-in page `kith ui` has the browser open. The web
// package serves the files; the UI is a client of the local API like the
// CLI.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files is the UI's file tree: index.html at its root, assets below.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}
