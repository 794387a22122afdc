package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
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
	name := publishTo(t, d, "/ipfs/"+album.Cid)
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

// publishTo publishes value under a new IPNS name from another IPFS peer
// (a libp2p host of the test's with Amino's DHT protocol, as Kubo runs
// it) connected to d: the record goes into d's DHT. It returns the name.
func publishTo(t *testing.T, d *daemon, value string) ipns.Name {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	id, err := d.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromString(id.Addresses[0] + "/p2p/" + id.PeerID)
	if err != nil {
		t.Fatal(err)
	}
	dht, err := kaddht.New(h, kaddht.Mode(kaddht.ModeServer), kaddht.ProtocolPrefix("/ipfs"), kaddht.BootstrapPeers(*ai))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dht.Close() })
	if err := h.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	for dht.RoutingTable().Find(ai.ID) == "" {
		if ctx.Err() != nil {
			t.Fatal("the daemon never joined the test peer's DHT routing table")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p, err := path.NewPath(value)
	if err != nil {
		t.Fatal(err)
	}
	pub := namesys.NewIPNSPublisher(dht, dssync.MutexWrap(ds.NewMapDatastore()))
	if err := pub.Publish(ctx, h.Peerstore().PrivKey(h.ID()), p); err != nil {
		t.Fatalf("publish %s: %v", value, err)
	}
	return ipns.NameFromPeer(h.ID())
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
