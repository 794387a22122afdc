package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserGroupRemoveAndInvite: on the group's page, a member makes a
// single-use invite (its terms shown under the token) and removes another
// member after a confirm step; the removed device's Groups page then says
// it was removed, and by whom.
func TestBrowserGroupRemoveAndInvite(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	a := startDaemon(t, nil)
	b := startDaemon(t, nil)
	actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	created, err := a.c.GroupCreate(actx, "family")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.GroupJoin(actx, created.Token); err != nil {
		t.Fatal(err)
	}
	bID, err := b.c.ID(actx)
	if err != nil {
		t.Fatal(err)
	}
	a.login(t, ctx)
	bRow := fmt.Sprintf(`#members tr[data-peer="%s"]`, bID.PeerID)
	err = chromedp.Run(actx,
		chromedp.Navigate(a.base()+"/#/groups/"+created.ID),
		chromedp.WaitVisible(bRow+` [data-action="remove"]`, chromedp.ByQuery),
		chromedp.Click("#invite-single", chromedp.ByQuery),
		chromedp.Click("#new-invite", chromedp.ByQuery),
		chromedp.WaitVisible("#invite-token", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("A's group page: %v", err)
	}
	waitText(t, ctx, "#invite-terms", "It admits one device until")
	if invs, err := a.c.GroupInvites(actx, "family"); err != nil || len(invs) != 2 || invs[1].Uses != 1 {
		t.Fatalf("invites after the page made one: %+v, %v", invs, err)
	}
	// Only the other member has a Remove button.
	var removes int
	if err := chromedp.Run(actx, chromedp.Evaluate(`document.querySelectorAll('#members [data-action="remove"]').length`, &removes)); err != nil || removes != 1 {
		t.Fatalf("%d Remove buttons, want 1 (not on this device): %v", removes, err)
	}
	err = chromedp.Run(actx,
		chromedp.Click(bRow+` [data-action="remove"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#remove-confirm", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("ask to remove: %v", err)
	}
	screenshot(t, ctx, shots, "group-remove-confirm")
	err = chromedp.Run(actx,
		chromedp.Click("#remove-confirm", chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll('#members tbody tr').length === 1`, nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("remove B: %v", err)
	}
	// B learns at its next sync, and its page says so.
	for {
		gs, err := b.c.Groups(actx)
		if err == nil && len(gs) == 1 && gs[0].Removed != "" {
			break
		}
		if actx.Err() != nil {
			t.Fatal("B never learned it was removed")
		}
		time.Sleep(100 * time.Millisecond) // polling pace for a condition with a deadline
	}
	tab := newTab(t, ctx)
	b.login(t, tab)
	err = chromedp.Run(tab,
		chromedp.Navigate(b.base()+"/#/groups"),
		chromedp.WaitVisible("#groups .removed", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("B's groups page: %v", err)
	}
	waitText(t, tab, "#groups .removed", "removed from group family by")
	var text string
	_ = chromedp.Run(tab, chromedp.Text("#groups .removed", &text, chromedp.ByQuery))
	if !strings.Contains(text, "leave it") {
		t.Fatalf("the notice does not say how to clear it: %q", text)
	}
	screenshot(t, tab, shots, "group-removed")
}
