package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAddShowsWhoDownloads: what the Add page added says, under its
// ticket, who downloads it from this computer, as kith send does: here a
// peer whose get finished (it says so), with what was sent.
func TestBrowserAddShowsWhoDownloads(t *testing.T) {
	ctx := newBrowser(t)
	a, b := startDaemon(t, nil), startDaemon(t, nil)
	b.connectTo(t, ctx, a)
	bID, err := b.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "notes.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = chromedp.Run(sctx, chromedp.Navigate(a.base()+"/#/add"), chromedp.WaitVisible("#add-path-form", chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`(() => {
  document.querySelector('#add-path').value = %q;
  document.querySelector('#add-path-form').requestSubmit();
})()`, src), nil))
	if err != nil {
		t.Fatal(err)
	}
	c := waitUpload(t, sctx, "notes.bin")
	row := `li.upload[data-name="notes.bin"]`
	var listed int
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll('%s ul.downloaders li').length`, row), &listed)); err != nil || listed != 0 {
		t.Fatalf("%d downloaders listed before any get (%v)", listed, err)
	}

	out := filepath.Join(t.TempDir(), "notes.bin")
	if _, err := b.n.Get(ctx, c, out, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B's get wrote %d bytes (%v), want the %d added", len(got), err, len(data))
	}
	sel := fmt.Sprintf(`%s ul.downloaders li[data-peer=%q][data-finished="true"]`, row, bID.PeerID)
	// (The list is drawn again every second: polled in the page, not
	// waited on by node, which a redraw replaces.)
	waitText(t, sctx, sel, "has it all: its download finished (3.0 MiB sent from here)")
}
