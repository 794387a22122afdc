package ui_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserOverviewCache: the overview's storage line says how much of
// the repo is downloads kept unpinned (the cache fetch.cache_max bounds),
// once there are any: here, a file read from a peer with cat; and under
// the download rate, the cap in force once `kith config set` gave one.
func TestBrowserOverviewCache(t *testing.T) {
	ctx := newBrowser(t)
	a := startDaemon(t, nil)
	b := startDaemon(t, func(c *node.Config) { c.Fetch.CacheMax = 64 << 20 })
	b.connectTo(t, ctx, a)
	data := make([]byte, 3<<20)
	rand.Read(data)
	res, err := a.c.Add(ctx, "film.bin", files.NewBytesFile(data), int64(len(data)), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	b.login(t, ctx)
	waitText(t, ctx, "#stat-repo", "pins")
	var before string
	if err := chromedp.Run(ctx, chromedp.Text("#stat-repo", &before, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(before, "downloads") || !strings.HasPrefix(before, "0 pins, ") {
		t.Fatalf("with nothing downloaded the overview says %q", before)
	}

	rc, err := b.c.Cat(ctx, res.Cid, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("cat from the peer: %d bytes, %v", len(got), err)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, err := b.c.RepoStat(ctx); err == nil && st.Cache >= int64(len(data)) {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the read never joined the downloads' cache")
		}
	}
	if err := chromedp.Run(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#stat-repo", "0 pins, 3.0 MiB of content (3.0 MiB cached downloads, max 64 MiB)")

	var inCap string
	if err := chromedp.Run(ctx, chromedp.Text("#stat-in-cap", &inCap, chromedp.ByQuery)); err != nil || inCap != "" {
		t.Fatalf("with no cap the download rate says %q (%v)", inCap, err)
	}
	if _, err := node.SetConfig(b.n.RepoDir(), "fetch.download_limit", "4MiB"); err != nil {
		t.Fatal(err)
	}
	if res, err := b.c.ApplyConfig(ctx, "fetch.download_limit"); err != nil || !res.Applied {
		t.Fatalf("apply the cap: %+v, %v", res, err)
	}
	waitText(t, ctx, "#stat-in-cap", "capped at 4.0 MiB/s")
	screenshot(t, ctx, artifacts(t), "overview-cache")
}
