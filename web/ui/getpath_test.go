package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserGetAPath: the Get page takes a path into a folder, as pasted
// from a gateway address or a terminal (/ipfs/CID/a/name with spaces),
// and gets what it names, pinned under its last name.
func TestBrowserGetAPath(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	album, err := d.c.Add(ctx, "album", files.NewMapDirectory(map[string]files.Node{
		"day 1": files.NewMapDirectory(map[string]files.Node{
			"beach photo.txt": files.NewBytesFile([]byte("sand\n")),
		}),
	}), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.c.Stat(ctx, album.Cid+"/day 1/beach photo.txt")
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SetValue("#get-cid", " /ipfs/"+album.Cid+"/day 1/beach photo.txt ", chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`li.job[data-cid="`+file.Cid+`"][data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		var status string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('get-status').textContent`, &status))
		t.Fatalf("get a path: %v (the page says %q)", err, status)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.Cid == file.Cid {
			if p.Name != "beach photo.txt" {
				t.Fatalf("the file got by its path is pinned as %q, want its name", p.Name)
			}
			return
		}
	}
	t.Fatalf("the file got by its path is not pinned: %+v", pins)
}

// TestBrowserGetAName: the Get page takes an IPNS name with a path in it
// (ipns://NAME/day 1/...), as an IPFS user pastes one: another IPFS peer
// (the test's own libp2p host and DHT) published the name, pointing to a
// folder, into the daemon's DHT; the daemon looks it up and gets the file
// it leads to, pinned under its last name. A name no one published is
// refused with the daemon's sentence.
func TestBrowserGetAName(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	album, err := d.c.Add(ctx, "album", files.NewMapDirectory(map[string]files.Node{
		"day 1": files.NewMapDirectory(map[string]files.Node{
			"beach photo.txt": files.NewBytesFile([]byte("sand\n")),
		}),
	}), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.c.Stat(ctx, album.Cid+"/day 1/beach photo.txt")
	if err != nil {
		t.Fatal(err)
	}
	name := publishFrom(t, ipfsPeer(t, d), "/ipfs/"+album.Cid)
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SetValue("#get-cid", "ipns://"+name.String()+"/day 1/beach photo.txt", chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`li.job[data-cid="`+file.Cid+`"][data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		var status string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('get-status').textContent`, &status))
		t.Fatalf("get by a name: %v (the page says %q)", err, status)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pinned := ""
	for _, p := range pins {
		if p.Cid == file.Cid {
			pinned = p.Name
		}
	}
	if pinned != "beach photo.txt" {
		t.Fatalf("the file got by a name is pinned as %q, want its name (%+v)", pinned, pins)
	}

	// A name with no record: the daemon's sentence, on the page.
	nobody := ipns.NameFromPeer(peerOf(t))
	var status string
	err = chromedp.Run(sctx,
		chromedp.SetValue("#get-cid", "/ipns/"+nobody.String(), chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#get-status.error`, chromedp.ByQuery),
		chromedp.Text(`#get-status`, &status, chromedp.ByQuery),
	)
	if err != nil || !strings.Contains(status, "no peer in the DHT holds a record of /ipns/"+nobody.String()) {
		t.Fatalf("get by a name no one published: %v, the page says %q", err, status)
	}
}

// peerOf is the peer ID of a new key, whose name no one published.
func peerOf(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
