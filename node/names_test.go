package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/kith-p2p/kith/web/api"
)

// publishName puts a record of n's IPNS name (that of its peer key) into
// the DHT through n, pointing to value (boxo's publisher, as Kubo's ipfs
// name publish), and returns the name.
func publishName(t *testing.T, n *Node, value string) ipns.Name {
	t.Helper()
	p, err := path.NewPath(value)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitFor(t, time.Minute, "a peer in the publisher's routing table", func() bool { return n.dht.RoutingTableSize() > 0 })
	pub := namesys.NewIPNSPublisher(n.dht.Routing(), dssync.MutexWrap(ds.NewMapDatastore()))
	if err := pub.Publish(ctx, n.Host().Peerstore().PrivKey(n.Host().ID()), p); err != nil {
		t.Fatalf("publish %s: %v", value, err)
	}
	return ipns.NameFromPeer(n.Host().ID())
}

// unpublishedName is the name of a new key, which no one published.
func unpublishedName(t *testing.T) ipns.Name {
	t.Helper()
	return ipns.NameFromPeer(testPeerID(t))
}

// TestResolveNames: a node publishes an IPNS record of its own key into
// the DHT, pointing into a folder it added; another node, which knows
// only it, gets what the name points to (and a path under it), by the
// name as a peer ID, as a libp2p-key CID (k51...) and as ipns://. A name
// no one published is not found, a mistyped one invalid, one asked of a
// node with no DHT peer unavailable, each with a sentence that says so.
func TestResolveNames(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	report := []byte("the report, version 1\n")
	res, err := a.Add(context.Background(), "site", files.NewMapDirectory(map[string]files.Node{
		"docs": files.NewMapDirectory(map[string]files.Node{
			"report.txt": files.NewBytesFile(report),
		}),
		"index.html": files.NewBytesFile([]byte("<h1>hello</h1>")),
	}), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := publishName(t, a, "/ipfs/"+res.Cid+"/docs")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ref := range []string{
		"/ipns/" + name.String() + "/report.txt",
		"/ipns/" + name.Peer().String() + "/report.txt",
		"ipns://" + name.String() + "/report.txt",
	} {
		out := filepath.Join(t.TempDir(), "report.txt")
		got, err := b.Get(ctx, ref, out, nil, nil)
		if err != nil {
			t.Fatalf("get %s: %v", ref, err)
		}
		if body, _ := os.ReadFile(out); !bytes.Equal(body, report) {
			t.Fatalf("get %s wrote %q (%+v), want the report", ref, body, got)
		}
	}
	folder, err := b.ResolveRef(ctx, "/ipns/"+name.String())
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := a.ResolveRef(ctx, res.Cid+"/docs"); folder != want {
		t.Fatalf("the name resolved to %s, want the docs folder %s", folder, want)
	}

	unpublished := unpublishedName(t)
	for _, tt := range []struct {
		ref  string
		kind api.Kind
		says string
	}{
		{"/ipns/" + unpublished.String(), api.KindNotFound, "no peer in the DHT holds a record of /ipns/" + unpublished.String()},
		{"/ipns/" + name.String() + "/nothing.txt", api.KindNotFound, `holds no "nothing.txt"`},
		{"/ipns/not-a-name", api.KindInvalid, `"not-a-name" is neither an IPNS name`},
		{"/ipns/" + cid.NewCidV1(cid.Raw, []byte(name.Peer())).String(), api.KindInvalid, "is neither an IPNS name"},
	} {
		_, err := b.ResolveRef(ctx, tt.ref)
		if api.KindOf(err) != tt.kind || !strings.Contains(api.Sentence(err), tt.says) {
			t.Errorf("resolve %s: %v (%s), want %s saying %q", tt.ref, err, api.KindOf(err), tt.kind, tt.says)
		}
	}
	// A node that knows no DHT peer says so, rather than that no record
	// was found.
	alone := newLocalNode(t)
	alone.dhtPeerWait = 0
	_, err = alone.ResolveRef(ctx, "/ipns/"+name.String())
	if want := "/ipns/" + name.String() + ": this node knows no DHT peer to ask yet"; api.KindOf(err) != api.KindUnavailable || !strings.Contains(api.Sentence(err), want) {
		t.Errorf("resolve on a node alone: %v (%s), want unavailable saying %q", err, api.KindOf(err), want)
	}
}

// TestPublishName: a node points its IPNS name to content it pinned; a
// peer resolves it; a new CID gets the next sequence number and a node
// with no cached answer finds the new one. Content not pinned here, or
// private, is refused; a node with no DHT peer keeps the record and says
// it could not give it out; the record survives a restart, and a
// republish renews it.
func TestPublishName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	a, b := newNodeAt(t, dir, nil), newLocalNode(t)
	connect(t, b, a.Host())
	if _, err := a.OwnName(ctx, ""); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("own name before any publish: %v, want not found", err)
	}
	first, second := addData(t, a, randomData(1000)), addData(t, a, randomData(1000))
	rec, err := a.PublishName(ctx, first, api.NameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := ipns.NameFromPeer(a.Host().ID()).String()
	if rec.Name != want || rec.Value != "/ipfs/"+first.String() || rec.Sequence != 0 || time.Until(rec.Expires) < 47*time.Hour || rec.TTLSeconds != 300 {
		t.Fatalf("published %+v, want %s to /ipfs/%s, sequence 0, for 48 hours, TTL 5 minutes", rec, want, first)
	}
	if got, err := b.ResolveRef(ctx, "/ipns/"+rec.Name); err != nil || got != first {
		t.Fatalf("B resolved the name to %s, %v; want %s", got, err, first)
	}

	rec, err = a.PublishName(ctx, second, api.NameOptions{Lifetime: time.Hour, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Value != "/ipfs/"+second.String() || rec.Sequence != 1 || time.Until(rec.Expires) > time.Hour || rec.TTLSeconds != 60 {
		t.Fatalf("published again %+v, want /ipfs/%s, sequence 1, for an hour, TTL a minute", rec, second)
	}
	c := newLocalNode(t)
	connect(t, c, a.Host())
	if got, err := c.ResolveRef(ctx, "/ipns/"+rec.Name); err != nil || got != second {
		t.Fatalf("C resolved the name to %s, %v; want the new %s", got, err, second)
	}
	if got, err := c.ResolveName(ctx, "ipns://"+rec.Name); err != nil || got != "/ipfs/"+second.String() {
		t.Fatalf("ResolveName: %s, %v", got, err)
	}
	if got, err := c.ResolveName(ctx, rec.Name+"/a/b c"); err != nil || got != "/ipfs/"+second.String()+"/a/b c" {
		t.Fatalf("ResolveName of a path under the name: %s, %v; want the path after the CID, unread", got, err)
	}

	private, err := a.Add(ctx, "private.bin", files.NewBytesFile(randomData(100)), api.AddOptions{Private: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		c    cid.Cid
		says string
	}{
		{cid.MustParse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"), "is not pinned here: pin it first"},
		{cid.MustParse(private.Cid), "is private (not announced in the DHT)"},
	} {
		if _, err := a.PublishName(ctx, tt.c, api.NameOptions{}); api.KindOf(err) != api.KindConflict || !strings.Contains(api.Sentence(err), tt.says) {
			t.Errorf("publish %s: %v, want a conflict saying %q", tt.c, err, tt.says)
		}
	}

	alone := newLocalNode(t)
	alone.dhtPeerWait = 0
	lone := addData(t, alone, randomData(100))
	_, err = alone.PublishName(ctx, lone, api.NameOptions{})
	if api.KindOf(err) != api.KindUnavailable || !strings.Contains(api.Sentence(err), "this node knows no DHT peer to give the record to yet") {
		t.Errorf("publish on a node alone: %v", err)
	}
	if own, err := alone.OwnName(ctx, ""); err != nil || own.Value != "/ipfs/"+lone.String() {
		t.Errorf("the record a node alone could not give out: %+v, %v; want it kept", own, err)
	}

	// A restart keeps the record; a republish renews it (same value and
	// sequence, valid for 48 hours from now).
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = newNodeAt(t, dir, nil)
	own, err := a.OwnName(ctx, "")
	if err != nil || own.Value != "/ipfs/"+second.String() || own.Sequence != 1 {
		t.Fatalf("the record after a restart: %+v, %v", own, err)
	}
	connect(t, a, b.Host())
	waitFor(t, time.Minute, "B in A's routing table", func() bool { return a.dht.RoutingTableSize() > 0 })
	if err := a.republishName(ctx, ""); err != nil {
		t.Fatal(err)
	}
	again, err := a.OwnName(ctx, "")
	if err != nil || again.Value != own.Value || again.Sequence != own.Sequence || time.Until(again.Expires) < 47*time.Hour || again.TTLSeconds != 60 {
		t.Fatalf("the record after a republish: %+v, %v; want %+v renewed for 48 hours", again, err, own)
	}
}

// TestNameKeys: a key made for one more name publishes under a name of
// its own, which a peer resolves while the node's own name is untouched;
// the keys are listed with their records, republished, and a removed key
// publishes no more. Names no key may have, a second key of one name,
// and removing self are refused.
func TestNameKeys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	site, err := a.NewNameKey(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	self := ipns.NameFromPeer(a.Host().ID()).String()
	if site.Key != "site" || site.Name == self || !strings.HasPrefix(site.Name, "k51") {
		t.Fatalf("new key: %+v (self's name %s)", site, self)
	}
	root := addData(t, a, randomData(1000))
	rec, err := a.PublishName(ctx, root, api.NameOptions{Key: "site"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Key != "site" || rec.Name != site.Name || rec.Value != "/ipfs/"+root.String() {
		t.Fatalf("published with key site: %+v", rec)
	}
	if got, err := b.ResolveRef(ctx, "/ipns/"+site.Name); err != nil || got != root {
		t.Fatalf("B resolved the site's name to %s, %v; want %s", got, err, root)
	}
	if _, err := a.OwnName(ctx, ""); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("self's record after publishing with another key: %v, want none", err)
	}
	keys, err := a.NameKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].Key != api.SelfKey || keys[0].Name != self || keys[0].Record != nil ||
		keys[1].Key != "site" || keys[1].Record == nil || keys[1].Record.Value != rec.Value {
		t.Fatalf("keys: %+v, %v", keys, err)
	}
	if err := a.republishNames(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		key  string
		kind api.Kind
		says string
	}{
		{"self", api.KindInvalid, `"self" is this node's own key`},
		{"../x", api.KindInvalid, `"../x" cannot name a key`},
		{"", api.KindInvalid, `"" cannot name a key`},
		{"site", api.KindConflict, `this node has a key "site" already`},
	} {
		if _, err := a.NewNameKey(ctx, tt.key); api.KindOf(err) != tt.kind || !strings.Contains(api.Sentence(err), tt.says) {
			t.Errorf("new key %q: %v, want %s saying %q", tt.key, err, tt.kind, tt.says)
		}
	}
	// A rename keeps the name and its record.
	if _, err := a.NewNameKey(ctx, "spare"); err != nil {
		t.Fatal(err)
	}
	moved, err := a.RenameNameKey(ctx, "site", "blog")
	if err != nil || moved.Key != "blog" || moved.Name != site.Name || moved.Record == nil || moved.Record.Value != rec.Value {
		t.Fatalf("rename site to blog: %+v, %v; want the same name and record", moved, err)
	}
	for _, tt := range []struct {
		key, to string
		kind    api.Kind
		says    string
	}{
		{"self", "mine", api.KindInvalid, "this node's own key (self) cannot be renamed"},
		{"blog", "spare", api.KindConflict, `this node has a key "spare" already`},
		{"blog", "self", api.KindInvalid, `"self" is this node's own key`},
		{"site", "x", api.KindNotFound, `this node has no key "site"`},
	} {
		if _, err := a.RenameNameKey(ctx, tt.key, tt.to); api.KindOf(err) != tt.kind || !strings.Contains(api.Sentence(err), tt.says) {
			t.Errorf("rename %q to %q: %v, want %s saying %q", tt.key, tt.to, err, tt.kind, tt.says)
		}
	}
	if _, err := a.RenameNameKey(ctx, "blog", "site"); err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveNameKey(ctx, "spare"); err != nil {
		t.Fatal(err)
	}

	if err := a.RemoveNameKey(ctx, "self"); api.KindOf(err) != api.KindInvalid {
		t.Errorf("remove self: %v, want invalid", err)
	}
	if err := a.RemoveNameKey(ctx, "site"); err != nil {
		t.Fatal(err)
	}
	_, err = a.PublishName(ctx, root, api.NameOptions{Key: "site"})
	if api.KindOf(err) != api.KindNotFound || !strings.Contains(api.Sentence(err), `this node has no key "site" ('kith name keys new site' makes one)`) {
		t.Fatalf("publish with a removed key: %v", err)
	}
	if keys, err := a.NameKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("keys after the removal: %+v, %v", keys, err)
	}
}
