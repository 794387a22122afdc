package ui_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserFilesCatchUpOnConnect: a pin made while the page's event
// stream was not listening yet (the page draws its list before the stream
// connects, and a stream can break) shows once the stream connects, with
// no event for it. The test holds the page's stream request until after
// the pin.
func TestBrowserFilesCatchUpOnConnect(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)

	held := make(chan fetch.RequestID, 8)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case held <- e.RequestID:
			default:
				t.Error("the page asked for its stream more than 8 times")
			}
		}
	})
	err := chromedp.Run(ctx,
		chromedp.Evaluate(`location.hash = '#/files'`, nil),
		chromedp.WaitVisible("main .card.empty", chromedp.ByQuery),
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/api/v1/events"}}),
		chromedp.Reload(), // a new page, whose stream request is held
		chromedp.WaitVisible("main .card.empty", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("open Files with its stream held: %v", err)
	}
	var id fetch.RequestID
	select {
	case id = <-held:
	case <-ctx.Done():
		t.Fatal("the page never asked for its event stream")
	}

	res, err := d.c.Add(ctx, "late.txt", files.NewBytesFile([]byte("pinned while the page was not listening\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Target)
	if err := fetch.ContinueRequest(id).Do(exec); err != nil {
		t.Fatalf("let the stream through: %v", err)
	}
	if err := fetch.Disable().Do(exec); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#live", "Live")
	waitText(t, ctx, fmt.Sprintf(`#pins tr[data-cid="%s"] td.name`, res.Cid), "late.txt")
}

// TestBrowserCoalescedRedraw: redraws asked for while one runs make one
// more run after it, not one each (live.coalesced, which the Files and
// group pages redraw through on events).
func TestBrowserCoalescedRedraw(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)
	var runs []int
	err := chromedp.Run(ctx, chromedp.Evaluate(`import('/ui/js/live.js').then(async (m) => {
		let runs = 0;
		let release = null;
		const redraw = m.coalesced(() => { runs++; return new Promise((r) => { release = r; }); });
		redraw(); redraw(); redraw();
		const during = runs;
		release();
		await new Promise((r) => setTimeout(r, 20));
		const after = runs;
		release();
		await new Promise((r) => setTimeout(r, 20));
		redraw();
		return [during, after, runs];
	})`, &runs, awaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// One run at first; the two calls during it make one more; a call
	// after both ended runs again.
	if want := []int{1, 2, 3}; !slices.Equal(runs, want) {
		t.Fatalf("runs %v, want %v", runs, want)
	}
}
