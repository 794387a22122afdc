package ui_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAddProgressText: the Add page says, under each bar, how much
// of how much is done and, once the daemon has measured it, the rate and
// the time left at that rate (the page's own progressText, run in the
// browser on the progress an upload reports).
func TestBrowserAddProgressText(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)
	const mib = 1 << 20
	type progress struct {
		Sent  int64   `json:"sent"`
		Added int64   `json:"added"`
		Total int64   `json:"total"`
		Rate  float64 `json:"rate"`
	}
	tests := []struct {
		name string
		p    progress
		want string
	}{
		{"no rate yet", progress{10 * mib, 8 * mib, 64 * mib, 0}, "Uploading… 10 MiB of 64 MiB"},
		{"uploading", progress{32 * mib, 30 * mib, 64 * mib, 2 * mib}, "Uploading… 32 MiB of 64 MiB · 2.0 MiB/s · about 17 s left"},
		{"sent, importing the rest", progress{64 * mib, 60 * mib, 64 * mib, 4 * mib}, "Importing… 60 MiB of 64 MiB · 4.0 MiB/s · about 1 s left"},
		{"minutes left", progress{100 * mib, 100 * mib, 10240 * mib, 10 * mib}, "Uploading… 100 MiB of 10 GiB · 10 MiB/s · about 16 min 54 s left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arg, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			err = chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`import('/ui/js/pages/add.js').then((m) => m.progressText(%s))`, arg), &got, awaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("progressText(%s) = %q, want %q", arg, got, tt.want)
			}
		})
	}
}
