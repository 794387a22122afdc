package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/protocol/code"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserAddShowsWhoDownloads: what the Add page added offers, beside
// its ticket, a short code (which a friend's get finds this computer by)
// and says who downloads it from this computer, as kith send does: here a
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
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
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

	// Its ticket box offers a short code, which B's get finds A by.
	// Clicked in the page (not at the button's place on the screen, which
	// the list's redraws can move), then waited on with what the row says
	// if it never shows a code (an error the daemon gave, say).
	var code string
	err = chromedp.Run(sctx,
		clickJS(row+` button[data-action="code"]`),
		chromedp.Poll(fmt.Sprintf(`document.querySelector('%s .code-box strong.code')?.textContent || ''`, row), &code,
			chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		var says string
		chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector('%s')?.textContent || '(no row)'`, row), &says))
		t.Fatalf("the Short code button: %v; the row says: %s", err, says)
	}
	ticket, err := b.c.ResolveCode(ctx, code)
	if err != nil {
		t.Fatalf("resolve the page's code %q: %v", code, err)
	}
	if !strings.Contains(ticket, "kith1") {
		t.Fatalf("the code of %s gave %q", c, ticket)
	}
	out := filepath.Join(t.TempDir(), "notes.bin")
	if _, err := b.n.Get(ctx, ticket, out, nil, nil); err != nil {
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

// TestBrowserGetByCode: a code A opened (as kith send does), typed on B's
// Get page with spaces and capitals, finds A among B's peers; the job gets
// A's content. Something that is neither a code, a ticket nor a CID is
// refused on the page.
func TestBrowserGetByCode(t *testing.T) {
	ctx := newBrowser(t)
	a, b := startDaemon(t, nil), startDaemon(t, nil)
	b.connectTo(t, ctx, a)
	data := make([]byte, 1<<20)
	rand.Read(data)
	added, err := a.c.Add(ctx, "notes.bin", files.NewBytesFile(data), int64(len(data)), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	open, closeCode := context.WithCancel(ctx)
	defer closeCode()
	c, _, err := a.c.OpenCode(open, added.Cid)
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
	b.login(t, ctx)
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, added.Cid)
	err = chromedp.Run(ctx,
		chromedp.Navigate(b.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SetValue("#get-cid", "7961 orbit!", chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#get-status", "a code (7961-orbit-canyon-velvet) or a name (/ipns/k51… or /ipns/example.org)")
	// Words of three letters to eight, typed as they come.
	for in, want := range map[string]string{
		"0042 AIR zoo-act":               "0042-air-zoo-act",
		"7961-orbit-canyon-velvet":       "7961-orbit-canyon-velvet",
		" 1234  Absorb  Abstract Wealth": "1234-absorb-abstract-wealth",
	} {
		var got struct {
			Value string `json:"value"`
			Code  bool   `json:"code"`
		}
		if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`import('/ui/js/pages/get.js').then((m) => m.ref(%q))`, in), &got, awaitPromise)); err != nil {
			t.Fatal(err)
		}
		if !got.Code || got.Value != want {
			t.Errorf("the Get page reads %q as %+v, want the code %s", in, got, want)
		}
	}
	err = chromedp.Run(ctx,
		chromedp.SetValue("#get-cid", typed, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(job+`[data-state="done"]`, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("get by the code %q: %v", typed, err)
	}
	if got := catAll(t, b, added.Cid); !bytes.Equal(got, data) {
		t.Fatalf("B holds %d bytes that differ from the %d added on A", len(got), len(data))
	}
}

// TestBrowserFilesCodeClosesWithPanel: a code the Files page's Share
// panel opened is given to a getter that proves it, and is closed once
// the panel is.
func TestBrowserFilesCodeClosesWithPanel(t *testing.T) {
	ctx := newBrowser(t)
	a, b := startDaemon(t, nil), startDaemon(t, nil)
	b.connectTo(t, ctx, a)
	added, err := a.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("notes\n")), 6, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.login(t, ctx)
	row := fmt.Sprintf(`tr[data-cid=%q]`, added.Cid)
	box := fmt.Sprintf(`tr[data-ticket-for=%q] .code-box`, added.Cid)
	var typed string
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/files"),
		chromedp.WaitVisible(row+` [data-action="share"]`, chromedp.ByQuery),
		clickJS(row+` [data-action="share"]`),
		chromedp.WaitVisible(box+` button[data-action="code"]`, chromedp.ByQuery),
		clickJS(box+` button[data-action="code"]`),
		chromedp.WaitVisible(box+` strong.code`, chromedp.ByQuery),
		chromedp.Text(box+` strong.code`, &typed, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("the Share panel's code: %v", err)
	}
	keys, err := code.KeysOf(typed)
	if err != nil {
		t.Fatalf("the panel shows %q: %v", typed, err)
	}
	if tk, err := code.Ask(ctx, b.n.Host(), a.n.Host().ID(), keys); err != nil || !strings.HasPrefix(tk, "kith1") {
		t.Fatalf("asked with the panel's code: %q, %v", tk, err)
	}
	if err := chromedp.Run(ctx, clickJS(row+` [data-action="share"]`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := code.Ask(ctx, b.n.Host(), a.n.Host().ID(), keys)
		if errors.Is(err, code.ErrUnknown) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the code is still open after the panel closed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
