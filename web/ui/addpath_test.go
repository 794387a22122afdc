package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserAddByPath adds a folder from the Add page by its path on this
// computer, as `kith add -r PATH` does (the daemon reads it; a leading ~ is
// the daemon user's home): the row shows the same CID the CLI's add gives
// and pins it under the folder's name. A path that is not absolute is
// refused before anything is sent, one the daemon cannot find fails its row
// with the daemon's sentence. Private keeps an add out of the DHT, and the
// Files page says so; its Share panel makes a pin private. Leave the bytes
// in the files (as kith add --nocopy) adds without a copy in the repo.
func TestBrowserAddByPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	dir := filepath.Join(home, "Videos", "trip")
	if err := os.MkdirAll(filepath.Join(dir, "day 1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"day 1/clip.txt": "waves\n", "notes.txt": "to cut\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	submit := func(t *testing.T, path string) {
		t.Helper()
		err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#add-path').value = %q;
  document.querySelector('#add-path-form').requestSubmit();
})()`, path), nil))
		if err != nil {
			t.Fatalf("submit %q: %v", path, err)
		}
	}
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/add"), chromedp.WaitVisible("#add-path-form", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, sctx, "#add-path", "placeholder", home+"/Videos or ~/Videos")

	submit(t, "Videos/trip")
	waitText(t, sctx, "#add-path-status", "Give the full path, such as "+home+"/Videos, or ~/Videos.")
	var rows int
	if err := chromedp.Run(sctx, chromedp.Evaluate(`document.querySelectorAll('li.upload').length`, &rows)); err != nil || rows != 0 {
		t.Fatalf("a relative path made %d rows (%v)", rows, err)
	}

	// A socket in the folder (a screen cast's) is left out, and named.
	sock := filepath.Join(dir, "cast.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	submit(t, "~/Videos/trip")
	got := waitUpload(t, sctx, "trip")
	waitText(t, sctx, `li.upload[data-name="trip"] .status`, "Left out a special file (sockets, named pipes and devices hold no content): "+sock+" (socket).")
	want, err := d.c.AddPath(ctx, dir, true, api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != want.Cid {
		t.Errorf("the page added %s, the CLI's add gives %s", got, want.Cid)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil || len(pins) != 1 || pins[0].Cid != want.Cid || pins[0].Name != "trip" || pins[0].Private {
		t.Errorf("pins after the add: %+v (%v), want trip, announced", pins, err)
	}

	// Private, as kith add --private: not announced in the DHT.
	secret := filepath.Join(home, "Videos", "secret")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "plan.txt"), []byte("surprise\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, chromedp.Click("#add-private", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	submit(t, "~/Videos/secret")
	private := waitUpload(t, sctx, "secret")
	if pins, err = d.c.Pins(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if (p.Cid == private) != p.Private {
			t.Errorf("pin %s (%s): private = %v, want %v", p.Name, p.Cid, p.Private, p.Cid == private)
		}
	}

	submit(t, filepath.Join(home, "Videos", "gone"))
	sel := `li.upload[data-name="gone"]`
	ended := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.dataset.state === 'failed'; })()`, sel)
	if err := chromedp.Run(sctx, chromedp.Poll(ended, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the add of a missing path did not fail: %v", err)
	}
	waitText(t, sctx, sel+" .status", "the daemon finds no such file or folder")

	// The Files page says which is private.
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/files")); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, fmt.Sprintf(`tr[data-cid=%q] td.name .private`, private), "private")
	var marked int
	if err := chromedp.Run(sctx, chromedp.Evaluate(`document.querySelectorAll('td.name .private').length`, &marked)); err != nil || marked != 1 {
		t.Errorf("%d pins marked private on the Files page (%v), want 1", marked, err)
	}
	// Share says the other is announced, and makes it private (as kith
	// pin add --private).
	row := fmt.Sprintf(`tr[data-cid=%q]`, want.Cid)
	if err := chromedp.Run(sctx, clickJS(row+` [data-action="share"]`)); err != nil {
		t.Fatal(err)
	}
	box := fmt.Sprintf(`tr[data-ticket-for=%q] p.privacy`, want.Cid)
	waitText(t, sctx, box, "Announced in the public DHT")
	if err := chromedp.Run(sctx, clickJS(box+` [data-action="privacy"]`)); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, sctx, box, "data-private", "true")
	screenshot(t, ctx, artifacts(t), "files-share-private")
	waitText(t, sctx, row+" td.name .private", "private")
	if pins, err = d.c.Pins(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if !p.Private {
			t.Errorf("after Make it private, pin %s is announced", p.Name)
		}
	}

	// Leave the bytes in the files, as kith add --nocopy: the repo keeps
	// where the large file's bytes are, not a copy (600,000 B: leaves of
	// 256, 256 and 74 KiB, each at least blockstore.FileRefMin).
	film := filepath.Join(home, "Videos", "film")
	if err := os.MkdirAll(film, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(film, "cut.mp4"), bytes.Repeat([]byte("frame "), 100_000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/add"), chromedp.WaitVisible("#add-path-form", chromedp.ByQuery), chromedp.Click("#add-nocopy", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	before, err := d.c.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, "~/Videos/film")
	waitUpload(t, sctx, "film")
	waitText(t, sctx, `li.upload[data-name="film"] .status`, "Its large files are read where they are")
	after, err := d.c.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.InFiles != 600_000 || after.InFilesCount != 1 || after.Bytes-before.Bytes >= 65536 {
		t.Errorf("after an add that leaves the bytes in the files: %d B in %d files, the repo grew by %d B; want 600000 B in 1 file and no copy",
			after.InFiles, after.InFilesCount, after.Bytes-before.Bytes)
	}
}

// TestBrowserAddPathSkipUnreadable: the Add page's "Leave out the files
// ... the daemon may not read" asks the add to (as kith add
// --skip-unreadable), and the row names what it left out. (The daemon of
// these tests runs as root, which every file lets read: the row's
// sentence is checked on a result that names two, as the daemon words
// them; cmd/kith's TestAddSkipUnreadable has a daemon that may not read.)
func TestBrowserAddPathSkipUnreadable(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	if err := os.MkdirAll(filepath.Join(home, "Notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "Notes", "n.txt"), []byte("n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Run(sctx, chromedp.Navigate(d.base()+"/#/add"), chromedp.WaitVisible("#add-path-form", chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
  window.addURLs = [];
  const f = window.fetch;
  window.fetch = (u, o) => { if (String(u).includes('/add?')) window.addURLs.push(String(u)); return f(u, o); };
})()`, nil),
		chromedp.Click("#add-skip-unreadable", chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
  document.querySelector('#add-path').value = '~/Notes';
  document.querySelector('#add-path-form').requestSubmit();
})()`, nil))
	if err != nil {
		t.Fatal(err)
	}
	waitUpload(t, sctx, "Notes")
	var urls []string
	if err := chromedp.Run(sctx, chromedp.Evaluate(`window.addURLs`, &urls)); err != nil {
		t.Fatal(err)
	}
	if len(urls) != 1 || !strings.Contains(urls[0], "skip_unreadable=true") {
		t.Errorf("the add asked %v, want skip_unreadable=true", urls)
	}

	var said string
	res := `{unreadable_count: 2, unreadable: [{path: 'lost+found', reason: 'permission denied'}, {path: 'sub/secret.txt', reason: 'permission denied'}]}`
	if err := chromedp.Run(sctx, chromedp.Evaluate(`import('/ui/js/upload.js').then((m) => m.unreadableSentence(`+res+`))`, &said, awaitPromise)); err != nil {
		t.Fatal(err)
	}
	if want := " Left out 2 files or folders the daemon may not read: lost+found (permission denied), sub/secret.txt (permission denied)."; said != want {
		t.Errorf("the row says %q, want %q", said, want)
	}
}
