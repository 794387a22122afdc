package dag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// TestDiff: what differs between two versions of a folder, as a watched
// folder's recent changes name it.
func TestDiff(t *testing.T) {
	big := detBytes(21, 3<<20) // several blocks: a file root of dag-pb
	base := func() tree {
		return tree{
			"a.txt": []byte("one"),
			"b.txt": []byte("bee"),
			"big":   big,
			"docs":  tree{"c.txt": []byte("sea"), "deep": tree{"d.txt": []byte("dee")}},
			"ln":    link("a.txt"),
		}
	}
	tests := []struct {
		name string
		edit func(tr tree)
		want []string
	}{
		{"same", func(tree) {}, nil},
		{"changed", func(tr tree) { tr["a.txt"] = []byte("two") }, []string{"written a.txt"}},
		{"added", func(tr tree) { tr["new.txt"] = []byte("new") }, []string{"written new.txt"}},
		{"removed", func(tr tree) { delete(tr, "b.txt") }, []string{"removed b.txt"}},
		{"changed deep", func(tr tree) { tr["docs"].(tree)["deep"].(tree)["d.txt"] = []byte("d2") }, []string{"written docs/deep/d.txt"}},
		{"folder added", func(tr tree) { tr["new"] = tree{"x": []byte("x"), "y": tree{"z": []byte("z")}, "empty": tree{}} },
			[]string{"written new/x", "written new/y/z"}},
		{"folder removed", func(tr tree) { delete(tr, "docs") },
			[]string{"removed docs/", "removed docs/c.txt", "removed docs/deep/", "removed docs/deep/d.txt"}},
		{"renamed", func(tr tree) { tr["b2.txt"] = tr["b.txt"]; delete(tr, "b.txt") }, []string{"moved b2.txt"}},
		{"big moved into a folder", func(tr tree) { tr["docs"].(tree)["big"] = big; delete(tr, "big") }, []string{"moved docs/big"}},
		{"folder renamed", func(tr tree) { tr["papers"] = tr["docs"]; delete(tr, "docs") },
			[]string{"removed docs/", "removed docs/deep/", "moved papers/c.txt", "moved papers/deep/d.txt"}},
		{"copied", func(tr tree) { tr["b2.txt"] = []byte("bee") }, []string{"written b2.txt"}},
		{"file became a folder", func(tr tree) { tr["a.txt"] = tree{"in": []byte("in")} },
			[]string{"removed a.txt", "written a.txt/in"}},
		{"folder became a file", func(tr tree) { tr["docs"] = []byte("flat") },
			[]string{"written docs", "removed docs/", "removed docs/c.txt", "removed docs/deep/", "removed docs/deep/d.txt"}},
		{"link changed", func(tr tree) { tr["ln"] = link("b.txt") }, []string{"written ln"}},
		{"written over with the bytes of one removed", func(tr tree) { tr["a.txt"] = []byte("bee"); delete(tr, "b.txt") },
			[]string{"written a.txt", "removed b.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			old := importNode(t, bs, base().node()).Root
			tr := base()
			tt.edit(tr)
			new := importNode(t, bs, tr.node()).Root
			diffs, err := Diff(context.Background(), bs, old, new, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.What+" "+d.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDiffReadsOnlyWhatChanged: a folder the two versions share is not
// read (its blocks may be gone); limit cuts the list; two files give one
// difference; a version that is not here is an error saying so.
func TestDiffReadsOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	same := tree{}
	for i := range 20 {
		same[fmt.Sprint(i)] = []byte(fmt.Sprint("file ", i))
	}
	many := tree{}
	for i := range 30 {
		many[fmt.Sprintf("f%02d", i)] = []byte(fmt.Sprint("new ", i))
	}
	old := importNode(t, bs, tree{"same": same, "x": []byte("x")}.node()).Root
	new := importNode(t, bs, tree{"same": same, "x": []byte("y"), "many": many}.node()).Root
	sameDir, err := Resolve(ctx, bs, old, []string{"same"})
	if err != nil {
		t.Fatal(err)
	}
	dropDAG(t, bs, sameDir)
	diffs, err := Diff(ctx, bs, old, new, 5)
	if err != nil {
		t.Fatalf("Diff read a folder both versions have: %v", err)
	}
	if len(diffs) != 5 || diffs[0].Path != "many/f00" || diffs[4].Path != "many/f04" {
		t.Fatalf("Diff with limit 5 = %+v", diffs)
	}

	// A sharded (HAMT) folder is listed by its names too.
	big := hamtTree(HAMTShardingThreshold/236 + 1)
	hamt := importNode(t, bs, tree{"h": big}.node()).Root
	big[fmt.Sprintf("%0200d", 7)] = []byte("changed")
	big["added"] = []byte("added")
	hamt2 := importNode(t, bs, tree{"h": big}.node()).Root
	if diffs, err := Diff(ctx, bs, hamt, hamt2, 0); err != nil || len(diffs) != 2 || diffs[0].Path != fmt.Sprintf("h/%0200d", 7) || diffs[1].Path != "h/added" {
		t.Fatalf("a sharded folder: %+v, %v", diffs, err)
	}

	a := importNode(t, bs, files.NewBytesFile([]byte("a"))).Root
	b := importNode(t, bs, files.NewBytesFile([]byte("b"))).Root
	if diffs, err := Diff(ctx, bs, a, b, 0); err != nil || len(diffs) != 1 || diffs[0] != (Difference{What: DiffWritten}) {
		t.Fatalf("two files: %+v, %v", diffs, err)
	}
	if diffs, err := Diff(ctx, bs, a, a, 0); err != nil || len(diffs) != 0 {
		t.Fatalf("a file and itself: %+v, %v", diffs, err)
	}
	gone := importNode(t, blockstore.NewMemStore(), tree{"z": []byte("z")}.node()).Root
	if _, err := Diff(ctx, bs, gone, new, 0); !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("Diff from a version not here: %v, want ErrNotFound", err)
	}
}

// BenchmarkDiff: what a watched folder's share costs to say what changed:
// 10,000 files in 100 folders, one file changed (the usual share), and
// all of them new (a folder moved in whole).
func BenchmarkDiff(b *testing.B) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := tree{}
	for d := range 100 {
		sub := tree{}
		for f := range 100 {
			sub[fmt.Sprintf("f%03d.txt", f)] = []byte(fmt.Sprint("file ", d, " ", f))
		}
		tr[fmt.Sprintf("d%03d", d)] = sub
	}
	old := importNode(b, bs, tr.node()).Root
	tr["d050"].(tree)["f050.txt"] = []byte("changed")
	one := importNode(b, bs, tr.node()).Root
	all := importNode(b, bs, tree{"moved-in": tr}.node()).Root
	empty := importNode(b, bs, tree{}.node()).Root
	for _, bc := range []struct {
		name     string
		old, new cid.Cid
	}{{"one-changed", old, one}, {"10k-new", empty, all}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Diff(ctx, bs, bc.old, bc.new, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
