package fetch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// TestWalkBoundsWantedLeaves: with the leaves wanted at once and the
// walker's backlog limited, the walker stops expanding folders at the
// limit (plus the links of the one folder that crossed it), the scheduler
// stops asking for folders while the walker waits or holds its backlog,
// and the fetch still completes with every block. Without the limits all
// 3,000 leaves are wanted at once and the 120 folders wait in a walker that
// stalls (as the test makes it, at its first folder).
func TestWalkBoundsWantedLeaves(t *testing.T) {
	const folders, files, limit, backlog = 120, 25, 200, 8
	for _, tc := range []struct {
		name              string
		limit, backlog    int
		maxPeak, maxQueue int
	}{
		// The backlog can pass its limit by the folders asked for
		// before it filled: a quarter of it per batch in flight.
		{"limited", limit, backlog, limit + files, 5 * backlog},
		{"default", 0, 0, folders * files, folders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, hs := newMocknet(t, 2)
			src := blockstore.NewMemStore()
			root := addFolders(t, src, folders, files, func(int) int { return 2 << 10 })
			serve(t, hs[1], src)
			dst := blockstore.NewMemStore()
			f := NewFetcher(hs[0], dst)
			f.leafLimit, f.backlogLimit = tc.limit, tc.backlog
			var mu sync.Mutex
			peak, queue := 0, 0
			var once sync.Once
			f.walkHook = func(wk *walker) {
				// The walker stops at its first folder until the folders
				// have all come or 2 s have passed: the scheduler, not the
				// walker's speed, must keep them from piling up.
				once.Do(func() {
					deadline := time.Now().Add(2 * time.Second)
					for wk.backlog() < folders-1 && time.Now().Before(deadline) {
						time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
					}
				})
				mu.Lock()
				peak, queue = max(peak, wk.r.sched.wantedLeaves()), max(queue, wk.backlog())
				mu.Unlock()
			}
			if _, err := f.Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil); err != nil {
				t.Fatal(err)
			}
			want, _ := dagBlocks(t, src, root)
			for c := range want {
				if ok, err := dst.Has(context.Background(), c); !ok || err != nil {
					t.Fatalf("block %s missing after the fetch (%v)", c, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("at most %d leaves wanted and %d blocks waiting for the walker", peak, queue)
			if peak > tc.maxPeak || queue > tc.maxQueue {
				t.Fatalf("%d leaves wanted at once and %d blocks waiting for the walker, want at most %d and %d", peak, queue, tc.maxPeak, tc.maxQueue)
			}
			if tc.limit == 0 && (peak < tc.maxPeak/2 || queue < folders/2) {
				t.Fatalf("only %d leaves wanted at once and %d blocks waiting without limits: the check does not see the walk", peak, queue)
			}
		})
	}
}

// TestFetchRepeatedContent: a DAG that repeats content (the same leaf in
// every folder, identical folders, and a node linking the same child at
// every level, which walked naively takes 2^40 steps) is fetched whole,
// each distinct block about once: into an empty store, and resumed into one
// that has every dag-pb node already.
func TestFetchRepeatedContent(t *testing.T) {
	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	ctx := context.Background()
	link := func(nd *merkledag.ProtoNode, name string, to ipld.Node) {
		t.Helper()
		if err := nd.AddNodeLink(name, to); err != nil {
			t.Fatal(err)
		}
	}
	put := func(nd *merkledag.ProtoNode) cid.Cid {
		t.Helper()
		if err := src.Put(ctx, nd); err != nil {
			t.Fatal(err)
		}
		return nd.Cid()
	}
	leaf := merkledag.NewRawNode(detBytes(7, 3000))
	other := merkledag.NewRawNode(detBytes(8, 5000))
	for _, b := range []*merkledag.RawNode{leaf, other} {
		if err := src.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// A folder-like node with the same leaf 20 times and another once.
	folder := merkledag.NodeWithData([]byte{8, 1})
	for i := range 20 {
		link(folder, fmt.Sprint(i), leaf)
	}
	link(folder, "other", other)
	put(folder)
	// 40 levels, each linking the level below twice.
	level := folder
	for range 40 {
		up := merkledag.NodeWithData([]byte{8, 1})
		link(up, "a", level)
		link(up, "b", level)
		put(up)
		level = up
	}
	root := merkledag.NodeWithData([]byte{8, 1})
	link(root, "deep", level)
	link(root, "folder", folder)
	rc := put(root)
	serve(t, hs[1], src)
	want, _ := dagBlocks(t, src, rc)
	// Fetched into an empty store, and resumed into one that has every
	// dag-pb node already (there every repeat is found locally at once).
	for _, resumed := range []bool{false, true} {
		dst := blockstore.NewMemStore()
		fetched := len(want)
		if resumed {
			for c := range want {
				if c.Type() == cid.DagProtobuf {
					b, _ := src.Get(ctx, c)
					if err := dst.Put(ctx, b); err != nil {
						t.Fatal(err)
					}
					fetched--
				}
			}
		}
		res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, 20*time.Second), rc, infos(hs[1]), nil)
		if err != nil {
			t.Fatalf("resumed %v: %v", resumed, err)
		}
		for c := range want {
			if ok, err := dst.Has(ctx, c); !ok || err != nil {
				t.Fatalf("resumed %v: block %s missing after the fetch (%v)", resumed, c, err)
			}
		}
		// Every distinct block once; a repeated leaf met again while it
		// waits for the store writer may come twice.
		if res.Blocks < fetched || res.Blocks > fetched+2 {
			t.Fatalf("resumed %v: %d blocks fetched for %d distinct ones", resumed, res.Blocks, fetched)
		}
	}
}
