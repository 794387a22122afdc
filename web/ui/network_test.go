package ui_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/dht/delegated/indextest"
	"github.com/kith-p2p/kith/node"
)

// shownCheck is one of the doctor's findings as the Network panel shows it.
type shownCheck struct {
	Status string `json:"status"`
	Class  string `json:"class"`
	Mark   string `json:"mark"`
	Text   string `json:"text"`
	Fix    string `json:"fix"`
	Bar    string `json:"bar"` // the colour of its left border
}

// TestBrowserNetworkPanel: the Overview's Network panel shows the doctor's
// findings, worst first, each marked in words and colour, with what to do
// under each warning or failure, and the facts above them. The daemon runs
// on loopback as the local profile has it, but with hole punching on (so
// that the doctor judges it as a node on the network, not as one kept on
// this machine on purpose), and it is asserted on what that makes the
// doctor say (no relay client), not on the state of the internet.
func TestBrowserNetworkPanel(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, func(c *node.Config) { c.Network.HolePunching = true })
	doc, err := d.c.Doctor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)

	var checks []shownCheck
	var reach, nat, dht, portmap, portmapWhy string
	err = chromedp.Run(ctx,
		chromedp.WaitVisible("#network #checks li.check", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#checks li.check')].map((li) => ({
			status: li.dataset.status, class: li.className,
			mark: li.querySelector('.mark').textContent, text: li.querySelector('.text').textContent,
			fix: (li.querySelector('.fix') || {}).textContent || '',
			bar: getComputedStyle(li).borderLeftColor }))`, &checks),
		chromedp.Text("#net-reach .value", &reach, chromedp.ByQuery),
		chromedp.Text("#net-nat .value", &nat, chromedp.ByQuery),
		chromedp.Text("#net-dht", &dht, chromedp.ByQuery),
		chromedp.Evaluate(`(document.querySelector('#net-portmap .value') || {}).textContent || ''`, &portmap),
		chromedp.Evaluate(`(document.querySelector('#net-portmap .muted') || {}).textContent || ''`, &portmapWhy),
	)
	if err != nil {
		t.Fatalf("network panel: %v", err)
	}
	screenshot(t, ctx, shots, "network")
	// "off (network.port_mapping is false)": the value, then the why.
	if want := strings.TrimSuffix(doc.PortMapping, ")"); portmap == "" || portmap+" ("+strings.TrimPrefix(portmapWhy, " — ") != want {
		t.Errorf("the port mapping row reads %q — %q, the doctor says %q", portmap, portmapWhy, doc.PortMapping)
	}

	if len(checks) != len(doc.Checks) {
		t.Fatalf("the panel shows %d findings, the doctor has %d: %+v", len(checks), len(doc.Checks), checks)
	}
	rank := map[string]int{"fail": 0, "warn": 1, "ok": 2}
	marks := map[string]string{"fail": "Problem", "warn": "Warning", "ok": "OK"}
	bars := map[string]string{}
	for i, c := range checks {
		want := doc.Checks[i]
		if c.Status != want.Status || c.Text != want.Text {
			t.Errorf("finding %d shows %s %q, the doctor says %s %q", i, c.Status, c.Text, want.Status, want.Text)
		}
		if !strings.Contains(c.Class, c.Status) || !strings.EqualFold(c.Mark, marks[c.Status]) {
			t.Errorf("finding %q: class %q, mark %q; want class %s and mark %s", c.Text, c.Class, c.Mark, c.Status, marks[c.Status])
		}
		if i > 0 && rank[c.Status] < rank[checks[i-1].Status] {
			t.Errorf("finding %q (%s) comes after a %s one: not worst first", c.Text, c.Status, checks[i-1].Status)
		}
		switch {
		case c.Status == "ok" && c.Fix != "":
			t.Errorf("ok finding %q shows a fix %q", c.Text, c.Fix)
		case c.Status != "ok" && want.Fix != "" && !strings.Contains(c.Fix, want.Fix):
			t.Errorf("finding %q shows fix %q, want %q", c.Text, c.Fix, want.Fix)
		}
		if b, ok := bars[c.Status]; ok && b != c.Bar {
			t.Errorf("two %s findings have different colours (%s, %s)", c.Status, b, c.Bar)
		}
		bars[c.Status] = c.Bar
	}
	if bars["ok"] == bars["warn"] || (bars["fail"] != "" && (bars["fail"] == bars["warn"] || bars["fail"] == bars["ok"])) {
		t.Errorf("the statuses share a colour: %v", bars)
	}
	// The local profile turns the relay client off; the doctor says so and how to fix it.
	i := slices.IndexFunc(checks, func(c shownCheck) bool { return strings.Contains(c.Text, "relay_client is off") })
	if i < 0 || checks[i].Status != "warn" || !strings.Contains(checks[i].Fix, "kith config set network.relay_client true") {
		t.Errorf("no warning that relay_client is off, with its fix: %+v", checks)
	}

	if !(reach == "Reachable from the internet" || strings.HasPrefix(reach, "Behind a NAT: ") || reach == "Not known yet") {
		t.Errorf("reachability reads %q", reach)
	}
	if nat == "" || !strings.Contains(dht, doc.DHTProtocol) {
		t.Errorf("NAT reads %q, DHT %q (want the protocol %s)", nat, dht, doc.DHTProtocol)
	}
}

// TestBrowserNetworkPanelAnnounced: the addresses network.announce_addrs
// names have a row of their own, as the doctor words them.
func TestBrowserNetworkPanelAnnounced(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, func(c *node.Config) {
		c.Network.HolePunching = true // judged as a node on the network
		c.Network.AnnounceAddrs = []string{"/dns4/home.example.org/tcp/40000"}
	})
	d.login(t, ctx)
	var announced, why string
	err := chromedp.Run(ctx,
		chromedp.WaitVisible("#network #checks li.check", chromedp.ByQuery),
		chromedp.Evaluate(`(document.querySelector('#net-announce .value') || {}).textContent || ''`, &announced),
		chromedp.Evaluate(`(document.querySelector('#net-announce .muted') || {}).textContent || ''`, &why),
	)
	if err != nil {
		t.Fatalf("network panel: %v", err)
	}
	if want := "/dns4/home.example.org/tcp/40000 (a name: given out as it is)"; announced != want || !strings.Contains(why, "network.announce_addrs") {
		t.Errorf("the announced row reads %q — %q, want %q — network.announce_addrs", announced, why, want)
	}
}

// TestBrowserNetworkPanelLocal: a daemon kept on this machine on purpose
// (the local profile) is not said to be behind a NAT, and the panel shows
// no NAT, hole punch or relay rows, which have nothing to say of it.
func TestBrowserNetworkPanelLocal(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)
	var reach, how string
	var rows []string
	err := chromedp.Run(ctx,
		chromedp.WaitVisible("#network #checks li.check", chromedp.ByQuery),
		chromedp.Text("#net-reach .value", &reach, chromedp.ByQuery),
		chromedp.Text("#net-reach .muted", &how, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#network dl.facts dt')].map((dt) => dt.textContent)`, &rows),
	)
	if err != nil {
		t.Fatalf("network panel: %v", err)
	}
	screenshot(t, ctx, artifacts(t), "network-local")
	if reach != "This machine only" || !strings.Contains(how, "--profile local") {
		t.Errorf("reachability reads %q (%q), want This machine only, saying why", reach, how)
	}
	if !slices.Equal(rows, []string{"Reachability", "DHT"}) {
		t.Errorf("the panel's rows: %q, want Reachability and DHT only", rows)
	}
}

// TestBrowserNetworkPanelRouters: the delegated routers have a row of
// their own, saying what each did lately: not asked yet, then answered
// once a lookup asked it.
func TestBrowserNetworkPanelRouters(t *testing.T) {
	ctx := newBrowser(t)
	var index indextest.Index
	router := index.Serve(t)
	d := startDaemon(t, func(c *node.Config) { c.DHT.DelegatedRouters = []string{router} })
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	waitText(t, sctx, "#net-routers", router+" (providers): not asked yet")
	waitText(t, sctx, "#net-routers", "dht.delegated_routers")
	if _, err := d.c.FindProviders(ctx, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(sctx, chromedp.Reload()); err != nil { // not waiting for the panel's next turn
		t.Fatal(err)
	}
	waitText(t, sctx, "#net-routers", router+" (providers): answered ")
}
