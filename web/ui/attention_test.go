package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/node"
)

// TestBrowserOverviewNeedsAttention: the Overview says what in the groups
// needs the user, and nothing while all is well: a share its group keeps
// fewer copies of than asked, with the reason; a followed folder that is
// gone; a folder that follows the share, paused, then gone. When the share
// is withdrawn (which ends its watch) and the folder no longer follows it,
// the panel goes.
func TestBrowserOverviewNeedsAttention(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, func(c *node.Config) {
		c.Groups.WatchInterval = node.Duration(200 * time.Millisecond)
		c.Groups.WatchSettle = node.Duration(200 * time.Millisecond)
	})
	g, err := d.c.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/overview"), chromedp.WaitVisible("#stat-peers", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var sections int
	err = chromedp.Run(sctx,
		chromedp.WaitReady("#attention[data-checked]", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#attention section').length`, &sections))
	if err != nil || sections != 0 {
		t.Fatalf("with nothing wrong the Overview shows %d attention panels (%v)", sections, err)
	}

	dir, res := shareFollowed(t, ctx, d, g.Name, 2)
	waitText(t, sctx, `#attention li[data-kind="short"]`, "docs in family: 1 of 2 copies (only 1 live member for 2 copies).")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, `#attention li[data-kind="watch"]`, "family: "+dir+" is gone (moved or deleted?)")
	// A folder that follows the share (get --follow), gone too.
	out := filepath.Join(t.TempDir(), "docs")
	if _, err := d.c.Get(ctx, res.Cid, out, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupMirror(ctx, g.Name, "docs", out, res.Cid); err != nil {
		t.Fatal(err)
	}
	// Paused, it is named (a paused folder is easily forgotten); resumed,
	// it goes.
	if _, err := d.c.GroupPause(ctx, out, true); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, `#attention li[data-kind="paused"]`, "family: "+out+" is paused: newer versions are not written in until you resume it.")
	if _, err := d.c.GroupPause(ctx, out, false); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, chromedp.WaitNotPresent(`#attention li[data-kind="paused"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, `#attention li[data-kind="mirror"]`, "family: "+out+" is gone: family's newer versions of docs are written into it once it is back")
	screenshot(t, ctx, artifacts(t), "overview-attention")

	if err := d.c.GroupUnshare(ctx, g.Name, res.Cid); err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupUnmirror(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, chromedp.Poll(`document.querySelectorAll('#attention section').length === 0`, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("after the share was withdrawn the Overview still needs attention: %v", err)
	}
}
