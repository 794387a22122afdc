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
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

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
	pub := namesys.NewIPNSPublisher(n.dht.Routing(), dssync.MutexWrap(ds.NewMapDatastore()))
	if err := pub.Publish(ctx, n.Host().Peerstore().PrivKey(n.Host().ID()), p); err != nil {
		t.Fatalf("publish %s: %v", value, err)
	}
	return ipns.NameFromPeer(n.Host().ID())
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

	other, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherID, err := peer.IDFromPrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	unpublished := ipns.NameFromPeer(otherID)
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
	_, err = alone.ResolveRef(ctx, "/ipns/"+name.String())
	if want := "/ipns/" + name.String() + ": this node knows no DHT peer to ask yet"; api.KindOf(err) != api.KindUnavailable || !strings.Contains(api.Sentence(err), want) {
		t.Errorf("resolve on a node alone: %v (%s), want unavailable saying %q", err, api.KindOf(err), want)
	}
}
