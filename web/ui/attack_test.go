package ui_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// evilPage tries to drive the daemon from another origin on 127.0.0.1 (a
// page on another port is the same "site", so a browser would send it any
// cookie the daemon set): credentialed fetches, with and without CORS, and
// a plain form POST.
const evilPage = `<!doctype html>
<html><head><title>evil</title></head><body>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" action="%[1]s/api/v1/pin/rm?cid=%[2]s" target="sink"></form>
<script>
const api = '%[1]s/api/v1';
const results = {};
async function attempt(name, url, opts) {
  try { const r = await fetch(url, opts); results[name] = 'status ' + r.status + ' ' + r.type; }
  catch (e) { results[name] = 'blocked'; }
}
(async () => {
  await attempt('cors', api + '/pin/rm?cid=%[2]s', {method: 'POST', credentials: 'include'});
  await attempt('nocors', api + '/jobs/fetch?cid=%[3]s', {method: 'POST', credentials: 'include', mode: 'no-cors'});
  await attempt('shutdown', api + '/shutdown', {method: 'POST', credentials: 'include', mode: 'no-cors'});
  await attempt('read', api + '/pin/ls', {credentials: 'include'});
  document.getElementById('sink').addEventListener('load', () => { window.results = results; });
  document.getElementById('f').submit();
})();
</script></body></html>`

// sharedHTML is content someone shared: if it ran with the UI's origin it
// could use the session to unpin everything.
const sharedHTML = `<!doctype html>
<html><head><title>shared</title></head><body>
<p id="shared">A shared page.</p>
<script>
document.title = 'script ran';
fetch('/api/v1/pin/rm?cid=%s', {method: 'POST', credentials: 'include'}).then((r) => { document.title = 'status ' + r.status; });
</script></body></html>`

// TestBrowserAttacksFail checks that a signed-in browser cannot be made to
// act on the daemon by another page, or by shared content opened in it on
// the path gateway, which shares the UI's origin and so sandboxes it
// (library_test.go opens shared content on its own origin instead).
func TestBrowserAttacksFail(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	victim, err := d.c.Add(ctx, "precious.txt", files.NewBytesFile([]byte("keep me pinned\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.c.Add(ctx, "other.txt", files.NewBytesFile([]byte("another file\n")), 0, api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)

	// The session works from the UI's own origin, so what fails below
	// fails because of where it comes from.
	var status int
	err = chromedp.Run(ctx, chromedp.Evaluate(`fetch('/api/v1/pin/ls', {headers: {'Kith-Session': sessionStorage.getItem('kith-session')}}).then((r) => r.status)`, &status, awaitPromise))
	if err != nil || status != http.StatusOK {
		t.Fatalf("signed-in UI reading pins: status %d, %v", status, err)
	}

	t.Run("other origin", func(t *testing.T) {
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, evilPage, d.base(), victim.Cid, other.Cid)
		}))
		t.Cleanup(evil.Close)
		tab := newTab(t, ctx)
		var results map[string]string
		err := chromedp.Run(tab,
			chromedp.Navigate(evil.URL),
			chromedp.Poll(`window.results`, &results, chromedp.WithPollingTimeout(30*time.Second)),
		)
		if err != nil {
			t.Fatalf("run the other origin's page: %v", err)
		}
		t.Logf("other origin's attempts: %v", results)
		for name, res := range results {
			if strings.HasPrefix(res, "status 2") {
				t.Errorf("%s: the daemon answered %s to another origin", name, res)
			}
		}
		assertUnharmed(t, d, victim.Cid)
	})

	t.Run("shared html", func(t *testing.T) {
		page, err := d.c.Add(ctx, "page.html", files.NewBytesFile(fmt.Appendf(nil, sharedHTML, victim.Cid)), 0, api.AddOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tab := newTab(t, ctx)
		var title, origin string
		err = chromedp.Run(tab,
			chromedp.Navigate(d.base()+"/ipfs/"+page.Cid+"?filename=page.html"),
			chromedp.WaitVisible("#shared", chromedp.ByQuery),
			chromedp.Title(&title),
			chromedp.Evaluate(`window.origin`, &origin),
		)
		if err != nil {
			t.Fatalf("open the shared page: %v", err)
		}
		if title != "shared" {
			t.Errorf("the shared page's script ran (title %q)", title)
		}
		if origin != "null" {
			t.Errorf("the shared page runs with origin %q, want an opaque origin", origin)
		}
		// Even a script that did run there (here, injected by the test)
		// gets nowhere: its requests carry Origin: null, and it cannot
		// read the UI's session (an opaque origin has no storage).
		var res string
		err = chromedp.Run(tab, chromedp.Evaluate(fmt.Sprintf(
			`fetch('/api/v1/pin/rm?cid=%s', {method: 'POST', credentials: 'include'}).then((r) => 'status ' + r.status, () => 'blocked')`,
			victim.Cid), &res, awaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the shared page's unpin attempt: %s", res)
		if strings.HasPrefix(res, "status 2") {
			t.Errorf("the shared page unpinned through the API: %s", res)
		}
		// Nor can it read the session: an opaque origin has no storage.
		var stolen string
		err = chromedp.Run(tab, chromedp.Evaluate(`(() => { try { return sessionStorage.getItem('kith-session') || ''; } catch { return ''; } })()`, &stolen))
		if err != nil {
			t.Fatal(err)
		}
		if stolen != "" {
			t.Errorf("the shared page read the session: %s", stolen)
		}
		assertUnharmed(t, d, victim.Cid)
	})
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// assertUnharmed checks that the pin is still there, no job was started
// and the daemon was not asked to stop.
func assertUnharmed(t *testing.T, d *daemon, pinned string) {
	t.Helper()
	pins, err := d.c.Pins(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pins {
		found = found || p.Cid == pinned
	}
	if !found {
		t.Error("the pin was removed")
	}
	jobs, err := d.c.Jobs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 0 {
		t.Errorf("jobs were started: %+v", jobs)
	}
	select {
	case <-d.n.Stopped():
		t.Error("the daemon was asked to shut down")
	default:
	}
}
