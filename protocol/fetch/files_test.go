package fetch

import (
	"context"
	"io"
	"testing"
	"time"

	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// TestFetchOnlyFiles fetches a folder's listing and two of its files:
// every folder (plain and HAMT-sharded) lists, the two files read whole,
// and no other file's content came.
func TestFetchOnlyFiles(t *testing.T) {
	// A folder of 2,000 files a HAMT: the profile's threshold would take
	// ~23,000 (the same shards, only more of them).
	was := uio.HAMTShardingSize
	uio.HAMTShardingSize = 16 << 10
	t.Cleanup(func() { uio.HAMTShardingSize = was })
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	// Every 97th file is 3 MiB.
	root := addFolders(t, src, 2, 2000, func(i int) int {
		if i%97 == 0 {
			return 3<<20 + i
		}
		return 1 + (i*131)%8192
	})
	serve(t, hs[1], src)
	ctx := testCtx(t, time.Minute)

	// What the source lists: every file, by folder.
	var all []dag.Entry
	dirs, err := dag.LsLinks(ctx, src, root)
	if err != nil {
		t.Fatal(err)
	}
	if blk, err := src.Get(ctx, dirs[0].Cid); err != nil {
		t.Fatal(err)
	} else if links, _ := blockstore.Links(blk); len(links) >= 2000 {
		t.Fatalf("the folder's block links all %d files: not a HAMT", len(links))
	}
	for _, d := range dirs {
		es, err := dag.LsLinks(ctx, src, d.Cid)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	var big, small dag.Entry
	for _, e := range all {
		if e.Cid.Type() == cid.DagProtobuf && !big.Cid.Defined() {
			big = e
		}
		if e.Cid.Type() == cid.Raw && e.Size > 1000 && !small.Cid.Defined() {
			small = e
		}
	}
	want := map[cid.Cid]bool{big.Cid: true, small.Cid: true}

	dst := blockstore.NewMemStore()
	res, err := NewFetcher(hs[0], dst).Fetch(ctx, root, infos(hs[1]), nil, OnlyFiles(func(c cid.Cid) bool { return want[c] }))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		es, err := dag.LsLinks(ctx, dst, d.Cid)
		if err != nil {
			t.Fatalf("list %s after the fetch: %v", d.Name, err)
		}
		if len(es) != 2000 {
			t.Fatalf("%s lists %d files, want 2000", d.Name, len(es))
		}
	}
	for _, e := range []dag.Entry{big, small} {
		b, _ := dagBlocks(t, src, e.Cid)
		for c := range b {
			if ok, _ := dst.Has(ctx, c); !ok {
				t.Fatalf("block %s of the wanted %s missing", c, e.Name)
			}
		}
	}
	var others int64
	for _, e := range all {
		if want[e.Cid] {
			continue
		}
		b, _ := dagBlocks(t, src, e.Cid)
		for c := range b {
			has, _ := dst.Has(ctx, c)
			if has && c != e.Cid {
				t.Fatalf("%s: a block below its first came, though it was not wanted", e.Name)
			}
			if has && e.Cid.Type() == cid.Raw {
				t.Fatalf("%s: the whole small file came, though it was not wanted", e.Name)
			}
		}
		others += int64(e.Size)
	}
	_, total := dagBlocks(t, src, root)
	if res.Bytes > total-others+int64(len(all))*1024 {
		t.Errorf("fetched %d bytes of %d: more than the folders, the files' first blocks and two files", res.Bytes, total)
	}

	// The rest comes with a plain fetch, from where that one left off.
	res2, err := NewFetcher(hs[0], dst).Fetch(ctx, root, infos(hs[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes+res2.Bytes != total {
		t.Errorf("fetched %d + %d bytes, want %d in all", res.Bytes, res2.Bytes, total)
	}
	checkFile(t, dst, big.Cid, readAll(t, src, big.Cid))
}

func readAll(tb testing.TB, bs blockstore.Blockstore, c cid.Cid) []byte {
	tb.Helper()
	r, _, err := dag.Open(context.Background(), bs, c)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
