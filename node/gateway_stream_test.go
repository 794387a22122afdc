package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kith-p2p/kith/web/api"
)

// patternFile is a large file whose bytes need not be kept in memory:
// every MiB is the same random MiB, stamped with its index.
type patternFile struct {
	base []byte
	size int64
}

func newPatternFile(size int64) patternFile {
	return patternFile{base: randomData(1 << 20), size: size}
}

// at returns the n bytes at off.
func (p patternFile) at(off, n int64) []byte {
	out := make([]byte, 0, n)
	for int64(len(out)) < n {
		mib := off >> 20
		c := p.chunk(mib)[off-mib<<20:]
		c = c[:min(int64(len(c)), n-int64(len(out)))]
		out = append(out, c...)
		off += int64(len(c))
	}
	return out
}

func (p patternFile) chunk(mib int64) []byte {
	c := append([]byte(nil), p.base...)
	binary.BigEndian.PutUint64(c, uint64(mib))
	return c
}

// add writes the file to disk and adds it on n, named name.
func (p patternFile) add(tb testing.TB, n *Node, name string) cid.Cid {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	for mib := int64(0); mib<<20 < p.size; mib++ {
		c := p.chunk(mib)
		if _, err := f.Write(c[:min(int64(len(c)), p.size-mib<<20)]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	res, err := n.AddPaths(context.Background(), []string{path}, api.AddOptions{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	os.Remove(path)
	return cid.MustParse(res.Cid)
}

// streamGet GETs path from n's gateway with a Range header (none when
// empty) and returns the response, body unread.
func streamGet(tb testing.TB, n *Node, path, rng string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+n.APIAddr()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// TestGatewayStreamsFromPeer: a 256 MiB file another daemon holds is
// served by this one's gateway without copying it: a Range request for
// 1 MiB in its middle returns the right bytes and fetches at most 4
// blocks (the root and the leaves under the range), and nothing is pinned.
func TestGatewayStreamsFromPeer(t *testing.T) {
	holder, viewer := newLocalNode(t), newLocalNode(t)
	file := newPatternFile(256 << 20)
	root := file.add(t, holder, "big.bin")
	connect(t, viewer, holder.Host())

	from := int64(128<<20 + 12345)
	resp := streamGet(t, viewer, "/ipfs/"+root.String()+"?filename=big.bin", fmt.Sprintf("bytes=%d-%d", from, from+1<<20-1))
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range request: %d, %v", resp.StatusCode, err)
	}
	if !bytes.Equal(body, file.at(from, 1<<20)) {
		t.Fatalf("range request returned %d bytes that differ from the file's", len(body))
	}
	fetched := testutil.ToFloat64(viewer.demand.fetched)
	t.Logf("1 MiB from the middle of a 256 MiB file fetched %v blocks", fetched)
	if fetched < 2 || fetched > 4 {
		t.Fatalf("the range fetched %v blocks, want 2 to 4", fetched)
	}
	pins, err := viewer.Pins(context.Background())
	if err != nil || len(pins) != 0 {
		t.Fatalf("viewer pins %v (%v), want none: streaming must not pin", pins, err)
	}

	// A second seek goes straight to the peer that had the file.
	from = 200 << 20
	resp = streamGet(t, viewer, "/ipfs/"+root.String()+"?filename=big.bin", fmt.Sprintf("bytes=%d-", from))
	buf := make([]byte, 3<<20)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !bytes.Equal(buf, file.at(from, 3<<20)) {
		t.Fatal("an open-ended range returned the wrong bytes")
	}
}

// TestGatewayStreamSurvivesGC: a GC in the middle of a response keeps the
// blocks the response fetched (they are held, not pinned), the response
// completes with the right bytes, and once it is over GC takes them.
func TestGatewayStreamSurvivesGC(t *testing.T) {
	holder, viewer := newLocalNode(t), newLocalNode(t)
	file := newPatternFile(24 << 20)
	root := file.add(t, holder, "clip.bin")
	connect(t, viewer, holder.Host())
	ctx := context.Background()

	resp := streamGet(t, viewer, "/ipfs/"+root.String()+"?filename=clip.bin", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	first := make([]byte, 4<<20)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	gc, err := viewer.GC(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := viewer.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks < 4 {
		t.Fatalf("GC during the response left %d blocks (removed %d): it took what the response holds", st.Blocks, gc.Removed)
	}
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("the response broke after a GC: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, file.at(0, file.size)) {
		t.Fatalf("the response after a GC gave %d bytes that differ from the file's", len(got))
	}

	// The request is over (its holds go when the handler returns, which
	// the client may see a moment after the last byte): GC takes the
	// cache.
	waitFor(t, 10*time.Second, "GC to collect the streamed file's blocks", func() bool {
		if _, err := viewer.GC(ctx, nil); err != nil {
			t.Fatal(err)
		}
		st, err := viewer.RepoStat(ctx)
		return err == nil && st.Blocks == 0
	})
}
