package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserFolderWithSymlink opens a folder holding a symbolic link: its
// row says where the link points and opens nothing (a link has no
// content), and the link opened by its CID says what it is.
func TestBrowserFolderWithSymlink(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)

	const target = "../photos/beach.jpg"
	res, err := d.c.Add(ctx, "trip", files.NewMapDirectory(map[string]files.Node{
		"notes.txt": files.NewBytesFile([]byte("day one\n")),
		"cover.jpg": files.NewLinkFile(target, nil),
	}), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := d.c.Ls(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	var linkCid string
	for _, e := range entries {
		if e.Name == "cover.jpg" {
			if e.Type != "symlink" || e.Target != target {
				t.Fatalf("ls gives %+v, want a symlink to %s", e, target)
			}
			linkCid = e.Cid
		}
	}

	var row string
	var anchors int
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/open/"+res.Cid+"?name=trip"),
		chromedp.Poll(`document.querySelectorAll('#folder tbody tr').length === 2`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`[...document.querySelectorAll('#folder tbody tr')].find((tr) => tr.textContent.includes('cover.jpg')).textContent`, &row),
		chromedp.Evaluate(`[...document.querySelectorAll('#folder tbody tr')].find((tr) => tr.textContent.includes('cover.jpg')).querySelectorAll('td.name a').length`, &anchors),
	)
	if err != nil {
		t.Fatalf("open the folder: %v", err)
	}
	screenshot(t, ctx, shots, "open-folder-symlink")
	if !strings.Contains(row, "cover.jpg → "+target) || anchors != 0 {
		t.Errorf("the link's row says %q with %d links to open, want its target and nothing to open", row, anchors)
	}

	var said string
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/open/"+linkCid+"?name=cover.jpg"),
		chromedp.Poll(`!!document.querySelector('#preview .link-target')`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text(`#preview`, &said, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if !strings.Contains(said, "A symbolic link to "+target) {
		t.Errorf("the link's page says %q", said)
	}
}
