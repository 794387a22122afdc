package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserFolderPicker adds a folder tree through the Add page's folder
// picker (<input webkitdirectory>) and checks the daemon stored it with the
// CID `kith add -r` gives the same tree, and that Files lists it.
func TestBrowserFolderPicker(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	// A folder picker hands the page files only, never an empty folder
	// (browsers do the same with a real chooser), so this tree has none.
	src := writeTree(t, "album", 0)
	want := expectedTreeCID(t, src)
	// Each file its own time, with milliseconds (what a browser tells).
	times := map[string]time.Time{}
	i := 0
	for rel := range treeFiles {
		i++
		times[rel] = time.Date(2021, 1, i, 2, 3, 4, i*1_000_000, time.UTC)
		if err := os.Chtimes(filepath.Join(src, filepath.FromSlash(rel)), times[rel], times[rel]); err != nil {
			t.Fatal(err)
		}
	}
	d.login(t, ctx)

	err := chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		// For an input with webkitdirectory, Chromium takes the folder's
		// own path and lists it the way its folder chooser would, with
		// webkitRelativePath set on every file.
		chromedp.SetUploadFiles("#dir-input", []string{src}, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("choose %s in the folder picker: %v", src, err)
	}
	if got := waitUpload(t, ctx, "album"); got != want {
		t.Fatalf("the UI added the folder as %s, want %s (kith add -r)", got, want)
	}
	waitText(t, ctx, `li.upload[data-name="album"] .row`, fmt.Sprintf("%d files", len(treeFiles)))
	// The upload carried each file's time: a group's share of it (by its
	// CID, as the UI's share of a pin) gives the files their times on the
	// other devices.
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	in, err := d.c.GroupShare(ctx, "family", want, api.ShareOptions{Copies: 1})
	if err != nil || in.Meta == "" {
		t.Fatalf("share of the upload: %+v, %v: no modes and times", in, err)
	}
	r, err := d.c.Cat(ctx, in.Meta, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := mirror.DecodeMeta(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	for rel, at := range times {
		if em := m[rel]; em.Mode != 0o644 || em.Mtime != at.UnixNano() {
			t.Errorf("%s uploaded with %o, %v; want 0644, %v", rel, em.Mode, time.Unix(0, em.Mtime).UTC(), at)
		}
	}
	row := fmt.Sprintf(`#pins tr[data-cid="%s"]`, want)
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/files"),
		chromedp.WaitVisible(row, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("files page: %v", err)
	}
	waitText(t, ctx, row+" td.name", "album")
}

// TestBrowserFolderDrop drops a folder (with an empty subfolder and one
// folder of more entries than Chromium hands out per readEntries batch)
// and a loose file on the Add page's drop zone in one drag, through
// DevTools' Input.dispatchDragEvent, which goes through the browser's real
// drop path: the page gets FileSystemEntry objects for the folder. Each
// dropped item must be added on its own with the CID `kith add` gives it.
func TestBrowserFolderDrop(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	src := writeTree(t, "holiday", 150)
	if err := os.Mkdir(filepath.Join(src, "nothing-here"), 0o755); err != nil {
		t.Fatal(err)
	}
	wantDir := expectedTreeCID(t, src)
	loose := filepath.Join(t.TempDir(), "loose.txt")
	if err := os.WriteFile(loose, []byte("dropped next to the folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantFile := expectedTreeCID(t, loose)
	d.login(t, ctx)

	var at []float64
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const r = document.querySelector('#dropzone').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, &at),
	)
	if err != nil {
		t.Fatalf("find the drop zone: %v", err)
	}
	drag := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{src, loose}, DragOperationsMask: 1} // 1: copy
	for _, typ := range []input.DispatchDragEventType{input.DragEnter, input.DragOver, input.Drop} {
		if err := chromedp.Run(ctx, input.DispatchDragEvent(typ, at[0], at[1], drag)); err != nil {
			t.Fatalf("dispatch %s on the drop zone: %v", typ, err)
		}
	}
	if got := waitUpload(t, ctx, "holiday"); got != wantDir {
		t.Errorf("the UI added the dropped folder as %s, want %s (kith add -r)", got, wantDir)
	}
	if got := waitUpload(t, ctx, "loose.txt"); got != wantFile {
		t.Errorf("the UI added the dropped file as %s, want %s", got, wantFile)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pinned := map[string]string{}
	for _, p := range pins {
		pinned[p.Cid] = p.Name
	}
	if pinned[wantDir] != "holiday" || pinned[wantFile] != "loose.txt" {
		t.Errorf("pins after the drop: %+v", pins)
	}
}

// waitUpload waits until the Add page's row for name has finished and
// returns the CID it shows; a failed upload fails the test with the
// page's message.
func waitUpload(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	sel := fmt.Sprintf(`li.upload[data-name=%q]`, name)
	ended := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && (el.dataset.state === 'done' || el.dataset.state === 'failed'); })()`, sel)
	var state, cid, text string
	err := chromedp.Run(ctx,
		chromedp.Poll(ended, nil, chromedp.WithPollingTimeout(time.Minute)),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dataset.state`, sel), &state),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dataset.cid || ''`, sel), &cid),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).textContent`, sel), &text),
	)
	if err != nil {
		t.Fatalf("wait for the upload of %s: %v", name, err)
	}
	if state != "done" {
		t.Fatalf("the upload of %s ended %s: %q", name, state, strings.TrimSpace(text))
	}
	return cid
}

// treeFiles is the folder the tests add: nested folders, an empty file and
// a name that needs escaping in a multipart header.
var treeFiles = map[string]string{
	"a.txt":                  "alpha\n",
	"empty.txt":              "",
	"sub/b.txt":              "bravo\n",
	"sub/deep/c.md":          strings.Repeat("c", 5000),
	`sub/odd name "ü" %.txt`: "quoted, percent and non-ASCII\n",
}

// writeTree writes treeFiles under a new folder called name, plus many
// small files in its subfolder many/ when many > 0, and returns its path.
func writeTree(t *testing.T, name string, many int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	all := map[string]string{}
	for rel, body := range treeFiles {
		all[rel] = body
	}
	for i := range many {
		all[fmt.Sprintf("many/%03d.txt", i)] = fmt.Sprintf("file %d\n", i)
	}
	for rel, body := range all {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// expectedTreeCID is the CID `kith add [-r]` gives the file or folder at
// path, computed apart from the daemon with the same importer.
func expectedTreeCID(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	node, err := files.NewSerialFile(path, false, st)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer node.Close()
	res, err := dag.NewImporter(blockstore.NewMemStore()).Add(context.Background(), node, nil)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res.Root.String()
}
