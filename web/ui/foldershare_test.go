package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/node"
)

// TestBrowserShareAFolderOfThisComputer shares a folder from a group's
// page, as `kith share PATH --group G --watch --exclude` does: the daemon
// reads the folder at the path typed (a leading ~ is the daemon user's
// home), pins it, the group keeps the copies asked and, with Follow
// checked, a change to the folder is shared again in its place; what
// Leave out names stays out. A path that is not absolute, or that the
// daemon cannot find, is refused with one sentence; Stop following ends
// the watch and keeps the share.
func TestBrowserShareAFolderOfThisComputer(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ctx := newBrowser(t)
	d := startDaemon(t, func(c *node.Config) {
		c.Groups.WatchInterval = node.Duration(300 * time.Millisecond)
		c.Groups.WatchSettle = node.Duration(300 * time.Millisecond)
	})
	g, err := d.c.GroupCreate(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, "Holiday photos")
	for name, body := range map[string]string{"day-1/beach.txt": "sand\n", "notes.txt": "plan\n", "scratch.tmp": "junk\n"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	submit := func(t *testing.T, path string) {
		t.Helper()
		err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#folder-path').value = %q;
  document.querySelector('#folder-copies').value = '1';
  document.querySelector('#folder-exclude').value = '*.tmp, cache/';
  document.querySelector('#folder-keep').value = '1';
  document.querySelector('#folder-share-form').requestSubmit();
})()`, path), nil))
		if err != nil {
			t.Fatalf("submit %q: %v", path, err)
		}
	}
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/groups/family"),
		chromedp.WaitVisible("#folder-share-form", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("open the group's page: %v", err)
	}
	// The placeholder shows the daemon user's home.
	waitAttr(t, sctx, "#folder-path", "placeholder", home+"/Photos or ~/Photos")

	submit(t, "Holiday photos")
	waitText(t, sctx, "#folder-status", "Give the full path, such as "+home+"/Photos, or ~/Photos.")
	submit(t, filepath.Join(home, "no such folder"))
	waitText(t, sctx, "#folder-status", "the daemon finds no such file or folder")
	if pins, err := d.c.Pins(ctx); err != nil || len(pins) != 0 {
		t.Fatalf("after two refused paths the pins are %+v (%v)", pins, err)
	}

	submit(t, "~/Holiday photos")
	waitText(t, sctx, "#folder-status", "Shared Holiday photos in family: it keeps 1 copy. It follows "+dir+": a change is shared again, and the version before it kept.")
	waitText(t, sctx, fmt.Sprintf(`#followed li[data-path=%q]`, dir), "shared just now, 1 copy")
	screenshot(t, ctx, artifacts(t), "group-share-folder")
	first := followedCid(t, d, dir)
	st, err := d.c.GroupStatus(ctx, first)
	if err != nil || len(st) != 1 || st[0].Group != "family" || st[0].Copies != 1 {
		t.Fatalf("the group's share of the folder: %+v (%v)", st, err)
	}
	entries := func(c string) string {
		t.Helper()
		es, err := d.c.Ls(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name)
		}
		return strings.Join(names, " ")
	}
	if got := entries(first); got != "day-1 notes.txt" {
		t.Errorf("the folder shared holds %q, want the .tmp file left out", got)
	}
	// What a group keeps is not announced in the public DHT.
	pins, err := d.c.Pins(ctx)
	if err != nil || len(pins) != 1 || pins[0].Cid != first || !pins[0].Private {
		t.Errorf("the pins after the share: %+v (%v), want %s, private", pins, err, first)
	}
	ws, err := d.c.GroupWatches(ctx)
	if err != nil || len(ws) != 1 || ws[0].Group != g.Name || fmt.Sprint(ws[0].Exclude) != "[*.tmp cache/]" {
		t.Fatalf("the watch made: %+v (%v)", ws, err)
	}

	// A change is shared again in place of the version before.
	if err := os.WriteFile(filepath.Join(dir, "day-2.txt"), []byte("hills\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	second := first
	for second == first {
		if time.Now().After(deadline) {
			t.Fatalf("the change to %s was not shared within a minute", dir)
		}
		time.Sleep(100 * time.Millisecond) // polling pace: the watch runs in the daemon
		second = followedCid(t, d, dir)
	}
	if got := entries(second); got != "day-1 day-2.txt notes.txt" {
		t.Errorf("the version shared after the change holds %q", got)
	}
	// The version before is kept too (keep 1), and listed under the
	// folder, opening in the browser.
	if _, err := d.c.GroupStatus(ctx, first); err != nil {
		t.Errorf("the version before the change, kept, is not shared: %v", err)
	}
	kept := fmt.Sprintf(`#followed li[data-path=%q] details.kept`, dir)
	waitText(t, sctx, kept+" summary", "1 earlier version kept")
	var href string
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).getAttribute('href')`, kept+" a"), &href)); err != nil || !strings.Contains(href, first) {
		t.Errorf("the kept version's link is %q (%v), want one to %s", href, err, first)
	}
	// What the share sent out is listed under the folder (kith watch
	// changes).
	recent := fmt.Sprintf(`#followed li[data-path=%q] details.recent`, dir)
	waitText(t, sctx, recent+" summary", "Recent changes (1)")
	waitText(t, sctx, recent+` li[data-what="written"][data-here="yes"]`, "Written day-2.txt · by this device · just now")

	// Paused from its row, then resumed: what changed meanwhile is shared
	// at once (the daemon's own tests show nothing is shared while paused).
	row := fmt.Sprintf(`#followed li[data-path=%q]`, dir)
	if err := chromedp.Run(sctx, clickJS(row+` [data-action="pause"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#folder-status", dir+" is paused until you resume it.")
	waitText(t, sctx, row+" .paused", "Paused: what changes there is not shared until you resume it.")
	if ws, err := d.c.GroupWatches(ctx); err != nil || len(ws) != 1 || !ws[0].Paused {
		t.Fatalf("paused from the page, the watch is %+v (%v)", ws, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "day-3.txt"), []byte("sea\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, clickJS(row+` [data-action="resume"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#folder-status", dir+" is resumed: what changed there is shared now.")
	deadline = time.Now().Add(time.Minute)
	for third := second; third == second; third = followedCid(t, d, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("the change made while paused was not shared within a minute of Resume")
		}
		time.Sleep(100 * time.Millisecond) // polling pace: the watch runs in the daemon
	}
	second = followedCid(t, d, dir)

	// Stop following keeps the share.
	if err := chromedp.Run(sctx, clickJS(fmt.Sprintf(`#followed li[data-path=%q] [data-action="unwatch"]`, dir))); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#folder-status", "the folder is no longer followed")
	if ws, err := d.c.GroupWatches(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("after Stop following the daemon watches %+v (%v)", ws, err)
	}
	if st, err := d.c.GroupStatus(ctx, second); err != nil || len(st) != 1 {
		t.Fatalf("after Stop following the share is %+v (%v), want it kept", st, err)
	}
	if err := chromedp.Run(sctx, chromedp.Poll(`document.querySelectorAll('#followed li').length === 0`, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Errorf("after Stop following the page still lists the folder: %v", err)
	}
}

// followedCid is the version of dir its watch shared last.
func followedCid(t *testing.T, d *daemon, dir string) string {
	t.Helper()
	ws, err := d.c.GroupWatches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.Path == dir {
			return w.Cid
		}
	}
	t.Fatalf("%s is not watched: %+v", dir, ws)
	return ""
}

// waitAttr waits until the element sel finds has attribute attr = want.
func waitAttr(t *testing.T, ctx context.Context, sel, attr, want string) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.getAttribute(%q) === %q; })()`, sel, attr, want)
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		var got string
		_ = chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => 'no element'}).getAttribute(%q)`, sel, attr), &got))
		t.Fatalf("%s %s = %q, want %q: %v", sel, attr, got, want, err)
	}
}

