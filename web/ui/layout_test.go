package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/ui"
)

// A viewport the pages are laid out in. A mobile one honours the page's
// viewport meta tag, as a phone does; below 768 px lists are cards.
type viewport struct {
	name          string
	width, height int64
	mobile, cards bool
}

// viewports are a desktop window and a phone held upright, the two sizes
// of the screenshots, then a small tablet (cards) and the phone turned
// (tables).
var viewports = []viewport{
	{"desktop", 1280, 800, false, false},
	{"phone", 390, 844, true, true},
	{"small tablet", 700, 1000, true, true},
	{"phone turned", 844, 390, true, false},
}

// longName is a file name with nowhere to break: the worst case for a
// narrow screen.
const longName = "Minutes_of_the_annual_general_meeting_of_the_neighbourhood_garden_club_2026-12-03_final.txt"

// layoutPage is one page of the UI with real content: where it is, and a
// script that is true once its content is shown.
type layoutPage struct {
	name, route, ready string
	// then runs on the page once it is ready (a click that opens more).
	then func(ctx context.Context) error
}

// TestBrowserLayout visits every page of the UI, each with real content
// (a file with a long name shared in a group, a folder, a finished get, a
// connected peer, a group of two), in a desktop window, on a phone held
// upright (390x844, laid out as a phone does), a small tablet and a phone
// turned sideways. On each, nothing may stick out sideways and every
// button, field and table cell must be inside the window with a size;
// where lists are cards, the header must stay small, a name must get the
// width of the screen and an ID stay on one line. Files' cells line up
// with their rows. With KITH_SCREENSHOTS set, a PNG of every page at
// every size goes there; KITH_UPDATE_DOCS=1 refreshes docs/ui-overview.png
// from the desktop's Files page.
func TestBrowserLayout(t *testing.T) {
	// Thirteen pages at four sizes take longer than most browser tests.
	ctx := newBrowserFor(t, 3*browserTimeout)
	shots := artifacts(t)
	a := startDaemon(t, nil)
	b := startDaemon(t, nil)

	// A peer, a group of two, a folder, and a finished get.
	b.connectTo(t, ctx, a)
	// Devices named as people name them (both hosts are this machine).
	for d, name := range map[*daemon]string{a: "laptop", b: "desktop"} {
		if _, err := d.c.GroupRenameMe(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := a.c.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.GroupJoin(ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	album := files.NewMapDirectory(map[string]files.Node{
		"beach.txt":  files.NewBytesFile([]byte("sand\n")),
		"sunset.txt": files.NewBytesFile([]byte("orange\n")),
		"more":       files.NewMapDirectory(map[string]files.Node{"hills.txt": files.NewBytesFile([]byte("green\n"))}),
		// A symbolic link with a long target: its row must fit a phone too.
		"latest": files.NewLinkFile("/home/someone/Pictures/2026/holiday-in-the-mountains/IMG_20260812_183012.jpg", nil),
	})
	folder, err := a.c.Add(ctx, "album", album, 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := b.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("Shared notes\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	job, err := a.c.StartFetch(ctx, notes.Cid, "notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, ctx, a, job.ID)

	// The long-named file goes in through the Add page, which then shows it.
	src := filepath.Join(t.TempDir(), longName)
	if err := os.WriteFile(src, []byte("Present: everyone.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a.login(t, ctx)
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.SetUploadFiles("#file-input", []string{src}, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("add %s: %v", longName, err)
	}
	long := waitUpload(t, ctx, longName)
	if _, err := a.c.GroupShare(ctx, "family", long, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, ctx, a, long, 2)
	// The album shared too, and followed into a folder with a long path:
	// the group's page lists it.
	if _, err := a.c.GroupShare(ctx, "family", folder.Cid, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	followed := filepath.Join(t.TempDir(), "Pictures", "2026", "holiday-in-the-mountains-with-the-whole-family")
	if err := os.MkdirAll(filepath.Dir(followed), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Get(ctx, folder.Cid, followed, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.GroupMirror(ctx, "family", "album", followed, folder.Cid); err != nil {
		t.Fatal(err)
	}

	// A sign-in link to here leaves the browser on the sign-in page: a
	// navigation answered 204 No Content does not leave the page.
	stay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(stay.Close)

	row := fmt.Sprintf(`#pins tr[data-cid=%q]`, long)
	pages := []layoutPage{
		{name: "overview", route: "#/overview", ready: `!!document.querySelector('#peer-id') && !!document.querySelector('#checks li')`},
		{name: "files", route: "#/files", ready: fmt.Sprintf(`!!document.querySelector('%s td.replication .group-copies') && !!document.querySelector('#pins tr[data-cid="%s"]')`, row, folder.Cid)},
		{name: "files-share", route: "#/files", ready: fmt.Sprintf(`!!document.querySelector('%s td.replication .group-copies')`, row),
			then: func(ctx context.Context) error {
				return chromedp.Run(ctx,
					// Clicked in the page, in one step: the list is drawn
					// again as it goes live, and a node found by one call
					// may be gone by the next (chromedp.Click).
					chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click()`, row+` [data-action="share"]`), nil),
					chromedp.WaitVisible(`tr.ticket-row input.ticket`, chromedp.ByQuery),
					chromedp.WaitVisible(`tr.ticket-row .group-share .shared-in button`, chromedp.ByQuery))
			}},
		{name: "files-group", route: "#/files?group=family", ready: fmt.Sprintf(`!!document.querySelector('%s')`, row)},
		{name: "add", route: "#/add", ready: `!!document.querySelector('li.upload[data-state="done"] .ticket-box') && !!document.querySelector('li.upload .group-share :is(.shared-in, form)')`},
		{name: "get", route: "#/get", ready: `!!document.querySelector('li.job[data-state="done"]')`},
		{name: "peers", route: "#/peers", ready: `!!document.querySelector('#peers tbody tr')`},
		{name: "settings", route: "#/settings", ready: `document.querySelectorAll('table.settings tbody tr').length > 30 && !!document.querySelector('#setting-fetch-upload_limit')`},
		{name: "groups", route: "#/groups/family", ready: `document.querySelectorAll('#members tbody tr').length === 2 && !!document.querySelector('#mirrors li')`},
		{name: "open-folder", route: "#/open/" + folder.Cid + "?name=album", ready: `document.querySelectorAll('#folder tbody tr').length === 4`},
		{name: "open-file", route: "#/open/" + long + "?name=" + longName, ready: `!!document.querySelector('#preview iframe')`},
	}
	for _, vp := range viewports {
		setViewport(t, ctx, vp)
		for _, p := range pages {
			showPage(t, ctx, a.base()+"/"+p.route, p.ready, vp, p.name)
			if p.then != nil {
				if err := p.then(ctx); err != nil {
					t.Fatalf("%s at %s: %v", p.name, vp.name, err)
				}
			}
			checkLayout(t, ctx, vp, p.name)
			if p.name == "files" && !vp.cards {
				checkActionCells(t, ctx)
				if vp.width == 1280 && os.Getenv("KITH_UPDATE_DOCS") == "1" {
					viewportShot(t, ctx, filepath.Join("..", "..", "docs"), "ui-overview")
				}
			}
			screenshot(t, ctx, shots, fmt.Sprintf("%s-%dx%d", p.name, vp.width, vp.height))
		}
		// A sign-in link that no longer works, in a tab of its own.
		tab := newTab(t, ctx)
		setViewport(t, tab, vp)
		showPage(t, tab, a.base()+"/#signin=expired", `!!document.querySelector('.signin[data-reason="code"]')`, vp, "signed-out")
		checkLayout(t, tab, vp, "signed-out")
		screenshot(t, tab, shots, fmt.Sprintf("signed-out-%dx%d", vp.width, vp.height))
		// The local page `kith ui` has the browser open, should the
		// browser stay on it.
		tab = newTab(t, ctx)
		setViewport(t, tab, vp)
		showPage(t, tab, signInFile(t, stay.URL+"/#signin=expired"), `!!document.querySelector('.signin h1')`, vp, "sign-in file")
		checkLayout(t, tab, vp, "sign-in file")
		checkStyled(t, tab, vp)
		screenshot(t, tab, shots, fmt.Sprintf("signin-file-%dx%d", vp.width, vp.height))
		front(t, ctx) // a tab in the background draws no frames, which Poll waits for
	}
}

// waitJob waits until d's background job id is done.
func waitJob(t *testing.T, ctx context.Context, d *daemon, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		js, err := d.c.Jobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.ID == id && j.State == api.JobDone {
				return
			}
			if j.ID == id && j.State == api.JobFailed {
				t.Fatalf("job %s failed: %s", id, j.Error)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s never finished: %+v", id, js)
		}
		time.Sleep(100 * time.Millisecond) // polling pace for a condition with a deadline
	}
}

// waitHeld waits until d sees copies of root held in its group.
func waitHeld(t *testing.T, ctx context.Context, d *daemon, root string, copies int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		sts, err := d.c.GroupStatus(ctx, root)
		held := 0
		for _, st := range sts {
			for _, h := range st.Holders {
				if h.State == "held" {
					held++
				}
			}
		}
		if err == nil && held >= copies {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %d copies held: %+v, %v", root, copies, sts, err)
		}
		time.Sleep(100 * time.Millisecond) // polling pace for a condition with a deadline
	}
}

// setViewport lays the tab out at vp's size.
func setViewport(t *testing.T, ctx context.Context, vp viewport) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1), chromedp.EmulatePortrait}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...)); err != nil {
		t.Fatalf("set the viewport to %s: %v", vp.name, err)
	}
}

// showPage opens url and waits until ready is true.
func showPage(t *testing.T, ctx context.Context, url, ready string, vp viewport, name string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.Poll(ready, nil, chromedp.WithPollingTimeout(time.Minute)),
	)
	if err != nil {
		t.Fatalf("%s at %s (%s) never showed its content: %v", name, vp.name, url, err)
	}
}

// layoutScript lists what is wrong with the page's layout: anything wider
// than the window, a control or a table cell outside it or without a size,
// and where lists are cards a tall header, a squeezed name or a wrapped ID.
const layoutScript = `((cards) => {
  const problems = [];
  const vw = window.innerWidth;
  const doc = document.documentElement;
  const what = (el) => {
    const text = (el.textContent || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    const where = el.closest('[data-cid],[data-peer],[data-group],[data-id],[id]');
    return el.tagName.toLowerCase() + ' "' + text + '"' + (where ? ' in ' + (where.id ? '#' + where.id : where.tagName.toLowerCase()) : '');
  };
  if (doc.scrollWidth > vw) problems.push('the page is ' + doc.scrollWidth + ' px wide in a ' + vw + ' px window');
  if (doc.clientWidth !== vw) problems.push('the layout is ' + doc.clientWidth + ' px wide in a ' + vw + ' px window');
  const controls = document.querySelectorAll('button, a.button, label.button, input:not(.file-input), textarea, select');
  for (const el of controls) {
    if (el.closest('[hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) problems.push(what(el) + ' has no size');
    else if (r.left < -0.5 || r.right > vw + 0.5) problems.push(what(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px, outside the window');
  }
  for (const td of document.querySelectorAll('table.list td')) {
    if (td.closest('[hidden]') || !td.textContent.trim()) continue;
    const r = td.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) problems.push('a ' + what(td) + ' cell is not shown');
    else if (r.left < -0.5 || r.right > vw + 0.5) problems.push('a ' + what(td) + ' cell is outside the window');
  }
  if (cards) {
    const header = document.querySelector('header.top').getBoundingClientRect();
    if (header.height > 0.12 * window.innerHeight) problems.push('the header is ' + Math.round(header.height) + ' px tall');
    for (const el of document.querySelectorAll('table.list td.name')) {
      const w = el.getBoundingClientRect().width;
      if (w < 0.6 * vw) problems.push('the name ' + what(el) + ' gets ' + Math.round(w) + ' px of ' + vw);
    }
    for (const el of document.querySelectorAll('table.list code[title]')) {
      const lh = parseFloat(getComputedStyle(el).lineHeight) || 20;
      if (el.getBoundingClientRect().height > 1.6 * lh) problems.push(what(el) + ' wraps over lines');
    }
  }
  return problems;
})`

// checkLayout fails the test for every layout problem of the page shown.
func checkLayout(t *testing.T, ctx context.Context, vp viewport, name string) {
	t.Helper()
	var problems []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf("%s(%v)", layoutScript, vp.cards), &problems)); err != nil {
		t.Fatalf("check %s at %s: %v", name, vp.name, err)
	}
	for _, p := range problems {
		t.Errorf("%s at %s (%dx%d): %s", name, vp.name, vp.width, vp.height, p)
	}
}

// checkActionCells: on the Files page, each row's action cell has the
// row's top and bottom, so the cell borders line up.
func checkActionCells(t *testing.T, ctx context.Context) {
	t.Helper()
	var off []string
	err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('#pins tbody tr[data-cid]')].flatMap((tr) => {
		const r = tr.getBoundingClientRect();
		return [...tr.children].filter((td) => {
			const c = td.getBoundingClientRect();
			return Math.abs(c.top - r.top) > 0.5 || Math.abs(c.bottom - r.bottom) > 0.5;
		}).map((td) => tr.dataset.cid.slice(-8) + ' ' + (td.className || td.cellIndex));
	})`, &off))
	if err != nil {
		t.Fatal(err)
	}
	if len(off) > 0 {
		t.Errorf("Files cells that do not line up with their rows: %s", strings.Join(off, ", "))
	}
}

// viewportShot saves what the window shows as dir/name.png.
func viewportShot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signInFile writes the sign-in page `kith ui` writes for link and
// returns its file URL.
func signInFile(t *testing.T, link string) string {
	t.Helper()
	page := filepath.Join(t.TempDir(), "signin.html")
	if err := os.WriteFile(page, ui.SignInPage(link), 0o600); err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: page}).String()
}

// checkStyled: the page shown is styled like the UI (its font, its cards
// and header), not a browser's default serif text.
func checkStyled(t *testing.T, ctx context.Context, vp viewport) {
	t.Helper()
	var got struct{ Font, Border, Header string }
	err := chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const card = document.querySelector('.card'), header = document.querySelector('header.top');
		return { font: getComputedStyle(document.body).fontFamily,
			border: card ? getComputedStyle(card).borderTopWidth : '',
			header: header ? getComputedStyle(header).borderBottomWidth : '' };
	})()`, &got))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Font, "system-ui") || got.Border != "1px" || got.Header != "1px" {
		t.Errorf("the sign-in page at %s is not styled like the UI: %+v", vp.name, got)
	}
}
