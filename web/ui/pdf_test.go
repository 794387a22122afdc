package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserPDF checks that Chromium's PDF viewer renders a shared PDF
// served by the path gateway with Content-Security-Policy: sandbox, in a
// tab of its own, and inside the Open page, which frames it from the
// subdomain gateway (the PDF's own origin). A damaged PDF must make the
// viewer report a failure, which shows the check can tell the two apart.
func TestBrowserPDF(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	good, err := d.c.Add(ctx, "hello.pdf", files.NewBytesFile(minimalPDF("Hello kith")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := d.c.Add(ctx, "damaged.pdf", files.NewBytesFile([]byte("%PDF-1.4\nthis is not a PDF\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("own tab", func(t *testing.T) {
		tab, closeTab := pdfTab(t, ctx)
		defer closeTab()
		var origin string
		err := chromedp.Run(tab,
			chromedp.Navigate(d.base()+"/ipfs/"+good.Cid+"?filename=hello.pdf"),
			chromedp.Evaluate(`window.origin`, &origin),
		)
		if err != nil {
			t.Fatalf("open the PDF: %v", err)
		}
		// Not an assertion: Chromium gives the document that holds its
		// viewer the gateway's origin whatever the sandbox says (see
		// pathPolicy in web/gateway.go), which is why the UI opens PDFs on
		// the subdomain gateway.
		t.Logf("the PDF's document has origin %q", origin)
		if st := waitPDFViewer(t, ctx); st.State != "success" || st.Pages != 1 {
			t.Fatalf("the PDF viewer shows %+v, want 1 page loaded", st)
		}
		screenshot(t, tab, shots, "pdf-tab")
	})

	t.Run("damaged", func(t *testing.T) {
		tab, closeTab := pdfTab(t, ctx)
		defer closeTab()
		if err := chromedp.Run(tab, chromedp.Navigate(d.base()+"/ipfs/"+bad.Cid+"?filename=damaged.pdf")); err != nil {
			t.Fatalf("open the damaged PDF: %v", err)
		}
		if st := waitPDFViewer(t, ctx); st.State != "failed" {
			t.Fatalf("the PDF viewer shows %+v for a damaged PDF, want failed", st)
		}
	})

	t.Run("open page", func(t *testing.T) {
		d.login(t, ctx)
		var src string
		err := chromedp.Run(ctx,
			chromedp.Navigate(d.base()+"/#/open/"+good.Cid+"?name=hello.pdf"),
			chromedp.WaitVisible("#preview iframe.pdf-frame", chromedp.ByQuery),
			chromedp.AttributeValue("#preview iframe.pdf-frame", "src", &src, nil, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatalf("open page: %v", err)
		}
		if want := "http://" + good.Cid + ".ipfs.localhost:" + port(t, d) + "/"; !strings.HasPrefix(src, want) {
			t.Fatalf("the Open page frames the PDF from %s, want its own origin %s", src, want)
		}
		if st := waitPDFViewer(t, ctx); st.State != "success" || st.Pages != 1 {
			t.Fatalf("the Open page's PDF viewer shows %+v, want 1 page loaded", st)
		}
		screenshot(t, ctx, shots, "preview-pdf")
	})
}

// pdfViewerURL is where Chromium's built-in PDF viewer runs, in a frame
// of its own inside the document that shows a PDF.
const pdfViewerURL = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"

// pdfViewerState reads Chromium's viewer element. loadState_ and
// docLength_ are its own (unexported) fields, so a future Chromium may
// rename them: the test then fails, saying what it saw, rather than
// passing without looking.
const pdfViewerState = `(() => {
  const v = document.querySelector('pdf-viewer');
  if (!v) return {state: 'no viewer element', pages: 0};
  return {state: String(v.loadState_), pages: Number(v.docLength_) || 0};
})()`

// viewerState is what the PDF viewer reports: State is "loading",
// "success" or "failed"; Pages the document's page count.
type viewerState struct {
	State string `json:"state"`
	Pages int    `json:"pages"`
}

// pdfTab opens a tab for one PDF; closeTab closes it and waits until its
// viewer is gone, so the browser never holds two viewers at once and
// waitPDFViewer reads the right one.
func pdfTab(t *testing.T, ctx context.Context) (tab context.Context, closeTab func()) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	if err := chromedp.Run(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab, func() {
		cancel()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if ids, err := pdfViewers(ctx); err == nil && len(ids) == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond) // polling pace for a condition with a deadline
		}
		t.Error("the PDF viewer outlived its tab")
	}
}

// pdfViewers lists the PDF viewer frames open in the browser of ctx.
func pdfViewers(ctx context.Context) ([]target.ID, error) {
	var infos []*target.Info
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		infos, err = target.GetTargets().Do(ctx)
		return err
	}))
	var ids []target.ID
	for _, ti := range infos {
		if strings.HasPrefix(ti.URL, pdfViewerURL) {
			ids = append(ids, ti.TargetID)
		}
	}
	return ids, err
}

// waitPDFViewer waits for the one PDF viewer in the browser of ctx (the
// context newBrowser returned) to finish loading and returns what it
// reports.
func waitPDFViewer(t *testing.T, ctx context.Context) viewerState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var id target.ID
	for id == "" {
		ids, err := pdfViewers(ctx)
		if err != nil {
			t.Fatalf("list the browser's frames: %v", err)
		}
		switch {
		case len(ids) > 1:
			t.Fatalf("%d PDF viewers are open, want one", len(ids))
		case len(ids) == 1:
			id = ids[0]
		case time.Now().After(deadline):
			t.Fatal("no PDF viewer appeared: the browser did not render the PDF at all")
		default:
			time.Sleep(20 * time.Millisecond) // polling pace for a condition with a deadline
		}
	}
	// Cancelling a chromedp context made for a target closes that target,
	// which leaves the tab holding it unusable; so the attachment hangs off
	// the browser's context and ends with the browser.
	vctx, _ := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	var st viewerState
	for {
		if err := chromedp.Run(vctx, chromedp.Evaluate(pdfViewerState, &st)); err != nil {
			t.Fatalf("read the PDF viewer's state: %v", err)
		}
		if st.State == "success" || st.State == "failed" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the PDF viewer never finished loading: %+v", st)
		}
		time.Sleep(20 * time.Millisecond) // polling pace for a condition with a deadline
	}
}

// minimalPDF is a valid one-page PDF showing text: five objects and a
// cross-reference table with their byte offsets.
func minimalPDF(text string) []byte {
	content := fmt.Sprintf("BT /F1 24 Tf 20 100 Td (%s) Tj ET", text)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
