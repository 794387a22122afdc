package ui

import (
	"fmt"
	"html"
	"io/fs"
	"strings"
)

// pageStyles are the UI's stylesheets, which the sign-in page carries
// inline: it is a local file, which cannot load them from the daemon
// before it has signed in, and should look like the rest of the UI.
var pageStyles = []string{"static/css/base.css", "static/css/pages.css", "static/css/narrow.css"}

// SignInPage is the small local HTML file `kith ui` has the browser open:
// it sends the browser on to link, the UI's address with a one-time sign-in
// code in its fragment. Handing the browser a file, rather than the link,
// keeps the code out of every process's command line, where any local user
// could read it; the file is mode 0600 and removed once the code is used
// or expired. It needs no script: a refresh carries the fragment along.
// Should the browser stay on it (a refresh it blocks, a link used up),
// it says what to do, styled like the UI.
func SignInPage(link string) []byte {
	l := html.EscapeString(link)
	var css strings.Builder
	for _, name := range pageStyles {
		b, err := fs.ReadFile(static, name)
		if err != nil {
			panic(err) // the stylesheets are embedded with the binary
		}
		css.Write(b)
	}
	return fmt.Appendf(nil, `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="refresh" content="0; url=%s">
<title>kith: signing in</title>
<style>
%s</style></head>
<body>
<header class="top"><span class="brand" aria-label="kith">kith</span></header>
<main>
<section class="card signin">
<h1>Opening the web UI…</h1>
<p>Your browser goes on to the kith web UI by itself. If nothing happens, <a href="%s">continue to the web UI</a>.</p>
<p class="muted">This sign-in link works once, within 2 minutes of running <code>kith ui</code>. If it has expired or was already used, run <code>kith ui</code> again in a terminal on this computer.</p>
</section>
</main>
</body></html>
`, l, css.String(), l)
}
