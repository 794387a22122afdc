package ui_test

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// libraryPage is a web page someone shares: it runs (its script sets the
// title) and then tries the API two ways, both of which must fail.
const libraryPage = `<!doctype html>
<html><head><title>shared</title></head><body>
<p id="shared">A shared page.</p>
<script>document.title = 'ran';</script></body></html>`

// TestBrowserGroupLibrary: one daemon holds a web page and a sound and
// shares them in a group (one copy: nothing is copied to the other). The
// other daemon's Files page lists both as held elsewhere; the page opens
// from there on its CID's own origin (CID.ipfs.localhost), runs, and can
// reach neither the API through its origin nor the UI's origin; the sound
// plays and seeks, streamed from the holder, and nothing is pinned.
func TestBrowserGroupLibrary(t *testing.T) {
	ctx := newBrowser(t)
	holder := startDaemon(t, nil)
	// The viewer offers the group no room, so the one copy placement asks
	// for is always the holder's.
	viewer := startDaemon(t, func(c *node.Config) { c.Groups.BudgetMax = 1 })
	shots := artifacts(t)

	inv, err := holder.c.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.c.GroupJoin(ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	page, err := holder.c.Add(ctx, "page.html", files.NewBytesFile([]byte(libraryPage)), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const seconds = 30
	sound, err := holder.c.Add(ctx, "tone.wav", files.NewBytesFile(sineWAV(seconds, 44100, 440)), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{page.Cid, sound.Cid} {
		if _, err := holder.c.GroupShare(ctx, "family", c, api.ShareOptions{Copies: 1}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		sts, err := viewer.c.GroupStatuses(ctx)
		if err == nil && len(sts) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the viewer never learnt what the group shares: %+v, %v", sts, err)
		}
		time.Sleep(100 * time.Millisecond) // polling pace for a condition with a deadline
	}

	viewer.login(t, ctx)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			t.Logf("page exception: %s", e.ExceptionDetails.Error())
		}
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok {
			for _, a := range e.Args {
				t.Logf("console: %s", a.Value)
			}
		}
	})
	row := func(c string) string { return fmt.Sprintf(`#pins tr[data-cid="%s"][data-here="no"]`, c) }
	err = chromedp.Run(ctx,
		chromedp.Navigate(viewer.base()+"/#/files?group=family"),
		chromedp.WaitVisible(row(page.Cid), chromedp.ByQuery),
		chromedp.WaitVisible(row(sound.Cid), chromedp.ByQuery),
	)
	if err != nil {
		var text string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('main').innerHTML`, &text))
		t.Fatalf("the Files page of the group: %v\n%s", err, text)
	}
	screenshot(t, ctx, shots, "files-group-library")
	// Held elsewhere, each says when the group shared it.
	var when string
	if err := chromedp.Run(ctx, chromedp.Text(row(sound.Cid)+" td.added", &when, chromedp.ByQuery)); err != nil || !strings.Contains(when, strconv.Itoa(time.Now().Year())) {
		t.Errorf("the sound's row gives no date it was shared: %q, %v", when, err)
	}

	t.Run("shared page", func(t *testing.T) {
		var frameSrc, tabHref string
		err := chromedp.Run(ctx,
			chromedp.Click(row(page.Cid)+` [data-action="open"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#preview iframe.page-frame", chromedp.ByQuery),
			chromedp.AttributeValue("#preview iframe.page-frame", "src", &frameSrc, nil, chromedp.ByQuery),
			chromedp.AttributeValue(`#preview .actions a[target="_blank"]`, "href", &tabHref, nil, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatalf("open the shared page from Files: %v", err)
		}
		own := "http://" + page.Cid + ".ipfs.localhost:" + port(t, viewer)
		for _, u := range []string{frameSrc, tabHref} {
			if !strings.HasPrefix(u, own+"/") {
				t.Fatalf("the shared page opens at %s, want its own origin %s", u, own)
			}
		}
		tab := newTab(t, ctx)
		var origin, title, stolen string
		err = chromedp.Run(tab,
			chromedp.Navigate(tabHref),
			chromedp.WaitVisible("#shared", chromedp.ByQuery),
			chromedp.Poll(`document.title === 'ran'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
			chromedp.Title(&title),
			chromedp.Evaluate(`window.origin`, &origin),
			chromedp.Evaluate(`sessionStorage.getItem('kith-session') || ''`, &stolen),
		)
		if err != nil {
			t.Fatalf("the shared page in a tab of its own: %v", err)
		}
		if origin != own {
			t.Fatalf("the shared page runs with origin %q, want %q", origin, own)
		}
		if stolen != "" {
			t.Fatal("the shared page read the UI's session")
		}
		// Its scripts run, but the API is nowhere it can reach: not under
		// its own origin (the gateway serves content there, nothing
		// else), not at the UI's origin (the guard refuses a gateway
		// origin, and the browser keeps the answer from it).
		attempts := map[string]string{
			"own origin": `fetch('/api/v1/pin/ls').then((r) => 'status ' + r.status, () => 'blocked')`,
			"own origin, POST": fmt.Sprintf(`fetch('/api/v1/pin/rm?cid=%s', {method: 'POST'}).then((r) => 'status ' + r.status, () => 'blocked')`,
				sound.Cid),
			"UI origin": fmt.Sprintf(`fetch('%s/api/v1/pin/ls', {credentials: 'include'}).then((r) => 'status ' + r.status, () => 'blocked')`,
				viewer.base()),
			"UI origin, no-cors POST": fmt.Sprintf(`fetch('%s/api/v1/shutdown', {method: 'POST', mode: 'no-cors'}).then((r) => 'opaque ' + r.type, () => 'blocked')`,
				viewer.base()),
		}
		for name, js := range attempts {
			var res string
			if err := chromedp.Run(tab, chromedp.Evaluate(js, &res, awaitPromise)); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", name, res)
			if strings.HasPrefix(res, "status 2") {
				t.Errorf("%s: the shared page got %s from the API", name, res)
			}
		}
		select {
		case <-viewer.n.Stopped():
			t.Fatal("the shared page shut the daemon down")
		default:
		}
		screenshot(t, tab, shots, "shared-page-own-origin")
	})

	t.Run("sound from a peer", func(t *testing.T) {
		var mu sync.Mutex
		var ranges []string
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, sound.Cid) {
				mu.Lock()
				ranges = append(ranges, fmt.Sprint(e.Request.Headers["Range"]))
				mu.Unlock()
			}
		})
		err := chromedp.Run(ctx,
			network.Enable(),
			chromedp.Navigate(viewer.base()+"/#/files?group=family"),
			chromedp.Click(row(sound.Cid)+` [data-action="open"]`, chromedp.ByQuery),
			chromedp.Poll(`(() => { const a = document.querySelector('#preview audio'); return !!a && a.readyState >= 1; })()`,
				nil, chromedp.WithPollingTimeout(30*time.Second)),
		)
		if err != nil {
			t.Fatalf("open the sound held by a peer: %v", err)
		}
		var got struct{ Duration, At float64 }
		err = chromedp.Run(ctx, chromedp.Evaluate(`new Promise((resolve, reject) => {
			const a = document.querySelector('#preview audio');
			a.addEventListener('seeked', () => resolve({ Duration: a.duration, At: a.currentTime }), { once: true });
			a.addEventListener('error', () => reject(new Error('media error ' + (a.error && a.error.code))), { once: true });
			a.currentTime = a.duration * 2 / 3;
			setTimeout(() => reject(new Error('no seeked event')), 20000);
		})`, &got, awaitPromise))
		if err != nil {
			t.Fatalf("seek in the sound held by a peer: %v", err)
		}
		if math.Abs(got.Duration-seconds) > 0.1 || math.Abs(got.At-seconds*2.0/3) > 0.5 {
			t.Fatalf("sound: %.2f s long, at %.2f s after seeking; want %d s and %.1f s", got.Duration, got.At, seconds, seconds*2.0/3)
		}
		mu.Lock()
		t.Logf("sound from a peer: requests with Range %q", ranges)
		mu.Unlock()
		pins, err := viewer.c.Pins(ctx)
		if err != nil || len(pins) != 0 {
			t.Fatalf("the viewer pinned %+v (%v): opening must not copy", pins, err)
		}
		st, err := viewer.c.RepoStat(ctx)
		if err != nil || st.Blocks == 0 {
			t.Fatalf("the viewer's repo holds %d blocks (%v): the sound was not streamed through it", st.Blocks, err)
		}
	})
}

// port is the daemon's API port.
func port(t *testing.T, d *daemon) string {
	t.Helper()
	u, err := url.Parse(d.base())
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}
