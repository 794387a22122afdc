package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserGetWaitsForThePeer: when the only peer a get on the Get page
// fetches from goes away in the middle, the card says it waits for one
// that has the rest, with how much is here, instead of failing.
func TestBrowserGetWaitsForThePeer(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a, b, _, added := slowSource(t, ctx)
	b.login(t, ctx)
	job := fmt.Sprintf(`li.job[data-cid="%s"]`, added.Cid)
	if err := chromedp.Run(ctx, getUnderWay(b, added.Cid, job)); err != nil {
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
