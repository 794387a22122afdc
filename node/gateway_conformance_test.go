package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// The boxo gateway behaviour kith relies on, checked against a real
// daemon: trustless responses (format=raw, format=car and their Accept
// types) that any IPFS tool can verify, the subdomain gateway, and the
// guard around it.

// TestGatewayTrustless fetches a 3 MiB file as raw blocks and as a CAR,
// verifies every block against its CID with go-car, and rebuilds the file
// from the CAR alone.
func TestGatewayTrustless(t *testing.T) {
	n, c := startNode(t)
	data := randomData(3<<20 + 4321)
	res, err := c.Add(context.Background(), "data.bin", files.NewBytesFile(data), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := cid.MustParse(res.Cid)

	for _, how := range []map[string]string{nil, {"Accept": "application/vnd.ipld.raw"}} {
		path := "/ipfs/" + res.Cid
		if how == nil {
			path += "?format=raw"
		}
		resp, body := gatewayGet(t, n, "", path, how)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.ipld.raw" {
			t.Fatalf("raw block (%s): %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if sum, err := root.Prefix().Sum(body); err != nil || !sum.Equals(root) {
			t.Fatalf("raw block does not hash to its CID: %v", err)
		}
	}

	for _, how := range []map[string]string{nil, {"Accept": "application/vnd.ipld.car"}} {
		path := "/ipfs/" + res.Cid
		if how == nil {
			path += "?format=car"
		}
		resp, body := gatewayGet(t, n, "", path, how)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.ipld.car") {
			t.Fatalf("CAR (%s): %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		got := verifiedCAR(t, body, root)
		r, size, err := dag.Open(context.Background(), got, root)
		if err != nil {
			t.Fatalf("open the file from the CAR's blocks: %v", err)
		}
		back, err := io.ReadAll(r)
		r.Close()
		if err != nil || size != uint64(len(data)) || !bytes.Equal(back, data) {
			t.Fatalf("the CAR rebuilds %d bytes (%v), want the %d added", len(back), err, len(data))
		}
	}

	t.Run("entity bytes", func(t *testing.T) {
		// A CAR of just the blocks for one range: what a verifying client
		// asks for to seek without trusting the gateway.
		resp, body := gatewayGet(t, n, "", "/ipfs/"+res.Cid+"?format=car&dag-scope=entity&entity-bytes=2097152:2097251", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("ranged CAR: %d %s", resp.StatusCode, body)
		}
		got := verifiedCAR(t, body, root)
		if k := got.count(); k != 2 {
			t.Fatalf("ranged CAR holds %d blocks, want 2 (the root and the leaf with the range)", k)
		}
	})
}

// carStore is a MemStore that counts the blocks put in it.
type carStore struct {
	*blockstore.MemStore
	n int
}

func (s *carStore) count() int { return s.n }

// verifiedCAR reads a CARv1 stream with go-car, checks its root and that
// every block hashes to its CID, and returns the blocks.
func verifiedCAR(t *testing.T, car []byte, root cid.Cid) *carStore {
	t.Helper()
	br, err := carv2.NewBlockReader(bytes.NewReader(car))
	if err != nil {
		t.Fatalf("read CAR header: %v", err)
	}
	if len(br.Roots) != 1 || !br.Roots[0].Equals(root) {
		t.Fatalf("CAR roots %v, want [%s]", br.Roots, root)
	}
	st := &carStore{MemStore: blockstore.NewMemStore()}
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read CAR block: %v", err)
		}
		sum, err := b.Cid().Prefix().Sum(b.RawData())
		if err != nil || !sum.Equals(b.Cid()) {
			t.Fatalf("CAR block %s does not match its CID", b.Cid())
		}
		if err := st.Put(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		st.n++
	}
	return st
}

// TestSubdomainGateway: every CID is an origin of its own at
// CID.ipfs.localhost:PORT, served without the path gateway's sandbox; the
// path gateway on localhost redirects there; and nothing but content is
// reachable from such a host, not the API (even with the token) nor the UI.
func TestSubdomainGateway(t *testing.T) {
	n, c := startNode(t)
	page := []byte("<!doctype html><script>document.title='ran'</script>")
	dir := files.NewMapDirectory(map[string]files.Node{
		"index.html": files.NewBytesFile(page),
		"clip.mp4":   files.NewBytesFile(randomData(100 << 10)),
	})
	res, err := c.Add(context.Background(), "site", dir, 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := port(n)
	host := res.Cid + ".ipfs.localhost:" + p
	token := map[string]string{"Authorization": "Bearer " + n.Token()}

	t.Run("site", func(t *testing.T) {
		resp, body := gatewayGet(t, n, host, "/", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, page) {
			t.Fatalf("index: %d, %q", resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "sandbox") || !strings.Contains(csp, "frame-ancestors") {
			t.Errorf("Content-Security-Policy %q: want frame-ancestors and no sandbox", csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options %q", got)
		}
	})
	t.Run("range", func(t *testing.T) {
		resp, _ := gatewayGet(t, n, host, "/clip.mp4", map[string]string{"Range": "bytes=10-19"})
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes 10-19/102400" {
			t.Fatalf("range: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
		}
	})
	t.Run("localhost redirects", func(t *testing.T) {
		resp, _ := gatewayGet(t, n, "localhost:"+p, "/ipfs/"+res.Cid+"/clip.mp4", nil)
		if want := "http://" + host + "/clip.mp4"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Fatalf("%d, Location %q; want 301 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
	t.Run("canonical label", func(t *testing.T) {
		v0 := cid.NewCidV0(cid.MustParse(res.Cid).Hash()).String()
		resp, _ := gatewayGet(t, n, "localhost:"+p, "/ipfs/"+v0+"/", nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, "http://bafy") {
			t.Fatalf("a CIDv0 redirects %d to %q, want a base32 CIDv1 label", resp.StatusCode, loc)
		}
	})
	for _, path := range []string{"/api/v1/id", "/api/v1/pin/ls", "/ui/js/app.js", "/metrics", "/debug/pprof/"} {
		t.Run("no "+path, func(t *testing.T) {
			resp, body := gatewayGet(t, n, host, path, token)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), `"`+n.Host().ID().String()+`"`) {
				t.Fatalf("%s on a gateway host: %d %.200s; want 404 from the gateway", path, resp.StatusCode, body)
			}
		})
	}
	t.Run("no API from a gateway origin", func(t *testing.T) {
		h := map[string]string{"Origin": "http://" + host, "Authorization": "Bearer " + n.Token()}
		resp, body := gatewayGet(t, n, "", "/api/v1/pin/ls", h)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("API request from a gateway origin: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no other hosts", func(t *testing.T) {
		for _, h := range []string{"x.ipfs.localhost:" + p, "evil.ipns.localhost:" + p, res.Cid + ".ipfs.localhost:1", "a." + res.Cid + ".ipfs.localhost:" + p} {
			resp, _ := gatewayGet(t, n, h, "/", nil)
			if resp.StatusCode == http.StatusOK {
				t.Errorf("Host %s answered 200", h)
			}
		}
	})
}
