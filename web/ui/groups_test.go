package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserGroupInvite creates a group on one daemon through the Groups
// page, reads the invite token from the page, joins the group on a second
// daemon through its own Groups page, and waits for the first to list both
// members. Then it shares a file into the group on the Files page and
// checks the page shows its copies. It saves screenshots of both Groups pages and Files.
func TestBrowserGroupInvite(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a := startDaemon(t, nil)
	b := startDaemon(t, nil)

	// Daemon A: create the group and read its token from the page.
	a.login(t, ctx)
	var token string
	err := chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/groups"),
		chromedp.WaitVisible("#group-name", chromedp.ByQuery),
		chromedp.SendKeys("#group-name", "family", chromedp.ByQuery),
		chromedp.Click(`#create-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#invite-token", chromedp.ByQuery),
		chromedp.Value("#invite-token", &token, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("create a group: %v", err)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		t.Fatal("the page showed an empty invite token")
	}
	waitText(t, ctx, "#invite .warning", "password")
	waitText(t, ctx, "#groups tbody", "family")
	screenshot(t, ctx, shots, "groups-created")

	// Daemon B, in another tab: paste the token and join.
	tab := newTab(t, ctx)
	b.login(t, tab)
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/groups"),
		chromedp.WaitVisible("#join-token", chromedp.ByQuery),
		chromedp.SetValue("#join-token", token, chromedp.ByQuery),
		chromedp.Click(`#join-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#members tbody tr", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("join the group: %v", err)
	}
	waitText(t, tab, "#groups tbody", "family")
	// B's Files page stays open from here: the copy the group places there
	// later must show up by itself (the "groups" event).
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/files"),
		chromedp.WaitVisible("main .card.empty", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("B's Files page: %v", err)
	}

	// Daemon A lists both members once B's join has reached it. Its tab
	// comes to the front first: a background tab runs no animation frames,
	// which Poll waits for.
	front(t, ctx)
	gs, err := a.c.Groups(ctx)
	if err != nil || len(gs) != 1 {
		t.Fatalf("groups on A: %v, %v", gs, err)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.base()+"/#/groups/"+gs[0].ID),
		chromedp.WaitVisible("#members tbody tr", chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll('#members tbody tr').length === 2`, nil,
			chromedp.WithPollingTimeout(time.Minute)),
	)
	if err != nil {
		ms, _ := a.c.GroupMembers(ctx, "family")
		t.Fatalf("A never listed 2 members (the API says %+v): %v", ms, err)
	}
	waitText(t, ctx, "#groups tbody tr td.members", "2")
	waitText(t, ctx, `#members tbody tr:not([data-health="gone"])`, "alive")
	screenshot(t, ctx, shots, "groups")

	// Share a file into the group: the Files page shows its copies. Each
	// step has its own deadline, so a hang says where it is.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := a.c.Add(sctx, "album.txt", files.NewBytesFile([]byte("holiday photos, in text\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cell := fmt.Sprintf(`#pins tr[data-cid="%s"] td.replication`, res.Cid)
	form := fmt.Sprintf(`tr[data-ticket-for="%s"] form.share-form`, res.Cid)
	err = chromedp.Run(sctx,
		chromedp.Navigate(a.base()+"/#/files"),
		chromedp.WaitVisible(cell, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`#pins tr[data-cid="%s"] [data-action="share"]`, res.Cid), chromedp.ByQuery),
		chromedp.WaitVisible(form, chromedp.ByQuery),
		submitShare(fmt.Sprintf(`tr[data-ticket-for="%s"] .group-share`, res.Cid), "", 2),
	)
	if err != nil {
		t.Fatalf("share into the group on the Files page: %v", err)
	}
	waitText(t, ctx, ".group-share p.status", "Shared album.txt in family: it keeps 2 copies.")
	waitText(t, ctx, `.group-share .shared-in[data-group="family"]`, "Shared in family: keeps 2 copies")
	waitText(t, ctx, cell, "of 2 copies")
	waitText(t, ctx, cell, "this device") // the sharer holds a copy: named so, not by its hostname
	screenshot(t, ctx, shots, "files-group")
	// The page asked for every pin's replication in one request.
	var asked []string
	err = chromedp.Run(sctx, chromedp.Evaluate(
		`performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname + new URL(e.name).search).filter((u) => u.startsWith('/api/v1/groups/status'))`, &asked))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range asked {
		if u != "/api/v1/groups/status/all" {
			t.Errorf("the Files page asked %s, want only /api/v1/groups/status/all", u)
		}
	}
	if len(asked) == 0 {
		t.Error("the Files page never asked /api/v1/groups/status/all")
	}
	all, err := a.c.GroupStatuses(sctx)
	if err != nil || len(all) != 1 || all[0].Cid != res.Cid || all[0].Copies != 2 || all[0].Group != "family" {
		t.Fatalf("GroupStatuses: %+v, %v", all, err)
	}

	// On B, the copy the group placed there shows as the share's name
	// with its group, and offers "Keep a copy for me" instead of Unpin;
	// keeping it adds B's own pin beside the group's, and the row says the
	// group keeps it too.
	isReplica := func() (replica, found bool) {
		pins, err := b.c.Pins(sctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pins {
			if p.Cid == res.Cid {
				return p.Replica, true
			}
		}
		return false, false
	}
	for {
		if replica, ok := isReplica(); ok && replica {
			break
		}
		if sctx.Err() != nil {
			t.Fatal("the group never placed its second copy on B")
		}
		time.Sleep(100 * time.Millisecond) // polling pace for a condition with a deadline
	}
	// A's Files page, left open, follows the placement without a reload.
	waitText(t, ctx, cell, "2 of 2 copies")
	front(t, tab)
	bRow := fmt.Sprintf(`#pins tr[data-cid="%s"]`, res.Cid)
	var unpins int
	rctx, rcancel := context.WithTimeout(tab, 30*time.Second)
	defer rcancel()
	err = chromedp.Run(rctx,
		chromedp.WaitVisible(bRow+` [data-action="keep-mine"]`, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll('%s button.danger').length`, bRow), &unpins),
	)
	if err != nil {
		t.Fatalf("B's Files page, open since before the share, never showed the copy placed there: %v", err)
	}
	waitText(t, tab, bRow+" td.name", "album.txt")
	waitText(t, tab, bRow+" td.name .replica", "family · replica")
	if unpins != 0 {
		t.Error("a replica the group placed offers Unpin")
	}
	screenshot(t, tab, shots, "files-replica")
	kctx, kcancel := context.WithTimeout(tab, 30*time.Second)
	defer kcancel()
	err = chromedp.Run(kctx,
		chromedp.Click(bRow+` [data-action="keep-mine"]`, chromedp.ByQuery),
		chromedp.WaitVisible(bRow+` button.danger`, chromedp.ByQuery),
	)
	if err != nil {
		var live, status string
		_ = chromedp.Run(tab, chromedp.Evaluate(`document.getElementById('live').textContent`, &live))
		_ = chromedp.Run(tab, chromedp.Evaluate(`document.querySelector('p.status').textContent`, &status))
		pins, _ := b.c.Pins(context.Background())
		t.Fatalf("keep the replica as B's own: %v (live %q, status %q, pins %+v)", err, live, status, pins)
	}
	if replica, ok := isReplica(); !ok || replica {
		t.Fatalf("after Keep a copy for me, B's pin: found %v, replica %v", ok, replica)
	}
	waitText(t, tab, bRow+" td.name .kept-for", "also kept for family")
	waitText(t, tab, "p.status", "is now pinned by you too")
	bpins, err := b.c.Pins(sctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bpins {
		if p.Cid == res.Cid && (len(p.Groups) != 1 || p.Groups[0] != "family") {
			t.Fatalf("B's pin after Keep a copy for me lists groups %q, want [family]", p.Groups)
		}
	}

	// Leaving, on B, goes through a confirm step.
	front(t, tab)
	lctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	err = chromedp.Run(lctx,
		chromedp.Navigate(b.base()+"/#/groups/family"),
		chromedp.WaitVisible("#leave-group", chromedp.ByQuery),
		chromedp.Click("#leave-group", chromedp.ByQuery),
		chromedp.WaitVisible("#leave-confirm", chromedp.ByQuery),
		chromedp.Click("#leave-confirm", chromedp.ByQuery),
		chromedp.WaitVisible("#groups-empty", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("leave the group on B: %v", err)
	}
}

// front makes ctx's tab the visible one.
func front(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Run(ctx, page.BringToFront()); err != nil {
		t.Fatalf("bring the tab to the front: %v", err)
	}
}

// TestBrowserGroupJoinErrorByTheBox: a token that does not work is
// explained right under the Join box it was pasted in (and the box marked
// invalid), not at the top of the page, far from it; so is a failed
// create under its own box.
func TestBrowserGroupJoinErrorByTheBox(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	if _, err := d.c.GroupCreate(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	tests := []struct {
		name, field, value, submit, status string
	}{
		{"join", "#join-token", "kith-group-token-that-is-not-one", `#join-form button[type="submit"]`, "#join-status"},
		{"create", "#group-name", "family", `#create-form button[type="submit"]`, "#create-status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				Text, Top                 string
				InSection, Invalid, Below bool
			}
			err := chromedp.Run(ctx,
				chromedp.Navigate(d.base()+"/#/groups"),
				chromedp.WaitVisible(tt.field, chromedp.ByQuery),
				chromedp.SetValue(tt.field, tt.value, chromedp.ByQuery),
				chromedp.Click(tt.submit, chromedp.ByQuery),
				chromedp.WaitVisible(tt.status+".error", chromedp.ByQuery),
				chromedp.Evaluate(fmt.Sprintf(`(() => {
					const box = document.querySelector(%q), st = document.querySelector(%q);
					const b = box.getBoundingClientRect(), s = st.getBoundingClientRect();
					return { text: st.textContent, top: document.querySelector('main > .status').textContent,
						insection: box.closest('section') === st.closest('section'),
						invalid: box.getAttribute('aria-invalid') === 'true',
						below: s.top >= b.bottom && s.top - b.bottom < 80 };
				})()`, tt.field, tt.status), &got),
			)
			if err != nil {
				t.Fatalf("%s with %q: %v", tt.name, tt.value, err)
			}
			t.Logf("%s: %q", tt.name, got.Text)
			if strings.TrimSpace(got.Text) == "" || got.Top != "" || !got.InSection || !got.Invalid || !got.Below {
				t.Errorf("the failure shows as %+v, want it under the box, in its section, the box marked invalid, nothing at the top", got)
			}
		})
	}
}
