package ui_test

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserGetWaitsForThePeer: when the only peer a get on the Get page
// fetches from goes away in the middle, the card says it waits for one
// that has the rest, with how much is here, instead of failing.
func TestBrowserGetWaitsForThePeer(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a := startDaemon(t, func(c *node.Config) { c.Fetch.UploadLimit = 2 << 20 })
	b := startDaemon(t, nil)
	b.connectTo(t, ctx, a)
	data := make([]byte, 16<<20)
	rand.Read(data)
	added, err := a.n.Add(ctx, "big.bin", files.NewBytesFile(data), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.login(t, ctx)
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, added.Cid)
	err = chromedp.Run(ctx,
		chromedp.Navigate(b.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SendKeys("#get-cid", added.Cid, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const p = document.querySelector('%s progress'); return p && p.value > 5; })()`, job), nil,
			chromedp.WithPollingTimeout(time.Minute)),
	)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if err := a.n.Close(); err != nil { // the only peer that has it goes away
		t.Fatal(err)
	}
	waitText(t, ctx, job, "Waiting for peers")
	waitText(t, ctx, job+" .detail", "No peer that has the rest is reachable now; it goes on when one connects (")
	waitText(t, ctx, job+" .detail", " of 16 MiB here).")
	jobs, err := b.c.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].State != api.JobRunning || jobs[0].Phase != "waiting" || jobs[0].Bytes == 0 {
		t.Fatalf("B's jobs while the peer is away: %+v, %v", jobs, err)
	}
	screenshot(t, ctx, shots, "get-waiting")
}
