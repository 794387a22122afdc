package ui

import (
	"fmt"
	"html"
)

// SignInPage is the small local HTML file `kith ui` has the browser open:
// it sends the browser on to link, the UI's address with a one-time sign-in
// code in its fragment. Handing the browser a file, rather than the link,
// keeps the code out of every process's command line, where any local user
// could read it; the file is mode 0600 and removed once the code is used
// or expired. It needs no script: a refresh carries the fragment along.
func SignInPage(link string) []byte {
	l := html.EscapeString(link)
	return fmt.Appendf(nil, `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0; url=%s">
<title>kith: signing in</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<p>Opening the kith web UI… If nothing happens, <a href="%s">continue to the web UI</a>.</p>
</body></html>
`, l, l)
}
