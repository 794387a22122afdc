package ui_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAddAsOneFolder: files chosen together with "one folder"
// ticked go in as one folder under the name typed, one upload and one
// CID for all.
func TestBrowserAddAsOneFolder(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)

	dir := t.TempDir()
	var paths []string
	for name, body := range map[string]string{"beach.jpg": "sand", "sunset.jpg": "orange"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.Click("#wrap", chromedp.ByQuery),
		chromedp.SetValue("#wrap-name", "trip/2026", chromedp.ByQuery),
		chromedp.SetUploadFiles("#file-input", paths, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("add two files as one folder: %v", err)
	}
	// A slash cannot be in a name: it becomes "_".
	cid := waitUpload(t, ctx, "trip_2026")
	screenshot(t, ctx, shots, "add-as-one-folder")
	var uploads int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('li.upload').length`, &uploads)); err != nil || uploads != 1 {
		t.Fatalf("%d uploads (%v), want the one folder", uploads, err)
	}
	// In no group, the upload offers no group form, nor a hint per file.
	var boxes int
	err = chromedp.Run(ctx, chromedp.Poll(`!document.querySelector('li.upload .group-share')`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelectorAll('li.upload .group-share').length`, &boxes))
	if err != nil || boxes != 0 {
		t.Fatalf("in no group, an upload shows %d group boxes (%v)", boxes, err)
	}
	entries, err := d.c.Ls(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"beach.jpg", "sunset.jpg"}) {
		t.Fatalf("the folder holds %q", names)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].Name != "trip_2026" || pins[0].Cid != cid {
		t.Fatalf("pins %+v, want the folder as trip_2026", pins)
	}
}
