package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserShareBetweenDaemons is the UI's main path: add a file on one
// daemon through the file input, see it listed with the right CID, get it
// on a second daemon from its CID (reloading the page mid-transfer), then
// download it and compare the bytes. It saves a screenshot of every page.
func TestBrowserShareBetweenDaemons(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	// The sender serves at 16 MiB/s so the 64 MiB transfer lasts long
	// enough to reload the page in the middle of it.
	a := startDaemon(t, func(c *node.Config) { c.Fetch.UploadLimit = 16 << 20 })
	b := startDaemon(t, nil)
	id := b.connectTo(t, ctx, a)

	data := make([]byte, 64<<20)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "big file.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := expectedCID(t, data)

	// Daemon A: sign in, add through the file input, see it in Files.
	a.login(t, ctx)
	waitText(t, ctx, "#stat-peers", "1")
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#peer-id", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "overview")
	var got string
	err := chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/add"),
		chromedp.WaitVisible("#dropzone", chromedp.ByQuery),
		chromedp.SetUploadFiles("#file-input", []string{src}, chromedp.ByQuery),
		chromedp.WaitVisible(`li.upload[data-state="done"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`li.upload[data-state="done"]`, "data-cid", &got, nil, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("add through the file input: %v", err)
	}
	if got != want {
		t.Fatalf("the UI added CID %s, want %s", got, want)
	}
	screenshot(t, ctx, shots, "add")
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/files"),
		chromedp.WaitVisible(fmt.Sprintf(`#pins tr[data-cid="%s"]`, want), chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("files page: %v", err)
	}
	waitText(t, ctx, fmt.Sprintf(`#pins tr[data-cid="%s"] td.name`, want), "big file.bin")
	screenshot(t, ctx, shots, "files")

	// Daemon B, in another tab of the same browser: paste the CID.
	tab := newTab(t, ctx)
	b.login(t, tab)
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, want)
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SendKeys("#get-cid", want, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(job, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const p = document.querySelector('%s progress'); return p && p.value > 5; })()`, job), nil,
			chromedp.WithPollingTimeout(time.Minute)),
	)
	if err != nil {
		t.Fatalf("start the get: %v", err)
	}
	screenshot(t, tab, shots, "get")
	var state string
	err = chromedp.Run(tab,
		chromedp.Reload(),
		chromedp.WaitVisible(job, chromedp.ByQuery),
		chromedp.AttributeValue(job, "data-state", &state, nil, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("reload during the get: %v", err)
	}
	t.Logf("after reloading, the transfer is shown as %q", state)
	if state != api.JobRunning && state != api.JobDone {
		t.Fatalf("after reloading, the transfer is %q", state)
	}
	err = chromedp.Run(tab,
		chromedp.WaitVisible(job+`[data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("wait for the get to finish: %v", err)
	}
	waitText(t, tab, job+" .detail", "Fetched and pinned")

	// Download it through the UI's link and compare the bytes.
	dl := downloadByClick(t, tab, job+` [data-action="download"]`, len(data))
	if !bytes.Equal(dl, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d added", len(dl), len(data))
	}

	// Peers: the sender is listed, directly connected, with the bytes it
	// sent us (at least the 64 MiB).
	var peerID, conn, received string
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/peers"),
		chromedp.WaitVisible("#peers tbody tr", chromedp.ByQuery),
		chromedp.AttributeValue("#peers tbody tr td:nth-child(1) code", "title", &peerID, nil, chromedp.ByQuery),
		chromedp.Text("#peers tbody tr td:nth-child(2)", &conn, chromedp.ByQuery),
		chromedp.Text("#peers tbody tr td:nth-child(5)", &received, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("peers page: %v", err)
	}
	if peerID != id.PeerID || !strings.Contains(conn, "Direct") || !(strings.Contains(conn, "TCP") || strings.Contains(conn, "QUIC")) ||
		!(strings.HasSuffix(received, "MiB") || strings.HasSuffix(received, "MB")) {
		t.Fatalf("peers page shows %q %q received %q, want %s, direct over TCP or QUIC, megabytes received", peerID, conn, received, id.PeerID)
	}
	screenshot(t, tab, shots, "peers")
	// The receiver's overview: its own peer ID, its chart showing the transfer.
	bid, err := b.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var shown string
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/overview"),
		chromedp.WaitVisible("#peer-id", chromedp.ByQuery),
		chromedp.Text("#peer-id", &shown, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("overview page: %v", err)
	}
	if !strings.Contains(shown, bid.PeerID) {
		t.Fatalf("overview shows peer ID %q, want %s", shown, bid.PeerID)
	}
	screenshot(t, tab, shots, "overview-after-transfer")
	// A page opened after the transfer, once the rate has fallen, still
	// charts it: the daemon sends its last two minutes when the page
	// connects.
	for end := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st, err := b.n.Stats(ctx)
		if err == nil && st.RateIn < 16<<10 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the receive rate never fell below 16 KiB/s: %+v, %v", st, err)
		}
	}
	fresh := newTab(t, ctx)
	b.login(t, fresh)
	if err := chromedp.Run(fresh, chromedp.Navigate(b.base()+"/#/overview"), chromedp.WaitVisible("canvas.chart", chromedp.ByQuery)); err != nil {
		t.Fatalf("a fresh overview: %v", err)
	}
	charted := false
	for end := time.Now().Add(20 * time.Second); !charted && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		err := chromedp.Run(fresh, chromedp.Evaluate(`import('/ui/js/live.js').then((m) => m.state.history.some((s) => s.rate_in > 65536))`, &charted,
			func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) }))
		if err != nil {
			t.Fatalf("read the chart's samples: %v", err)
		}
	}
	if !charted {
		t.Fatal("a page opened after the transfer does not chart it")
	}
	res, err := a.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("Shared notes\n\nkith previews text files in a sandboxed frame.\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/open/"+res.Cid+"?name=notes.txt"),
		chromedp.WaitVisible("#preview iframe", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("preview page: %v", err)
	}
	screenshot(t, ctx, shots, "preview")
}

// expectedCID is the CID kith gives data, computed apart from the daemon.
func expectedCID(t *testing.T, data []byte) string {
	t.Helper()
	res, err := dag.NewImporter(blockstore.NewMemStore()).Add(context.Background(), files.NewBytesFile(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Root.String()
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q); })()`, sel, want)
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		var text string
		_ = chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel), &text))
		t.Fatalf("%s never showed %q (it shows %q): %v", sel, want, strings.TrimSpace(text), err)
	}
}

// downloadByClick clicks a download link and returns the saved file once
// it has size bytes.
func downloadByClick(t *testing.T, ctx context.Context, sel string, size int) []byte {
	t.Helper()
	dir := t.TempDir()
	err := chromedp.Run(ctx,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dir),
		chromedp.Click(sel, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	// Chromium writes NAME.crdownload and renames it when complete.
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err == nil && !strings.HasSuffix(e.Name(), ".crdownload") && info.Size() == int64(size) {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("downloaded %s", e.Name())
				return b
			}
		}
		<-tick.C
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("the download never completed; the download folder holds %v", entries)
	return nil
}