// TestBrowserShareAFolderToSync shares a folder from a group's page with
// Sync both ways, as `kith share PATH --group G --sync --keep 2` does:
// nothing can be left out (refused in one sentence); what another copy of
// the folder changes is written in, and the version before stays shared
// (kept); Stop syncing ends both directions.
func TestBrowserShareAFolderToSync(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ctx := newBrowser(t)
	d := startDaemon(t, func(c *node.Config) {
		c.Groups.WatchInterval = node.Duration(300 * time.Millisecond)
		c.Groups.WatchSettle = node.Duration(300 * time.Millisecond)
	})
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, "Notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.txt"), []byte("first plan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	submit := func(t *testing.T, exclude string, keep int) {
		t.Helper()
		err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#folder-path').value = %q;
  document.querySelector('#folder-copies').value = '1';
  document.querySelector('#folder-exclude').value = %q;
  document.querySelector('#folder-keep').value = '%d';
  document.querySelector('#folder-sync').checked = true;
  document.querySelector('#folder-share-form').requestSubmit();
})()`, dir, exclude, keep), nil))
		if err != nil {
			t.Fatal(err)
		}
	}
	err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/groups/family"),
		chromedp.WaitVisible("#folder-share-form", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("open the group's page: %v", err)
	}
	submit(t, "*.tmp", 0)
	waitText(t, sctx, "#folder-status", "A folder that syncs both ways leaves nothing out")
	if pins, err := d.c.Pins(ctx); err != nil || len(pins) != 0 {
		t.Fatalf("after a refused form the pins are %+v (%v)", pins, err)
	}

	submit(t, "", 2)
	waitText(t, sctx, "#folder-status", "It syncs "+dir+" both ways: what changes there is shared, and what other devices share as Notes is written in. The group keeps the 2 versions before the newest too.")
	row := fmt.Sprintf(`#followed li[data-path=%q]`, dir)
	waitText(t, sctx, row+" .sync", "Syncs both ways: what other devices change is written here too. family keeps the 2 versions before the newest too.")
	waitText(t, sctx, row+` [data-action="unwatch"]`, "Stop syncing")
	waitText(t, sctx, fmt.Sprintf(`#mirrors li[data-path=%q] .sync`, dir), "Syncs both ways: what changes there is shared too. family keeps the 2 versions before the newest too.")
	// The follow form below, loaded before the share, no longer says
	// the group shares nothing.
	if err := chromedp.Run(sctx, chromedp.Poll(`document.querySelector('#mirror-status').textContent === ''`, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Errorf("the follow form still says the group shares nothing: %v", err)
	}
	screenshot(t, ctx, artifacts(t), "group-share-folder-sync")

	// Another copy of the folder that syncs (kith get --sync): what it
	// changes is written in here.
	first := followedCid(t, d, dir)
	other := filepath.Join(t.TempDir(), "Notes")
	if _, err := d.c.Get(ctx, first, other, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := d.c.GroupSync(ctx, "family", "Notes", other, first, 0, 0, time.Now()); err != nil || m.Keep != 2 {
		t.Fatalf("the other copy syncs keeping %d earlier versions (%v): want 2, as the version says", m.Keep, err)
	}
	if err := os.WriteFile(filepath.Join(other, "plan.txt"), []byte("second plan, from the other copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := os.ReadFile(filepath.Join(dir, "plan.txt"))
		if err == nil && string(b) == "second plan, from the other copy\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan.txt in the folder shared with Sync both ways = %q, %v; want the other copy's change", b, err)
		}
		time.Sleep(50 * time.Millisecond) // polling pace: the sync runs in the daemon
	}
	// The first version is kept shared beside the newest.
	sts, err := d.c.GroupStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var shared []string
	for _, st := range sts {
		if st.Name == "Notes" {
			shared = append(shared, st.Cid)
		}
	}
	if len(shared) < 2 || !slices.Contains(shared, first) {
		t.Errorf("the group shares %v as Notes: want the first version %s kept beside the newest", shared, first)
	}

	if err := chromedp.Run(sctx, clickJS(row+` [data-action="unwatch"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#folder-status", "the folder is no longer synced either way")
	ws, err := d.c.GroupWatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := d.c.GroupMirrors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.Path == dir {
			t.Errorf("after Stop syncing %s is still watched: %+v", dir, w)
		}
	}
	for _, m := range ms {
		if m.Path == dir {
			t.Errorf("after Stop syncing %s still follows the group: %+v", dir, m)
		}
	}
}
