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
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserFollowAShare follows a share of a group into a folder of this
// computer from the group's page, as `kith get NAME --group G -o PATH
// --follow` does: the folder gets the newest version, then each newer one
// the group shares under the name; a file changed here is kept and named;
// Stop following ends it, the files staying.
func TestBrowserFollowAShare(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ctx := newBrowser(t)
	d := startDaemon(t, func(c *node.Config) {
		c.Groups.WatchInterval = node.Duration(300 * time.Millisecond)
	})
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "Docs")
	write := func(dir, name, body string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	share := func() {
		t.Helper()
		res, err := d.c.AddPath(ctx, src, true, api.AddOptions{Private: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.c.GroupShare(ctx, "family", res.Cid, api.ShareOptions{Copies: 1}); err != nil {
			t.Fatal(err)
		}
	}
	write(src, "plan.txt", "first plan\n")
	write(src, "notes.txt", "notes\n")
	share()

	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/groups/family"),
		chromedp.WaitVisible("#mirror-form", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("open the group's page: %v", err)
	}
	solo := filepath.Join(t.TempDir(), "solo.txt")
	if err := os.WriteFile(solo, []byte("one file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	soloRes, err := d.c.AddPath(ctx, solo, false, api.AddOptions{Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.GroupShare(ctx, "family", soloRes.Cid, api.ShareOptions{Copies: 1}); err != nil {
		t.Fatal(err)
	}
	follow := func(name, path string) {
		t.Helper()
		waitText(t, sctx, "#mirror-name", name)
		err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#mirror-name').value = %q;
  document.querySelector('#mirror-path').value = %q;
  document.querySelector('#mirror-form').requestSubmit();
})()`, name, path), nil))
		if err != nil {
			t.Fatal(err)
		}
	}
	// A file is not followed, nor written to be refused after.
	follow("solo.txt", "~/solo here")
	waitText(t, sctx, "#mirror-status", "solo.txt is a file, not a folder: only a folder is followed (get it from Files).")
	if _, err := os.Lstat(filepath.Join(home, "solo here")); !os.IsNotExist(err) {
		t.Errorf("the file was written: %v", err)
	}
	follow("Docs", "~/Docs here")
	out := filepath.Join(home, "Docs here")
	waitText(t, sctx, "#mirror-status", "Wrote Docs into "+out+", 17 B: it follows each newer version family shares.")
	li := fmt.Sprintf(`#mirrors li[data-path=%q]`, out)
	waitText(t, sctx, li, "Docs, written just now")
	if b, err := os.ReadFile(filepath.Join(out, "plan.txt")); err != nil || string(b) != "first plan\n" {
		t.Fatalf("plan.txt written = %q, %v", b, err)
	}

	// A newer version reaches the folder; the file changed here is kept.
	write(out, "notes.txt", "my notes, changed here\n")
	write(src, "plan.txt", "second plan\n")
	write(src, "notes.txt", "the group's notes\n")
	share()
	waitText(t, sctx, li+" .kept", "Changed here, kept as they are (delete one to have the group's again): notes.txt")
	if b, _ := os.ReadFile(filepath.Join(out, "plan.txt")); string(b) != "second plan\n" {
		t.Errorf("plan.txt after the newer version = %q", b)
	}
	// What the update changed is listed (kith mirror changes).
	waitText(t, sctx, li+` details.recent summary`, "Recent changes (1)")
	waitText(t, sctx, li+` details.recent li[data-what="written"]`, "Written plan.txt · by this device · just now")
	if b, _ := os.ReadFile(filepath.Join(out, "notes.txt")); string(b) != "my notes, changed here\n" {
		t.Errorf("notes.txt, changed here, = %q", b)
	}
	if err := chromedp.Run(sctx, chromedp.Evaluate(`document.querySelectorAll('details.recent').forEach((d) => { d.open = true; })`, nil)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, artifacts(t), "group-follow-share")

	// A copy already here follows as it is (kith mirror add): what differs
	// from the group's is kept, what it lacks written.
	had := filepath.Join(home, "Docs I had")
	write(had, "notes.txt", "an old copy\n")
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#mirror-name').value = 'Docs';
  document.querySelector('#mirror-path').value = %q;
  document.querySelector('#mirror-had').checked = true;
  document.querySelector('#mirror-form').requestSubmit();
})()`, had), nil)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", had+" follows Docs: its newest version is being written in; files there that differ from the group's are kept.")
	waitText(t, sctx, fmt.Sprintf(`#mirrors li[data-path=%q] .kept`, had), "notes.txt")
	if b, _ := os.ReadFile(filepath.Join(had, "plan.txt")); string(b) != "second plan\n" {
		t.Errorf("plan.txt in the copy already here = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(had, "notes.txt")); string(b) != "an old copy\n" {
		t.Errorf("notes.txt in the copy already here = %q", b)
	}
	// Once confirmed, the group's version is written over what differs.
	hadLi := fmt.Sprintf(`#mirrors li[data-path=%q]`, had)
	if err := chromedp.Run(sctx, chromedp.Evaluate(`window.confirm = () => true`, nil), clickJS(hadLi+` [data-action="revert"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", "Writing family's Docs over what was changed in "+had+"…")
	if err := chromedp.Run(sctx, chromedp.WaitNotPresent(hadLi+" .kept", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(had, "notes.txt")); string(b) != "the group's notes\n" {
		t.Errorf("notes.txt after the revert = %q", b)
	}

	// Part of it left out (kith get --follow --exclude): never written.
	light := filepath.Join(home, "Docs light")
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#mirror-name').value = 'Docs';
  document.querySelector('#mirror-path').value = %q;
  document.querySelector('#mirror-had').checked = false;
  document.querySelector('#mirror-exclude').value = 'notes.txt, *.tmp';
  document.querySelector('#mirror-form').requestSubmit();
})()`, light), nil)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", "Wrote Docs into "+light+", 12 B: it follows each newer version family shares.")
	waitText(t, sctx, fmt.Sprintf(`#mirrors li[data-path=%q] .exclude`, light), "Leaves out notes.txt, *.tmp")
	if _, err := os.Stat(filepath.Join(light, "notes.txt")); !os.IsNotExist(err) {
		t.Errorf("notes.txt, left out, was written: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(light, "plan.txt")); string(b) != "second plan\n" {
		t.Errorf("plan.txt in the folder that leaves notes out = %q", b)
	}
	// Nothing left out any more, from the folder's own row.
	lightLi := fmt.Sprintf(`#mirrors li[data-path=%q]`, light)
	if err := chromedp.Run(sctx, chromedp.Evaluate(`(() => {
  const li = document.querySelector(`+fmt.Sprintf("%q", lightLi)+`);
  li.querySelector('details.leave-out').open = true;
  li.querySelector('.leave-out-form input').value = '';
  li.querySelector('.leave-out-form').requestSubmit();
})()`, nil)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", light+" now leaves out nothing: what it left out is written in.")
	if err := chromedp.Run(sctx, chromedp.WaitNotPresent(lightLi+" .exclude", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitFileHolds(t, filepath.Join(light, "notes.txt"), "the group's notes\n", "notes.txt, no longer left out, written in")
	if _, err := d.c.GroupUnmirror(ctx, light); err != nil {
		t.Fatal(err)
	}

	// Synced both ways (kith get --sync): nothing can be left out; what
	// changes in it becomes the group's newest, which the folder that
	// follows gets.
	synced := filepath.Join(home, "Docs synced")
	syncIt := func(exclude string) {
		t.Helper()
		if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#mirror-name').value = 'Docs';
  document.querySelector('#mirror-path').value = %q;
  document.querySelector('#mirror-exclude').value = %q;
  document.querySelector('#mirror-sync').checked = true;
  document.querySelector('#mirror-form').requestSubmit();
})()`, synced, exclude), nil)); err != nil {
			t.Fatal(err)
		}
	}
	syncIt("*.tmp")
	waitText(t, sctx, "#mirror-status", "A folder that syncs both ways leaves nothing out")
	syncIt("")
	waitText(t, sctx, "#mirror-status", "Wrote Docs into "+synced+", 30 B: it syncs both ways with family.")
	waitText(t, sctx, fmt.Sprintf(`#mirrors li[data-path=%q] .sync`, synced), "Syncs both ways: what changes there is shared too.")
	write(synced, "plan.txt", "third plan, from the synced folder\n")
	waitFileHolds(t, filepath.Join(out, "plan.txt"), "third plan, from the synced folder\n", "the synced folder's change in the folder that follows")
	// Paused from its row: both ways stop (the daemon's own tests show
	// nothing moves meanwhile), and Resume catches up at once.
	syncedLi := fmt.Sprintf(`#mirrors li[data-path=%q]`, synced)
	if err := chromedp.Run(sctx, clickJS(syncedLi+` [data-action="pause"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", synced+" is paused until you resume it.")
	waitText(t, sctx, syncedLi+" .paused", "Paused: what changes there is not shared, nor are newer versions written in, until you resume it.")
	// The same folder in the list of folders shared as they change.
	waitText(t, sctx, fmt.Sprintf(`#followed li[data-path=%q] .paused`, synced), "Paused: what changes there is not shared, nor are newer versions written in, until you resume it.")
	screenshot(t, ctx, artifacts(t), "group-folder-paused")
	if ws, err := d.c.GroupWatches(ctx); err != nil || !slices.ContainsFunc(ws, func(w api.GroupWatch) bool { return w.Path == synced && w.Paused }) {
		t.Fatalf("paused from the page, the synced folder's watch: %+v, %v", ws, err)
	}
	write(synced, "plan.txt", "fourth plan, written while paused\n")
	if err := chromedp.Run(sctx, clickJS(syncedLi+` [data-action="resume"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", synced+" is resumed: it catches up now.")
	if err := chromedp.Run(sctx, chromedp.WaitNotPresent(syncedLi+" .paused", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitFileHolds(t, filepath.Join(out, "plan.txt"), "fourth plan, written while paused\n", "the change made while paused, once resumed, in the folder that follows")
	if _, err := d.c.GroupUnmirror(ctx, synced); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Run(sctx, clickJS(li+` [data-action="unmirror"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#mirror-status", out+" no longer follows Docs: its files stay as they are.")
	if ms, err := d.c.GroupMirrors(ctx); err != nil || len(ms) != 1 || ms[0].Path != had {
		t.Errorf("after Stop following: %+v, %v; want the copy already here only", ms, err)
	}
	if _, err := os.Stat(filepath.Join(out, "plan.txt")); err != nil {
		t.Errorf("the files went: %v", err)
	}

	// The Overview lists the last changes of every folder, newest first:
	// in the copy already here, the synced folder's last plan, and before
	// it the revert's notes.
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/")); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, `#recent li[data-what="written"]`, "Written plan.txt in Docs I had · by this device · ")
	var newest []string
	if err := chromedp.Run(sctx, chromedp.Evaluate(`[...document.querySelectorAll('#recent li')].map((li) => li.textContent)`, &newest)); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(newest, func(s string) bool { return strings.HasPrefix(s, "Written notes.txt in Docs I had · by this device") }) {
		t.Errorf("the Overview's recent changes: %q, want the revert's among them", newest)
	}
	screenshot(t, ctx, artifacts(t), "overview-recent-changes")

	// Leaving the group would stop the folder that still follows it: the
	// question names it.
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/groups/family"), chromedp.WaitVisible("#leave-group", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, clickJS("#leave-group")); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, ".leave p.warning", "This folder stops following it, and stays as it is: "+had+".")
}

// waitFileHolds waits (a minute at most) until the file at path holds
// want: what, written by the daemon in the background.
func waitFileHolds(t *testing.T, path, want, what string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := os.ReadFile(path)
		if err == nil && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s holds %q (%v), want %q", what, path, b, err, want)
		}
		time.Sleep(20 * time.Millisecond) // polling pace: the daemon writes it
	}
}
