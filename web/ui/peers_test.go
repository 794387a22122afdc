package ui_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserPeersConnectionKinds: the Peers page shows one row per
// connection and tells a limited relayed connection (a stranger's relay,
// which carries no transfer) from one that carries transfers (a group
// member's relay). Daemons on loopback cannot hold relay reservations
// (autorelay takes only relays with public addresses; cmd/kith/internet
// covers that across NATs), so the browser is given the connections as
// the daemon would list them: this tests the page, not the daemon. A
// group member's connections show the name it goes by.
func TestBrowserPeersConnectionKinds(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	const x, y = "12D3KooWXxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "12D3KooWYyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	circuit := "/ip4/203.0.113.9/tcp/4001/p2p/12D3KooWRrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr/p2p-circuit"
	conns := []api.Peer{
		{ID: x, Addr: circuit, Relayed: true, Limited: true, Transport: "tcp", Direction: "outbound"},
		{ID: y, Addr: circuit, Relayed: true, Transport: "tcp", Direction: "inbound", BytesIn: 5 << 20, Name: "anna's laptop"},
		{ID: x, Addr: "/ip4/198.51.100.4/udp/4001/quic-v1", Transport: "quic", Direction: "outbound", LatencyMs: 31},
	}
	body, err := json.Marshal(conns)
	if err != nil {
		t.Fatal(err)
	}
	stubPeers(t, ctx, body)

	d.login(t, ctx)
	var rows []struct{ Peer, Kind, Badge, Why, Name string }
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/peers"),
		chromedp.WaitVisible("#peers tbody tr", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#peers tbody tr')].map((tr) => ({
			peer: tr.dataset.peer, kind: tr.dataset.kind,
			badge: tr.querySelector('.badge').textContent, why: tr.querySelector('.badge').title,
			name: (tr.querySelector('.member') || {}).textContent || '' }))`, &rows),
	)
	if err != nil {
		t.Fatalf("peers page: %v", err)
	}
	want := []struct{ Peer, Kind, Badge, Name string }{
		{x, "direct", "Direct", ""},
		{x, "limited", "Relayed (limited)", ""},
		{y, "relayed", "Relayed (carries transfers)", "anna's laptop"}, // a group member, by its name
	}
	if len(rows) != len(want) {
		t.Fatalf("the page shows %d rows for %d connections: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		if r := rows[i]; r.Peer != w.Peer || r.Kind != w.Kind || r.Badge != w.Badge || r.Why == "" || strings.TrimSpace(r.Name) != w.Name {
			t.Errorf("row %d is %+v, want %+v with an explanation", i, r, w)
		}
	}
	waitText(t, ctx, "#peers-count", "2 peers, 3 connections")
	if !strings.Contains(rows[1].Why, "no transfer") {
		t.Errorf("the limited badge explains %q", rows[1].Why)
	}
	screenshot(t, ctx, shots, "peers-kinds")
}

// stubPeers answers the tab's GET /api/v1/peers with body.
func stubPeers(t *testing.T, ctx context.Context, body []byte) {
	t.Helper()
	chromedp.ListenTarget(ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Target)
			// An error here (the tab closing) shows as a page without rows.
			_ = fetch.FulfillRequest(e.RequestID, 200).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}).
				WithBody(base64.StdEncoding.EncodeToString(body)).Do(exec)
		}()
	})
	err := chromedp.Run(ctx, fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/api/v1/peers"}}))
	if err != nil {
		t.Fatal(err)
	}
}
