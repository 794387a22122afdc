package node

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	merkledagpb "github.com/ipfs/boxo/ipld/merkledag/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
	"google.golang.org/protobuf/proto"

	"github.com/kith-p2p/kith/web/api"
)

func TestRateWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	type send struct {
		at time.Duration
		n  int64
	}
	tests := []struct {
		name  string
		sends []send
		at    time.Duration // when the rate is read
		want  float64
	}{
		{"nothing sent", nil, time.Second, 0},
		{"steady for 4 s", []send{{0, 1000}, {time.Second, 1000}, {2 * time.Second, 1000}, {3 * time.Second, 1000}}, 4 * time.Second, 1000},
		{"a new upload is not averaged with the time before it", []send{{0, 500}, {500 * time.Millisecond, 500}}, time.Second, 1000},
		{"a burst at once counts over one bucket", []send{{0, 1000}}, 0, 2000},
		// The window is 9 whole buckets and the one begun: 4.5 s here.
		{"old bytes leave the window", []send{{0, 1 << 20}, {6 * time.Second, 4500}}, 7 * time.Second, 1000},
		{"falls to 0 once idle for the window", []send{{0, 1 << 20}}, 6 * time.Second, 0},
		{"idle for a long time", []send{{0, 1 << 20}}, time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w rateWindow
			for _, s := range tt.sends {
				w.add(t0.Add(s.at), s.n)
			}
			if got := w.rate(t0.Add(tt.at), t0); math.Abs(got-tt.want) > tt.want/100+1e-9 {
				t.Fatalf("rate = %.1f B/s, want %.1f", got, tt.want)
			}
		})
	}
}

// testDAG is a root linking to an inner node linking to two raw leaves,
// beside a raw block of no DAG.
type testDAG struct {
	root, inner, leafA, leafB, stray blocks.Block
}

func rawBlock(t *testing.T, data string) blocks.Block {
	t.Helper()
	c, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := blocks.NewBlockWithCid([]byte(data), c)
	return b
}

func pbBlock(t *testing.T, links ...blocks.Block) blocks.Block {
	t.Helper()
	nd := &merkledagpb.PBNode{}
	for i, l := range links {
		name := fmt.Sprint(i)
		nd.Links = append(nd.Links, &merkledagpb.PBLink{Hash: l.Cid().Bytes(), Name: &name})
	}
	data, err := proto.Marshal(nd)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cid.Prefix{Version: 1, Codec: cid.DagProtobuf, MhType: multihash.SHA2_256, MhLength: -1}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := blocks.NewBlockWithCid(data, c)
	return b
}

func newTestDAG(t *testing.T) testDAG {
	d := testDAG{leafA: rawBlock(t, "leaf a"), leafB: rawBlock(t, "leaf bb"), stray: rawBlock(t, "nobody's")}
	d.inner = pbBlock(t, d.leafA, d.leafB)
	d.root = pbBlock(t, d.inner)
	return d
}

