package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSettings changes settings from the Settings page as kith
// config set does: the upload limit applies at once, the space offered
// to groups goes to none, a setting that needs a restart says so, and a
// value the daemon refuses is explained with the file left alone.
func TestBrowserSettings(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/settings"),
		chromedp.WaitVisible("#setting-fetch-upload_limit", chromedp.ByQuery),
	); err != nil {
		t.Fatalf("open the settings: %v", err)
	}
	waitText(t, sctx, `table.settings tr[data-key="groups.grace"]`, "30m0s")
	set := func(id, value string) {
		t.Helper()
		err := chromedp.Run(sctx,
			chromedp.SetValue("#"+id, value, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector('#`+id+`-form').requestSubmit()`, nil))
		if err != nil {
			t.Fatal(err)
		}
	}
	value := func(key string) string {
		t.Helper()
		got, err := d.c.Settings(ctx, key)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %+v, %v", key, got, err)
		}
		return got[0].Value
	}

	set("setting-fetch-upload_limit", "3MiB")
	waitText(t, sctx, "#setting-fetch-upload_limit-form .status", "Saved: 3.0 MiB/s, in use now.")
	if v := value("fetch.upload_limit"); v != "3145728" {
		t.Errorf("fetch.upload_limit = %s after the page set it", v)
	}
	set("setting-fetch-upload_limit", "fast")
	waitText(t, sctx, "#setting-fetch-upload_limit-form .status", "fetch.upload_limit takes a number of bytes per second, such as 1048576 or 10MiB, not \"fast\"")
	if v := value("fetch.upload_limit"); v != "3145728" {
		t.Errorf("a refused value changed fetch.upload_limit to %s", v)
	}

	set("setting-groups-budget_percent", "0")
	waitText(t, sctx, "#setting-groups-budget_percent-form .status", "Saved: none, in use now.")
	if v := value("groups.budget_percent"); v != "0" {
		t.Errorf("groups.budget_percent = %s", v)
	}

	if err := chromedp.Run(sctx, chromedp.Evaluate(`(() => {
  document.querySelector('#setting-dht-announce').checked = false;
  document.querySelector('#setting-dht-announce-form').requestSubmit();
})()`, nil)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#setting-dht-announce-form .status", "Saved: no. It applies when the daemon restarts (kith shutdown, then kith daemon).")
	waitText(t, sctx, "#setting-dht-announce-form .pending", "applies when the daemon restarts")
	waitText(t, sctx, `table.settings tr[data-key="dht.announce"]`, "at the restart")
	if v := value("dht.announce"); v != "false" {
		t.Errorf("dht.announce = %s", v)
	}
	screenshot(t, ctx, artifacts(t), "settings")
}
