package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestBrowserPublishName: a pin's Share panel publishes it under this
// node's IPNS name, then under the name of its other key; the panel then
// says each leads there, another IPFS peer (the test's own libp2p host
// and DHT) finds the record in the DHT, and the panel's link opens the
// content by name on the gateway. A private pin's panel says it cannot be
// published.
func TestBrowserPublishName(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	other := ipfsPeer(t, d)
	res, err := d.c.Add(ctx, "notes.txt", files.NewBytesFile([]byte("notes\n")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	private, err := d.c.Add(ctx, "diary.txt", files.NewBytesFile([]byte("diary\n")), 0, api.AddOptions{Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := peer.Decode(id.PeerID)
	if err != nil {
		t.Fatal(err)
	}
	name := "/ipns/" + ipns.NameFromPeer(pid).String()
	siteKey, err := d.c.NewNameKey(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	row := fmt.Sprintf(`#pins tr[data-cid="%s"]`, res.Cid)
	box := fmt.Sprintf(`tr[data-ticket-for="%s"] .ipns-name`, res.Cid)
	err = chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/files"),
		chromedp.WaitVisible(row+` [data-action="share"]`, chromedp.ByQuery),
		clickJS(row+` [data-action="share"]`),
		chromedp.WaitVisible(box+` [data-action="publish-name"]`, chromedp.ByQuery),
		clickJS(box+` [data-action="publish-name"]`),
		chromedp.WaitVisible(box+`[data-published="true"]`, chromedp.ByQuery),
	)
	if err != nil {
		var said string
		_ = chromedp.Run(ctx, chromedp.Text(box, &said, chromedp.ByQuery))
		t.Fatalf("publish from the Share panel: %v (it says %q)", err, said)
	}
	waitText(t, sctx, box, "Your IPNS name leads here: "+name)

	// With a second key, the panel offers the names that do not lead
	// here yet: the key's.
	if err := chromedp.Run(sctx,
		clickJS(box+` [data-action="publish-name"]`),
		chromedp.WaitVisible(box+` .name-line[data-key="site"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("publish under key site: %v", err)
	}
	waitText(t, sctx, box, "The name of key site leads here: /ipns/"+siteKey.Name)
	screenshot(t, ctx, artifacts(t), "files-ipns-name")
	var hidden bool
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).hidden`, box+` [data-action="publish-name"]`), &hidden)); err != nil || !hidden {
		t.Fatalf("the publish button shows (hidden=%v, %v) once every name leads here", hidden, err)
	}
	if rec, err := d.c.OwnName(ctx, "site"); err != nil || rec.Value != "/ipfs/"+res.Cid {
		t.Fatalf("key site's record: %+v, %v", rec, err)
	}

	own, err := d.c.OwnName(ctx, "")
	if err != nil || own.Value != "/ipfs/"+res.Cid {
		t.Fatalf("the daemon's record: %+v, %v", own, err)
	}
	ns, err := namesys.NewNameSystem(other)
	if err != nil {
		t.Fatal(err)
	}
	p, err := path.NewPath(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ns.Resolve(sctx, p)
	if err != nil || got.Path.String() != "/ipfs/"+res.Cid {
		t.Fatalf("another IPFS peer resolved %s to %v, %v; want /ipfs/%s", name, got.Path, err, res.Cid)
	}

	prow := fmt.Sprintf(`#pins tr[data-cid="%s"]`, private.Cid)
	pbox := fmt.Sprintf(`tr[data-ticket-for="%s"] .ipns-name`, private.Cid)
	if err := chromedp.Run(sctx, clickJS(prow+` [data-action="share"]`), chromedp.WaitVisible(pbox, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, pbox, "Private content cannot be published under your IPNS name")
	var buttons int
	if err := chromedp.Run(sctx, chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll(%q)].filter((b) => !b.hidden).length`, pbox+" button"), &buttons)); err != nil || buttons != 0 {
		t.Fatalf("a private pin's name box shows %d buttons (%v)", buttons, err)
	}

	// The panel's link opens the content by the name, on the name's own
	// origin of the subdomain gateway (the browser resolves
	// NAME.ipns.localhost to this computer; the daemon looks the name up).
	var href, body string
	if err := chromedp.Run(sctx, chromedp.AttributeValue(box+` [data-action="open-name"]`, "href", &href, nil, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	port := d.base()[strings.LastIndex(d.base(), ":"):]
	if want := "http://" + strings.TrimPrefix(name, "/ipns/") + ".ipns.localhost" + port + "/"; href != want {
		t.Fatalf("Open by name links to %q, want %q", href, want)
	}
	if err := chromedp.Run(sctx, chromedp.Navigate(href), chromedp.Text("body", &body, chromedp.ByQuery)); err != nil || strings.TrimSpace(body) != "notes" {
		t.Fatalf("the content opened by name: %q (%v), want the file's text", body, err)
	}
}

// TestBrowserNameKeys: the Settings page lists this node's keys, makes
// one (refusing a name no key may have, in the daemon's words), renames
// one (its name stays; a taken name refused), imports a key file (named
// after the file; the same key twice and a file that is no key refused)
// and, after a confirm step, removes one.
func TestBrowserNameKeys(t *testing.T) {
	ctx := newBrowser(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	newKey := func(key string) error {
		return chromedp.Run(sctx,
			chromedp.SetValue("#name-key-new", key, chromedp.ByQuery),
			chromedp.Evaluate(`document.getElementById('name-key-form').requestSubmit()`, nil))
	}
	err := chromedp.Run(sctx,
		chromedp.Navigate(d.base()+"/#/settings"),
		chromedp.WaitVisible(`#name-keys tr[data-key="self"]`, chromedp.ByQuery))
	if err == nil {
		err = newKey("site")
	}
	if err == nil {
		err = chromedp.Run(sctx, chromedp.WaitVisible(`#name-keys tr[data-key="site"]`, chromedp.ByQuery))
	}
	if err != nil {
		t.Fatalf("make a key on the Settings page: %v", err)
	}
	keys, err := d.c.NameKeys(ctx)
	if err != nil || len(keys) != 2 || keys[1].Key != "site" {
		t.Fatalf("the daemon's keys: %+v, %v; want self and site", keys, err)
	}
	waitText(t, sctx, `#name-keys tr[data-key="site"]`, "/ipns/"+keys[1].Name)
	waitText(t, sctx, "#name-key-status", "Made key site: its name is /ipns/"+keys[1].Name)
	screenshot(t, ctx, artifacts(t), "settings-names")

	if err := newKey("self"); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#name-key-status", `"self" is this node's own key`)

	// Rename: the name stays; a taken name is refused in the daemon's words.
	rename := func(key, to string) error {
		row := fmt.Sprintf(`#name-keys tr[data-key=%q]`, key)
		return chromedp.Run(sctx,
			clickJS(row+` [data-action="rename-key"]`),
			chromedp.WaitVisible(row+` [data-field="rename-to"]`, chromedp.ByQuery),
			chromedp.SetValue(row+` [data-field="rename-to"]`, to, chromedp.ByQuery),
			chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).requestSubmit()`, row+` [data-action="rename-form"]`), nil))
	}
	if err := rename("site", "blog"); err != nil {
		t.Fatalf("rename the key: %v", err)
	}
	waitText(t, sctx, `#name-keys tr[data-key="blog"]`, "/ipns/"+keys[1].Name)
	waitText(t, sctx, "#name-key-status", "Renamed key site to blog: its name stays /ipns/"+keys[1].Name)
	if got, err := d.c.NameKeys(ctx); err != nil || len(got) != 2 || got[1].Key != "blog" || got[1].Name != keys[1].Name {
		t.Fatalf("the daemon's keys after the rename: %+v, %v; want self and blog with site's name", got, err)
	}
	if err := newKey("site"); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#name-key-status", "Made key site")
	if err := rename("blog", "site"); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#name-key-status", `this node has a key "site" already`)

	// Import: a key file from elsewhere (Kubo's default format), named
	// after the file; the same file again, and a file that is no key, are
	// refused in the daemon's words.
	priv, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := crypto.MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, junk := filepath.Join(dir, "travel.key"), filepath.Join(dir, "notes.key")
	if err := os.WriteFile(keyFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junk, []byte("not a key at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	importFile := func(file, as string) error {
		acts := []chromedp.Action{chromedp.SetUploadFiles("#name-key-file", []string{file}, chromedp.ByQuery)}
		if as != "" {
			acts = append(acts, chromedp.SetValue("#name-key-import-as", as, chromedp.ByQuery))
		}
		return chromedp.Run(sctx, append(acts,
			chromedp.Evaluate(`document.getElementById('name-key-import').requestSubmit()`, nil))...)
	}
	var suggested string
	err = chromedp.Run(sctx,
		chromedp.SetUploadFiles("#name-key-file", []string{keyFile}, chromedp.ByQuery),
		chromedp.Value("#name-key-import-as", &suggested, chromedp.ByQuery))
	if err != nil || suggested != "travel" {
		t.Fatalf("the key name suggested for travel.key: %q, %v; want travel", suggested, err)
	}
	if err := importFile(keyFile, ""); err != nil {
		t.Fatalf("import a key file: %v", err)
	}
	name := ipns.NameFromPeer(pid).String()
	waitText(t, sctx, `#name-keys tr[data-key="travel"]`, "/ipns/"+name)
	waitText(t, sctx, "#name-key-status", "Imported key travel: its name is /ipns/"+name)
	screenshot(t, ctx, artifacts(t), "settings-names-import")
	if err := importFile(keyFile, "again"); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#name-key-status", `this node has that key already, as "travel"`)
	if err := importFile(junk, "notes"); err != nil {
		t.Fatal(err)
	}
	waitText(t, sctx, "#name-key-status", "not a key kith can import")

	err = chromedp.Run(sctx,
		clickJS(`#name-keys tr[data-key="blog"] [data-action="remove-key"]`),
		chromedp.WaitVisible(`#name-keys tr[data-key="blog"] [data-action="remove-key-confirm"]`, chromedp.ByQuery),
		clickJS(`#name-keys tr[data-key="blog"] [data-action="remove-key-confirm"]`),
		chromedp.WaitNotPresent(`#name-keys tr[data-key="blog"]`, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("remove the key: %v", err)
	}
	got, err := d.c.NameKeys(ctx)
	if err != nil || len(got) != 3 {
		t.Fatalf("the daemon's keys after the removal: %+v, %v; want self, site and travel", got, err)
	}
	for _, k := range got {
		if k.Key == "blog" || k.Key == "notes" || k.Key == "again" {
			t.Errorf("the daemon has key %s after the removal and the refused imports", k.Key)
		}
	}
}

// ipfsPeer is another IPFS peer: a libp2p host of the test's with Amino's
// DHT protocol (as Kubo runs it), connected to d, each in the other's
// routing table. It stops at the end of the test.
func ipfsPeer(t *testing.T, d *daemon) *kaddht.IpfsDHT {
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
	return dht
}

// publishFrom publishes value under the IPNS name of the peer of dht,
// into the DHT, and returns the name.
func publishFrom(t *testing.T, dht *kaddht.IpfsDHT, value string) ipns.Name {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := path.NewPath(value)
	if err != nil {
		t.Fatal(err)
	}
	h := dht.Host()
	pub := namesys.NewIPNSPublisher(dht, dssync.MutexWrap(ds.NewMapDatastore()))
	if err := pub.Publish(ctx, h.Peerstore().PrivKey(h.ID()), p); err != nil {
		t.Fatalf("publish %s: %v", value, err)
	}
	return ipns.NameFromPeer(h.ID())
}