// TestUploadTracker: blocks are counted per peer under the root they were
// reached from, through the links of what was served before, whichever
// peer that was; a block reached from no pinned root counts under none;
// uploads idle for a minute leave the list.
func TestUploadTracker(t *testing.T) {
	d := newTestDAG(t)
	p1, p2 := peer.ID("peer-1"), peer.ID("peer-2")
	type served struct {
		to    peer.ID
		proto uploadProto
		b     blocks.Block
	}
	type row struct {
		peer   peer.ID
		root   cid.Cid
		bytes  int64
		protos []string
	}
	size := func(bs ...blocks.Block) int64 {
		var n int64
		for _, b := range bs {
			n += int64(len(b.RawData()))
		}
		return n
	}
	tests := []struct {
		name   string
		served []served
		want   []row
	}{
		{
			"a walk from the root",
			[]served{{p1, protoKith, d.root}, {p1, protoKith, d.inner}, {p1, protoKith, d.leafA}, {p1, protoKith, d.leafB}},
			[]row{{p1, d.root.Cid(), size(d.root, d.inner, d.leafA, d.leafB), []string{"kith"}}},
		},
		{
			"leaves without their parents",
			[]served{{p1, protoBitswap, d.leafA}, {p1, protoBitswap, d.leafB}},
			[]row{{p1, cid.Undef, size(d.leafA, d.leafB), []string{"bitswap"}}},
		},
		{
			"another peer's walk leads the way",
			[]served{{p1, protoKith, d.root}, {p1, protoKith, d.inner}, {p2, protoBitswap, d.leafA}, {p1, protoKith, d.leafB}},
			[]row{
				{p1, d.root.Cid(), size(d.root, d.inner, d.leafB), []string{"kith"}},
				{p2, d.root.Cid(), size(d.leafA), []string{"bitswap"}},
			},
		},
		{
			"a stray block beside a walk",
			[]served{{p1, protoKith, d.root}, {p1, protoBitswap, d.stray}, {p1, protoBitswap, d.inner}},
			[]row{
				{p1, d.root.Cid(), size(d.root, d.inner), []string{"kith", "bitswap"}},
				{p1, cid.Undef, size(d.stray), []string{"bitswap"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
			tr := newUploadTracker(func(c cid.Cid) bool { return c.Equals(d.root.Cid()) })
			tr.now = func() time.Time { return now }
			for _, s := range tt.served {
				now = now.Add(100 * time.Millisecond)
				tr.served(s.proto, s.to, s.b)
			}
			var got []row
			for _, s := range tr.list() {
				got = append(got, row{s.peer, s.root, s.bytes, s.protos.names()})
				if s.rate <= 0 || s.blocks == 0 || s.last.Before(s.since) {
					t.Errorf("upload %+v: no rate, blocks or times", s)
				}
			}
			sortRows := func(rs []row) {
				slices.SortFunc(rs, func(a, b row) int {
					return cmp.Or(cmp.Compare(a.peer, b.peer), cmp.Compare(a.root.KeyString(), b.root.KeyString()))
				})
			}
			sortRows(got)
			sortRows(tt.want)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("uploads\n got %v\nwant %v", got, tt.want)
			}
			now = now.Add(uploadIdle + time.Second)
			if left := tr.list(); len(left) != 0 {
				t.Fatalf("uploads idle for over a minute are still listed: %+v", left)
			}
		})
	}
}

// TestUploadTrackerFetched: a peer's word that its fetch of a root
// finished marks its upload of that root, listed a minute more; a block
// it asks for after unmarks it; a fetch of a root it was sent no block
// of here is listed with nothing sent; a root not pinned here is ignored.
func TestUploadTrackerFetched(t *testing.T) {
	d := newTestDAG(t)
	p1, p2 := peer.ID("peer-1"), peer.ID("peer-2")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tr := newUploadTracker(func(c cid.Cid) bool { return c.Equals(d.root.Cid()) })
	tr.now = func() time.Time { return now }
	finished := func() map[string]bool {
		out := map[string]bool{}
		for _, s := range tr.list() {
			if s.root.Equals(d.root.Cid()) {
				out[string(s.peer)] = s.finished
			}
		}
		return out
	}
	for _, b := range []blocks.Block{d.root, d.inner, d.leafA, d.leafB} {
		tr.served(protoKith, p1, b)
	}
	tr.fetched(p1, d.stray.Cid())
	if got := fmt.Sprint(finished()); got != "map[peer-1:false]" {
		t.Fatalf("before any word: %s", got)
	}
	now = now.Add(50 * time.Second)
	tr.fetched(p1, d.root.Cid())
	tr.fetched(p2, d.root.Cid())
	if got := fmt.Sprint(finished()); got != "map[peer-1:true peer-2:true]" {
		t.Fatalf("after their word: %s", got)
	}
	now = now.Add(30 * time.Second) // past a minute since p1's last block
	if got := fmt.Sprint(finished()); got != "map[peer-1:true peer-2:true]" {
		t.Fatalf("a finished upload left the list before a minute passed since the word: %s", got)
	}
	tr.served(protoKith, p1, d.root)
	if got := fmt.Sprint(finished()); got != "map[peer-1:false peer-2:true]" {
		t.Fatalf("after p1 asked again: %s", got)
	}
	for _, s := range tr.list() {
		if s.peer == p2 && (s.bytes != 0 || s.blocks != 0) {
			t.Errorf("p2, sent nothing here, is listed with %d bytes", s.bytes)
		}
	}
	if n := len(tr.list()); n != 2 {
		t.Errorf("%d uploads listed, want 2 (no entry for a root not pinned here)", n)
	}
}

// TestUploadTrackerBounded: past maxUploads uploads, the longest idle go.
func TestUploadTrackerBounded(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tr := newUploadTracker(func(cid.Cid) bool { return false })
	tr.now = func() time.Time { return now }
	b := rawBlock(t, "x")
	for i := range maxUploads + 10 {
		now = now.Add(time.Millisecond)
		tr.served(protoKith, peer.ID(fmt.Sprint("peer-", i)), b)
	}
	list := tr.list()
	if len(list) != maxUploads {
		t.Fatalf("%d uploads listed, want %d", len(list), maxUploads)
	}
	for _, s := range list {
		if s.peer == "peer-0" || s.peer == "peer-9" {
			t.Fatalf("%s, among the longest idle, is still listed", s.peer)
		}
	}
}

// TestBlockTrailBounded: the trail keeps at most two generations.
func TestBlockTrailBounded(t *testing.T) {
	var tr blockTrail
	root := rawBlock(t, "root").Cid()
	first := rawBlock(t, "block 0").Cid()
	tr.put(first, root)
	for i := 1; i <= 2*trailMax; i++ {
		tr.put(rawBlock(t, fmt.Sprint("block ", i)).Cid(), root)
	}
	if _, ok := tr.get(first); ok {
		t.Fatal("the first block is still on the trail after two generations")
	}
	if got := len(tr.cur) + len(tr.old); got > 2*trailMax {
		t.Fatalf("the trail holds %d entries, over %d", got, 2*trailMax)
	}
	last := rawBlock(t, fmt.Sprint("block ", 2*trailMax)).Cid()
	if r, ok := tr.get(last); !ok || !r.Equals(root) {
		t.Fatal("the newest block is not on the trail")
	}
}

// TestUploadsShowWhoDownloads: while B gets a file from A, A lists the
// upload to B with the file's root, its pin name, the protocol and a rate;
// once done, the bytes are all the file's blocks, under that root only.
func TestUploadsShowWhoDownloads(t *testing.T) {
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	b := newLocalNode(t)
	data := randomData(12 << 20)
	root := addData(t, a, data)
	connect(t, b, a.Host())
	if list, err := a.Uploads(context.Background()); err != nil || len(list) != 0 {
		t.Fatalf("uploads before any: %+v, %v", list, err)
	}
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "")
	if err != nil {
		t.Fatal(err)
	}
	mid := waitUpload(t, a, b.Host().ID(), func(u api.Upload) bool { return u.Bytes > 0 && u.Rate > 0 })
	if mid.Cid != root.String() || mid.Name != "data.bin" || fmt.Sprint(mid.Protocols) != "[kith]" ||
		mid.Since.IsZero() || mid.Last.Before(mid.Since) || !strings.HasPrefix(mid.Agent, "kith/") {
		t.Fatalf("upload while running %+v", mid)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.State == api.JobDone })
	done := waitUpload(t, a, b.Host().ID(), func(u api.Upload) bool { return u.Bytes >= int64(len(data)) })
	if done.Bytes > int64(len(data))+1<<20 || done.Blocks != 13 {
		t.Fatalf("upload after the get %+v, want the 13 blocks of %d bytes", done, len(data))
	}
	list, err := a.Uploads(context.Background())
	if err != nil || len(list) != 1 || list[0].Cid != root.String() {
		t.Fatalf("uploads after the get: %+v, %v; want one, of %s", list, err, root)
	}
	// B tells A its fetch finished.
	waitUpload(t, a, b.Host().ID(), func(u api.Upload) bool { return u.Finished })
}
