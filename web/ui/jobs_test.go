package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserPauseResumeAndUploads: a get on B's Get page is paused with
// its Pause button (the daemon says paused, the card says how much is
// here) and finished with Resume; meanwhile A's Get page lists B among
// the peers downloading from it, with the file's name, then as finished.
func TestBrowserPauseResumeAndUploads(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a, b, data, added := slowSource(t, ctx)
	bID, err := b.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A's Get page, in the first tab, shows its uploads.
	a.login(t, ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(a.base()+"/#/get"), chromedp.WaitVisible("#uploads-served", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#uploads-served", "No peer is downloading from you.")

	// B's, in a second tab: get, pause, resume.
	tab := newTab(t, ctx)
	b.login(t, tab)
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, added.Cid)
	err = chromedp.Run(tab,
		getUnderWay(b, added.Cid, job),
		chromedp.Click(job+` [data-action="pause"]`, chromedp.ByQuery),
		chromedp.WaitVisible(job+`[data-state="paused"] [data-action="resume"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("get, then pause: %v", err)
	}
	waitText(t, tab, job+" .detail", "Resume fetches only the rest")
	jobs, err := b.c.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].State != api.JobPaused || jobs[0].Bytes == 0 || jobs[0].Bytes >= int64(len(data)) {
		t.Fatalf("B's jobs after Pause: %+v, %v", jobs, err)
	}
	screenshot(t, tab, shots, "get-paused")

	// A lists B, with the file's name, and the bytes sent so far. (A tab
	// in the background runs no animation frames, which chromedp's waits
	// poll on: each tab is brought to the front before it is looked at.)
	row := fmt.Sprintf(`#uploads-served tr[data-peer="%s"][data-cid="%s"]`, bID.PeerID, added.Cid)
	if err := chromedp.Run(ctx, page.BringToFront(), chromedp.WaitVisible(row, chromedp.ByQuery)); err != nil {
		t.Fatalf("A's uploads never listed B: %v", err)
	}
	waitText(t, ctx, row+" td.content", "big.bin")
	screenshot(t, ctx, shots, "get-uploads")

	err = chromedp.Run(tab,
		page.BringToFront(),
		chromedp.Click(job+` [data-action="resume"]`, chromedp.ByQuery),
		chromedp.WaitVisible(job+`[data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	waitText(t, tab, job+" .detail", "Fetched and pinned")
	if got := catAll(t, b, added.Cid); !bytes.Equal(got, data) {
		t.Fatalf("B holds %d bytes that differ from the %d added on A", len(got), len(data))
	}
	// A's row now counts the whole file (and maybe a block or two sent
	// again: those on their way when the get was paused).
	expr := fmt.Sprintf(`(() => { const el = document.querySelector('%s td.num'); return !!el && / MiB$/.test(el.textContent) && parseFloat(el.textContent) >= 16; })()`, row)
	if err := chromedp.Run(ctx, page.BringToFront(), chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		var text string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#uploads-served').textContent`, &text))
		ups, _ := a.c.Uploads(context.Background())
		t.Fatalf("A's upload to B never showed 16 MiB sent (it shows %q; the API says %+v): %v", text, ups, err)
	}
	// B told A its get finished.
	waitText(t, ctx, row+" td.rate", "Finished")
}

// slowSource starts A, serving at 2 MiB/s (a 16 MiB get lasts long
// enough to act on it), with 16 MiB of random bytes added, and B
// connected to it.
func slowSource(t *testing.T, ctx context.Context) (a, b *daemon, data []byte, added api.AddResult) {
	t.Helper()
	a = startDaemon(t, func(c *node.Config) { c.Fetch.UploadLimit = 2 << 20 })
	b = startDaemon(t, nil)
	b.connectTo(t, ctx, a)
	data = make([]byte, 16<<20)
	rand.Read(data)
	added, err := a.n.Add(ctx, "big.bin", files.NewBytesFile(data), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, data, added
}

// getUnderWay gets c on d's Get page (the tab signed in to d) and waits
// until its card, job, shows more than 5% fetched.
func getUnderWay(d *daemon, c, job string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Navigate(d.base() + "/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SendKeys("#get-cid", c, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const p = document.querySelector('%s progress'); return p && p.value > 5; })()`, job), nil,
			chromedp.WithPollingTimeout(time.Minute)),
	}
}
