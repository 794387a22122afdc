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

// TestBrowserShareInGroup shares a pin in groups from the Files page, as
// `kith share` does, and stops a share, as `kith unshare` does: with no
// group the Share panel says how to get one; the form offers only the
// groups that do not share it yet; a group with fewer members than the
// copies asked says so; Stop sharing asks in place and leaves the pin.
func TestBrowserShareInGroup(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	res, err := d.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("meeting notes\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	row := fmt.Sprintf(`#pins tr[data-cid="%s"]`, res.Cid)
	panel := fmt.Sprintf(`tr[data-ticket-for="%s"] .group-share`, res.Cid)
	openPanel := func(t *testing.T) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := chromedp.Run(sctx,
			chromedp.Navigate(d.base()+"/#/files"),
			chromedp.Reload(),
			chromedp.WaitVisible(row+` [data-action="share"]`, chromedp.ByQuery),
			clickJS(row+` [data-action="share"]`),
			chromedp.WaitVisible(panel+" > *:not(.status)", chromedp.ByQuery),
		)
		if err != nil {
			t.Fatalf("open the Share panel: %v", err)
		}
	}
	shares := func(t *testing.T) map[string]int {
		t.Helper()
		all, err := d.c.GroupStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, st := range all {
			if st.Cid == res.Cid {
				got[st.Group] = st.Copies
			}
		}
		return got
	}

	openPanel(t)
	waitText(t, ctx, panel+" .no-groups", "create or join a group")

	for _, g := range []string{"family", "work"} {
		if _, err := d.c.GroupCreate(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	openPanel(t)
	var options []string
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = chromedp.Run(sctx,
		chromedp.WaitVisible(panel+" form.share-form", chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll('%s select.share-group option')].map((o) => o.value)`, panel), &options),
		submitShare(panel, "work", 1),
	)
	if err != nil {
		t.Fatalf("share in work: %v", err)
	}
	if fmt.Sprint(options) != "[family work]" {
		t.Errorf("the form offers groups %v, want [family work]", options)
	}
	waitText(t, ctx, panel+" p.status", "Shared notes.txt in work: it keeps 1 copy.")
	waitText(t, ctx, panel+` .shared-in[data-group="work"]`, "Shared in work: keeps 1 copy")
	if got := shares(t); fmt.Sprint(got) != "map[work:1]" {
		t.Fatalf("after sharing in work the daemon has %v", got)
	}

	// The form now offers family only; 3 copies among 1 member says so.
	err = chromedp.Run(sctx,
		chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll('%s select.share-group option')].map((o) => o.value)`, panel), &options),
		submitShare(panel, "", 3),
	)
	if err != nil {
		t.Fatalf("share in family: %v", err)
	}
	if fmt.Sprint(options) != "[family]" {
		t.Errorf("after sharing in work the form offers %v, want [family]", options)
	}
	waitText(t, ctx, panel+" p.status", "family has 1 member, so it keeps 1 until more join.")
	waitText(t, ctx, row+" td.replication", "of 3 copies")
	if got := shares(t); fmt.Sprint(got) != "map[family:3 work:1]" {
		t.Fatalf("after sharing in family the daemon has %v", got)
	}
	var forms int
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll('%s form.share-form').length`, panel), &forms)); err != nil {
		t.Fatal(err)
	}
	if forms != 0 {
		t.Error("shared in every group, the panel still offers the form")
	}
	screenshot(t, ctx, shots, "files-share-in-group")

	// Stop sharing in work, through the confirm step.
	work := panel + ` .shared-in[data-group="work"]`
	err = chromedp.Run(sctx,
		clickJS(work+` [data-action="unshare"]`),
		chromedp.WaitVisible(work+` [data-action="unshare-confirm"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("ask to stop sharing: %v", err)
	}
	waitText(t, ctx, work, "Your own pin stays.")
	screenshot(t, ctx, shots, "files-unshare-confirm")
	if got := shares(t); fmt.Sprint(got) != "map[family:3 work:1]" {
		t.Fatalf("before the confirm the daemon has %v", got)
	}
	if err := chromedp.Run(sctx, clickJS(work+` [data-action="unshare-confirm"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, panel+" p.status", "work no longer keeps copies of notes.txt; your own pin stays.")
	if got := shares(t); fmt.Sprint(got) != "map[family:3]" {
		t.Fatalf("after Stop sharing in work the daemon has %v", got)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil || len(pins) != 1 || pins[0].Cid != res.Cid {
		t.Fatalf("after Stop sharing the pins are %+v (%v), want notes.txt still pinned", pins, err)
	}
	err = chromedp.Run(sctx,
		chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll('%s select.share-group option')].map((o) => o.value)`, panel), &options))
	if err != nil || fmt.Sprint(options) != "[work]" {
		t.Fatalf("after Stop sharing in work the form offers %v (%v), want [work]", options, err)
	}

	// The Add page offers the same form under each file added.
	src := filepath.Join(t.TempDir(), "minutes.txt")
	if err := os.WriteFile(src, []byte("minutes of the meeting\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.SetUploadFiles("#file-input", []string{src}, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("add a file: %v", err)
	}
	added := waitUpload(t, ctx, "minutes.txt")
	upload := `li.upload[data-name="minutes.txt"] .group-share`
	err = chromedp.Run(sctx,
		chromedp.WaitVisible(upload+" form.share-form", chromedp.ByQuery),
		submitShare(upload, "family", 1),
	)
	if err != nil {
		t.Fatalf("share the added file in family: %v", err)
	}
	waitText(t, ctx, upload+" p.status", "Shared minutes.txt in family: it keeps 1 copy.")
	st, err := d.c.GroupStatus(ctx, added)
	if err != nil || len(st) != 1 || st[0].Group != "family" || st[0].Copies != 1 {
		t.Fatalf("the added file's shares: %+v, %v", st, err)
	}

	// Another notes.txt (the file changed and was added again), shared
	// in family: the page says family keeps the earlier one too.
	v2, err := d.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("meeting notes, corrected\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	row2 := fmt.Sprintf(`#pins tr[data-cid="%s"]`, v2.Cid)
	panel2 := fmt.Sprintf(`tr[data-ticket-for="%s"] .group-share`, v2.Cid)
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/files"),
		chromedp.WaitVisible(row2+` [data-action="share"]`, chromedp.ByQuery),
		clickJS(row2+` [data-action="share"]`),
		chromedp.WaitVisible(panel2+" form.share-form", chromedp.ByQuery),
		submitShare(panel2, "family", 1),
	)
	if err != nil {
		t.Fatalf("share the new notes.txt in family: %v", err)
	}
	waitText(t, ctx, panel2+" p.status", "family also keeps an earlier version of notes.txt: Stop sharing it from its own row")
}

