package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserTicketBetweenDaemons: a file added on one daemon's Add page
// comes with a ticket; the Files page's Share shows the same kind of
// ticket, which Copy puts on the clipboard; a second daemon, connected to
// nothing, gets the file from that ticket alone through its Get page. A
// damaged ticket shows the daemon's error.
func TestBrowserTicketBetweenDaemons(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a := startDaemon(t, nil)
	b := startDaemon(t, nil)
	if err := chromedp.Run(ctx, browser.GrantPermissions([]browser.PermissionType{
		browser.PermissionTypeClipboardReadWrite, browser.PermissionTypeClipboardSanitizedWrite,
	}).WithOrigin(a.base())); err != nil {
		t.Fatal(err)
	}

	data := make([]byte, 3<<20)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "holiday.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := expectedCID(t, data)

	// A: add through the Add page, which shows the add's ticket. The
	// local profile's daemons have loopback addresses only, so the page
	// says the ticket works only nearby.
	a.login(t, ctx)
	done := `li.upload[data-state="done"]`
	var added string
	err := chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.SetUploadFiles("#file-input", []string{src}, chromedp.ByQuery),
		chromedp.WaitVisible(done+" input.ticket", chromedp.ByQuery),
		chromedp.Value(done+" input.ticket", &added, chromedp.ByQuery),
		chromedp.WaitVisible(done+" .unreachable", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("add page: %v", err)
	}
	if !strings.HasPrefix(added, "kith1") {
		t.Fatalf("the Add page shows ticket %q, want one starting kith1", added)
	}
	screenshot(t, ctx, shots, "add-ticket")

	// A's Files page: Share shows the pin's ticket, Copy puts it on the clipboard.
	row := fmt.Sprintf(`#pins tr[data-cid="%s"]`, want)
	box := fmt.Sprintf(`tr.ticket-row[data-ticket-for="%s"]`, want)
	var ticket, expanded, clip string
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/files"),
		chromedp.WaitVisible(row+` [data-action="share"]`, chromedp.ByQuery),
		chromedp.Click(row+` [data-action="share"]`, chromedp.ByQuery),
		chromedp.WaitVisible(box+" input.ticket", chromedp.ByQuery),
		chromedp.Value(box+" input.ticket", &ticket, chromedp.ByQuery),
		chromedp.AttributeValue(row+` [data-action="share"]`, "aria-expanded", &expanded, nil, chromedp.ByQuery),
		chromedp.WaitVisible(box+" .unreachable", chromedp.ByQuery),
		chromedp.Click(box+" button", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("share on the Files page: %v", err)
	}
	if !strings.HasPrefix(ticket, "kith1") || expanded != "true" {
		t.Fatalf("Share shows ticket %q (aria-expanded %q), want one starting kith1", ticket, expanded)
	}
	waitText(t, ctx, box+" button", "Copied")
	if err := chromedp.Run(ctx, chromedp.Evaluate(`navigator.clipboard.readText()`, &clip, awaitPromise)); err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if clip != ticket {
		t.Fatalf("the clipboard holds %q, want the ticket %q", clip, ticket)
	}
	waitText(t, ctx, box+" .unreachable", "only works on your network")
	// Where the clipboard refuses, Copy selects the ticket in its field.
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`navigator.clipboard.writeText = () => Promise.reject(new Error('refused'))`, nil),
		chromedp.Click(box+" button", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const f = document.querySelector(%q);
			return document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length; })()`, box+" input.ticket"),
			nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("copy without a clipboard does not select the ticket: %v", err)
	}
	screenshot(t, ctx, shots, "files-ticket")

	// B knows nothing of A but the ticket.
	if ps, err := b.c.Peers(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("B is already connected: %+v, %v", ps, err)
	}
	tab := newTab(t, ctx)
	b.login(t, tab)
	var label, placeholder string
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, want)
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.Text(`label[for="get-cid"]`, &label, chromedp.ByQuery),
		chromedp.AttributeValue("#get-cid", "placeholder", &placeholder, nil, chromedp.ByQuery),
		chromedp.SetValue("#get-cid", ticket, chromedp.ByQuery),
		chromedp.SetValue("#get-name", "holiday.bin", chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(job, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("get by ticket: %v", err)
	}
	if label != "CID, ticket, code or name" || !strings.Contains(placeholder, "kith1") {
		t.Errorf("the Get field is labelled %q with placeholder %q", label, placeholder)
	}
	if err := chromedp.Run(tab, chromedp.WaitVisible(job+`[data-state="done"]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("wait for the get by ticket to finish: %v", err)
	}
	waitText(t, tab, job+" .detail", "Fetched and pinned")
	if got := catAll(t, b, want); !bytes.Equal(got, data) {
		t.Fatalf("B holds %d bytes that differ from the %d added on A", len(got), len(data))
	}
	screenshot(t, tab, shots, "get-ticket")

	// A damaged ticket: the daemon's sentence, as it comes.
	waitNoText(t, tab, "#get-status")
	err = chromedp.Run(tab,
		chromedp.SetValue("#get-cid", ticket[:len(ticket)-8], chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#get-status.error", "the ticket is damaged: was it copied whole?")
	screenshot(t, tab, shots, "get-damaged-ticket")
	// What is neither is caught before it goes to the daemon (a path
	// such as /ipfs/CID/a is a CID: TestBrowserGetAPath).
	err = chromedp.Run(tab,
		chromedp.SetValue("#get-cid", "https://example.org/"+want, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "#get-status.error", "Paste a CID")
}

// catAll reads the content of cid from the daemon.
func catAll(t *testing.T, d *daemon, cid string) []byte {
	t.Helper()
	r, err := d.c.Cat(context.Background(), cid, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitNoText waits until the element is empty.
func waitNoText(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent === ''; })()`, sel)
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("%s never emptied: %v", sel, err)
	}
}
