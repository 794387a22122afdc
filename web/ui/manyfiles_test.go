package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserManyFiles: the Files page of a repo with many pins draws the
// first 500 (a table of thousands takes the browser seconds to lay out),
// says how many it shows of how many, and shows more on demand; a filter,
// offered from 20 pins on, keeps the rows whose name or CID holds every
// word typed, whatever the case, and says when none does. A folder of
// many entries opens the same way.
func TestBrowserManyFiles(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	add := func(i int) string {
		t.Helper()
		res, err := d.c.Add(ctx, fmt.Sprintf("Note-%04d.txt", i), files.NewBytesFile([]byte(fmt.Sprintf("note %d\n", i))), 0, api.AddOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Cid
	}
	add(0)
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	count := func(t *testing.T, want int) {
		t.Helper()
		expr := fmt.Sprintf(`document.querySelectorAll('#pins tbody tr[data-cid]').length === %d`, want)
		if err := chromedp.Run(sctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			var got int
			_ = chromedp.Run(sctx, chromedp.Evaluate(`document.querySelectorAll('#pins tbody tr[data-cid]').length`, &got))
			t.Fatalf("the Files page shows %d rows, want %d: %v", got, want, err)
		}
	}
	hidden := func(t *testing.T, sel string) bool {
		t.Helper()
		var h bool
		if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !el || el.closest('[hidden]') !== null; })()`, sel), &h)); err != nil {
			t.Fatal(err)
		}
		return h
	}
	filter := func(t *testing.T, typed string) {
		t.Helper()
		err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  const f = document.querySelector('#files-filter');
  f.value = %q;
  f.dispatchEvent(new Event('input'));
})()`, typed), nil))
		if err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/files")); err != nil {
		t.Fatal(err)
	}
	count(t, 1)
	if !hidden(t, "#files-filter") {
		t.Error("with one pin the page offers a filter")
	}

	var cid42 string
	for i := 1; i < 600; i++ {
		if c := add(i); i == 42 {
			cid42 = c
		}
	}
	if err := chromedp.Run(sctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	count(t, 500)
	waitText(t, sctx, "#files-more", "Showing 500 of 600.")
	if hidden(t, "#files-filter") {
		t.Error("with 600 pins the page offers no filter")
	}
	viewportShot(t, ctx, artifacts(t), "files-many")
	if err := chromedp.Run(sctx, clickJS("#files-more button")); err != nil {
		t.Fatal(err)
	}
	count(t, 600)
	var bars int
	if err := chromedp.Run(sctx, chromedp.Evaluate(`document.querySelectorAll('#files-more').length`, &bars)); err != nil || bars != 0 {
		t.Errorf("all 600 shown, the page still offers more (%d, %v)", bars, err)
	}

	filter(t, "note-0042")
	count(t, 1)
	waitText(t, sctx, "#pins tbody tr[data-cid]", "Note-0042.txt")
	filter(t, "  NOTE  -059 ")
	count(t, 10)
	filter(t, cid42[len(cid42)-12:])
	count(t, 1)
	waitText(t, sctx, fmt.Sprintf(`#pins tr[data-cid=%q]`, cid42), "Note-0042.txt")
	filter(t, "holiday")
	waitText(t, sctx, "#files-none", "Nothing here matches “holiday”.")
	filter(t, "")
	count(t, 500)

	// A folder of 1,200 entries.
	dir := filepath.Join(t.TempDir(), "scans")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 1200 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("scan-%04d.jpg", i)), []byte{byte(i), byte(i >> 8)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	folder, err := d.c.AddPath(ctx, dir, true, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries := func(t *testing.T, want int) {
		t.Helper()
		expr := fmt.Sprintf(`document.querySelectorAll('#folder tbody tr').length === %d`, want)
		if err := chromedp.Run(sctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("the folder shows not %d entries: %v", want, err)
		}
	}
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/open/"+folder.Cid+"?name=scans")); err != nil {
		t.Fatal(err)
	}
	entries(t, 500)
	waitText(t, sctx, "#folder-more", "Showing 500 of 1200.")
	if err := chromedp.Run(sctx, clickJS("#folder-more button:last-child")); err != nil {
		t.Fatal(err)
	}
	entries(t, 1200)
	if err := chromedp.Run(sctx, chromedp.Evaluate(`(() => {
  const f = document.querySelector('#folder-filter');
  f.value = 'SCAN-11';
  f.dispatchEvent(new Event('input'));
})()`, nil)); err != nil {
		t.Fatal(err)
	}
	entries(t, 100)
}
