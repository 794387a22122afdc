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
	root, file := addAlbum(t, ctx, d)
	d.login(t, ctx)
	getPasted(t, ctx, d, " /ipfs/"+root+"/day 1/beach photo.txt ", file, "beach photo.txt")
	// A subdomain gateway's link, as a browser shows it: the CID and the
	// path in it (never fetched from that gateway).
	getPasted(t, ctx, d, "https://"+root+".ipfs.dweb.link/day%201/", folderCID(t, ctx, d, root+"/day 1"), "day 1")
}

// folderCID is the CID of the content at path (CID/names) on d.
func folderCID(t *testing.T, ctx context.Context, d *daemon, path string) string {
	t.Helper()
	e, err := d.c.Stat(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	return e.Cid
}

// TestBrowserGetAName: the Get page takes an IPNS name with a path in it
// (ipns://NAME/day 1/..., and a gateway's link to it), as an IPFS user
// pastes one: another IPFS peer
// (the test's own libp2p host and DHT) published the name, pointing to a
// folder, into the daemon's DHT; the daemon looks it up and gets the file
// it leads to, pinned under its last name. A name no one published is
// refused with the daemon's sentence.
func TestBrowserGetAName(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	root, file := addAlbum(t, ctx, d)
	name := publishFrom(t, ipfsPeer(t, d), "/ipfs/"+root)
	d.login(t, ctx)
	getPasted(t, ctx, d, "ipns://"+name.String()+"/day 1/beach photo.txt", file, "beach photo.txt")
	getPasted(t, ctx, d, "https://dweb.link/ipns/"+name.String()+"/day%201", folderCID(t, ctx, d, root+"/day 1"), "day 1")

	// A name with no record: the daemon's sentence, on the page.
	nobody := ipns.NameFromPeer(peerOf(t))
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var status string
	err := chromedp.Run(sctx,
		chromedp.SetValue("#get-cid", "/ipns/"+nobody.String(), chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#get-status.error`, chromedp.ByQuery),
		chromedp.Text(`#get-status`, &status, chromedp.ByQuery),
	)
	if err != nil || !strings.Contains(status, "no peer in the DHT holds a record of /ipns/"+nobody.String()) {
		t.Fatalf("get by a name no one published: %v, the page says %q", err, status)
	}
}

// addAlbum adds the folder album, holding day 1/beach photo.txt, on d and
// returns its CID and the file's.
func addAlbum(t *testing.T, ctx context.Context, d *daemon) (root, file string) {
	t.Helper()
	album, err := d.c.Add(ctx, "album", files.NewMapDirectory(map[string]files.Node{
		"day 1": files.NewMapDirectory(map[string]files.Node{
			"beach photo.txt": files.NewBytesFile([]byte("sand\n")),
		}),
	}), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := d.c.Stat(ctx, album.Cid+"/day 1/beach photo.txt")
	if err != nil {
		t.Fatal(err)
	}
	return album.Cid, e.Cid
}

// getPasted pastes text into the Get page of d (signed in) and waits
// until the download of want is done and pinned under the name pinned.
func getPasted(t *testing.T, ctx context.Context, d *daemon, text, want, pinned string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/get"),
		chromedp.WaitVisible("#get-cid", chromedp.ByQuery),
		chromedp.SetValue("#get-cid", text, chromedp.ByQuery),
		chromedp.Click(`#get-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`li.job[data-cid="`+want+`"][data-state="done"]`, chromedp.ByQuery),
	)
	if err != nil {
		var status string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('get-status').textContent`, &status))
		t.Fatalf("get %q: %v (the page says %q)", text, err, status)
	}
	pins, err := d.c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if p.Cid == want {
			if p.Name != pinned {
				t.Fatalf("what %q led to is pinned as %q, want %q", text, p.Name, pinned)
			}
			return
		}
	}
	t.Fatalf("what %q led to is not pinned: %+v", text, pins)
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