// submitShare fills and submits the group form in panel (group "" keeps
// the one selected). It works on the page through script, not through
// chromedp's node IDs: the Files page moves the Share panel's row when the
// list reloads (a "groups" event), which would leave those stale.
func submitShare(panel, group string, copies int) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
  const f = document.querySelector(%q);
  if (%q) f.querySelector('select.share-group').value = %q;
  f.querySelector('input.share-copies').value = %q;
  f.requestSubmit();
})()`, panel+" form.share-form", group, group, fmt.Sprint(copies)), nil)
}

// clickJS clicks the element sel finds, through script (see submitShare).
func clickJS(sel string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click()`, sel), nil)
}

// TestBrowserShareFollowsAFolder: a share made with --watch says, in the
// Share panel, which folder it follows (and what went wrong with it);
// Pause and Resume pause it; Stop following ends the watch and leaves the
// share.
func TestBrowserShareFollowsAFolder(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	dir, res := shareFollowed(t, ctx, d, "family", 1)
	d.login(t, ctx)
	row := fmt.Sprintf(`#pins tr[data-cid="%s"]`, res.Cid)
	line := fmt.Sprintf(`tr[data-ticket-for="%s"] .group-share .shared-in[data-group="family"]`, res.Cid)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/files"),
		chromedp.WaitVisible(row+` [data-action="share"]`, chromedp.ByQuery),
		clickJS(row+` [data-action="share"]`),
		chromedp.WaitVisible(line+` [data-action="unwatch"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("the Share panel of a watched share: %v", err)
	}
	waitText(t, ctx, line+" .follows", "follows "+dir)
	screenshot(t, ctx, artifacts(t), "files-share-follows")
	// Paused and resumed from the line (kith watch pause, resume).
	if err := chromedp.Run(sctx, clickJS(line+` [data-action="pause"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, line+" .follows .paused", "(paused: its changes are not shared)")
	if ws, err := d.c.GroupWatches(ctx); err != nil || len(ws) != 1 || !ws[0].Paused {
		t.Fatalf("paused from the Share panel, the watch is %+v (%v)", ws, err)
	}
	if err := chromedp.Run(sctx, clickJS(line+` [data-action="resume"]`), chromedp.WaitNotPresent(line+" .follows .paused", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if ws, err := d.c.GroupWatches(ctx); err != nil || len(ws) != 1 || ws[0].Paused {
		t.Fatalf("resumed from the Share panel, the watch is %+v (%v)", ws, err)
	}
	if err := chromedp.Run(sctx, clickJS(line+` [data-action="unwatch"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, fmt.Sprintf(`tr[data-ticket-for="%s"] .group-share p.status`, res.Cid), dir+" is no longer followed")
	if ws, err := d.c.GroupWatches(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("after Stop following the daemon watches %+v (%v)", ws, err)
	}
	if st, err := d.c.GroupStatus(ctx, res.Cid); err != nil || len(st) != 1 {
		t.Fatalf("after Stop following the share is %+v (%v), want it kept", st, err)
	}
}

// shareFollowed shares a new folder "docs" (one file) in group with copies,
// following it as `kith share --watch` does; it returns the folder and
// the add's result.
func shareFollowed(t *testing.T, ctx context.Context, d *daemon, group string, copies int) (string, api.AddResult) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.txt"), []byte("plan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	res, err := d.c.AddPath(ctx, dir, true, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupShare(ctx, group, res.Cid, api.ShareOptions{Copies: copies}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupWatch(ctx, group, dir, api.WatchOptions{Copies: copies, Cid: res.Cid, Since: since}); err != nil {
		t.Fatal(err)
	}
	return dir, res
}
