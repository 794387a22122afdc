package ui_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// These tests drive the web UI in a real browser (headless Chromium through
// chromedp) against real daemons started in this process with the loopback
// profile.

// browserTimeout bounds each browser test as a whole.
const browserTimeout = 3 * time.Minute

// findChrome returns the browser to drive: $KITH_CHROME, else the first of
// chromium, chromium-browser, google-chrome on PATH. Without one the test
// is skipped, except in CI, where a missing browser is a failure.
func findChrome(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KITH_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no browser for the web UI tests: install chromium (apt-get install chromium) or set KITH_CHROME"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless browser with a fresh profile and returns a
// context for its first tab, which ends after browserTimeout. The flags
// keep it from reaching the network by itself (the test machine is
// offline).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, browserTimeout)
}

// newBrowserFor is newBrowser for a test that needs longer than most.
func newBrowserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	chrome := findChrome(t)
	// Chromium, started beside a whole test run on two cores, has been
	// seen to crash at start-up once (crashpad, "chrome failed to
	// start"): what the tests check starts after that, so a browser that
	// did not come up is started again, once, on a fresh profile.
	var err error
	for range 2 {
		var ctx context.Context
		if ctx, err = startBrowser(t, chrome, timeout); err == nil {
			return ctx
		}
		t.Logf("start %s: %v; again", chrome, err)
	}
	t.Fatalf("start %s: %v", chrome, err)
	return nil
}

// startBrowser starts chrome on a fresh profile, as newBrowserFor says.
// The browser ends at the test's end, or at once when it fails to start.
func startBrowser(t *testing.T, chrome string, timeout time.Duration) (context.Context, error) {
	t.Helper()
	profile := browserProfile(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		// Its temporary files (the singleton's socket folder, which it
		// never removes) go in the profile, removed with it.
		chromedp.Env("TMPDIR=" + profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	stop := func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	}
	if err := chromedp.Run(bctx); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return bctx, nil
}

// browserProfile makes a fresh profile folder and removes it once the
// browser is gone. Chromium's helper processes may still be writing to it
// for a moment after the browser exits, so removal is retried for a while
// (t.TempDir would fail the test on that race).
func browserProfile(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kith-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := os.RemoveAll(dir)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Logf("could not remove the browser profile %s: %v", dir, err)
				return
			}
			time.Sleep(50 * time.Millisecond) // retry pacing, not synchronisation
		}
	})
	return dir
}

// newTab opens another tab of the browser of ctx.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tctx, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Run(tctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tctx
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// daemon is a node started for a test, with an API client.
type daemon struct {
	n *node.Node
	c *client.Client
}

// startDaemon runs a node on a fresh repo with the loopback profile;
// configure may adjust its config.
func startDaemon(t *testing.T, configure func(*node.Config)) *daemon {
	t.Helper()
	return startDaemonWith(t, node.Options{Configure: configure})
}

// startDaemonWith is startDaemon with more options (its repo, profile and
// logger are the test's).
func startDaemonWith(t *testing.T, opts node.Options) *daemon {
	t.Helper()
	opts.Repo, opts.Profile, opts.Logger = t.TempDir(), "local", quietLog
	n, err := node.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	c, err := client.FromRepo(n.RepoDir())
	if err != nil {
		t.Fatal(err)
	}
	return &daemon{n: n, c: c}
}

// connectTo connects d to other, and returns other's ID.
func (d *daemon) connectTo(t *testing.T, ctx context.Context, other *daemon) api.ID {
	t.Helper()
	id, err := other.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.Connect(ctx, id.Addresses[0]+"/p2p/"+id.PeerID); err != nil {
		t.Fatal(err)
	}
	return id
}

// base is the daemon's UI address.
func (d *daemon) base() string { return "http://" + d.n.APIAddr() }

// login signs the browser tab in through a one-time link, the way
// `kith ui` does, and waits for the overview.
func (d *daemon) login(t *testing.T, ctx context.Context) {
	t.Helper()
	lc, err := d.c.LoginURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(lc.URL), chromedp.WaitVisible("#stat-peers", chromedp.ByQuery)); err != nil {
		t.Fatalf("sign in through %s: %v", lc.URL, err)
	}
}

// artifacts is where screenshots go: $KITH_SCREENSHOTS (CI sets it, see
// .ci/run), or "" when unset, and then screenshot saves nothing.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KITH_SCREENSHOTS")
	if dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// screenshot saves the whole page as dir/name.png; without a dir it does
// nothing.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
