package ui_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/blockstore/fstest"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserFollowOntoACaseInsensitiveDisk: a share holding two names
// that differ only in case, followed from the group's page into a folder
// on exFAT (as macOS's and Windows' file systems, names in one case are
// one): the page names what was not written and why; asked to sync both
// ways, the folder does not (its next version would remove that name on
// every device), and the page says so.
func TestBrowserFollowOntoACaseInsensitiveDisk(t *testing.T) {
	stick := fstest.ExFAT(t)
	t.Setenv("HOME", t.TempDir())
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "Mixed")
	fstest.WriteFiles(t, src, map[string]string{"README.md": "UPPER\n", "readme.md": "lower\n"})
	res, err := d.c.AddPath(ctx, src, true, api.AddOptions{Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupShare(ctx, "family", res.Cid, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/groups/family"), chromedp.WaitVisible("#mirror-form", chromedp.ByQuery)); err != nil {
		t.Fatalf("open the group's page: %v", err)
	}
	waitText(t, sctx, "#mirror-name", "Mixed")
	submit := func(path string, sync bool) {
		t.Helper()
		if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#mirror-name').value = 'Mixed';
  document.querySelector('#mirror-path').value = %q;
  document.querySelector('#mirror-sync').checked = %t;
  document.querySelector('#mirror-form').requestSubmit();
})()`, path, sync), nil)); err != nil {
			t.Fatal(err)
		}
	}
	const left = " Not written, as this disk cannot hold them: readme.md (names differ only in case: README.md is there already, and this file system does not tell them apart)."
	synced := filepath.Join(stick, "synced")
	submit(synced, true)
	waitText(t, sctx, "#mirror-status", "Wrote Mixed into "+synced+", but it does not sync with family: a folder that syncs must hold every entry."+left)
	followed := filepath.Join(stick, "followed")
	submit(followed, false)
	waitText(t, sctx, "#mirror-status", "Wrote Mixed into "+followed+", 6 B: it follows each newer version family shares."+left)
	if ms, err := d.c.GroupMirrors(ctx); err != nil || len(ms) != 1 || ms[0].Path != followed || ms[0].Sync {
		t.Errorf("mirrors: %+v, %v; want only %s, following", ms, err, followed)
	}
}
