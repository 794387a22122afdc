package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserGetAPath: the Get page takes a path into a folder, as pasted
// from a gateway address or a terminal (/ipfs/CID/a/name with spaces),
// and gets what it names, pinned under its last name.
func TestBrowserGetAPath(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	album, err := d.c.Add(ctx, "album", files.NewMapDirectory(map[string]files.Node{
		"day 1": files.NewMapDirectory(map[string]files.Node{
			"beach photo.txt": files.NewBytesFile([]byte("sand\n")),
		}),
	}), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.c.Stat(ctx, album.Cid+"/day 1/beach photo.txt")
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SetValue("#get-cid", " /ipfs/"+album.Cid+"/day 1/beach photo.txt ", chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`li.job[data-cid="`+file.Cid+`"][data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		var status string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('get-status').textContent`, &status))
		t.Fatalf("get a path: %v (the page says %q)", err, status)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.Cid == file.Cid {
			if p.Name != "beach photo.txt" {
				t.Fatalf("the file got by its path is pinned as %q, want its name", p.Name)
			}
			return
		}
	}
	t.Fatalf("the file got by its path is not pinned: %+v", pins)
}
