package dag

import (
	"context"
	"sort"
	"testing"

	"github.com/ipfs/boxo/files"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// refImport builds tr the way Kubo's adder does: one boxo DynamicDirectory
// per folder, children added one at a time with AddChild, in name order or
// (reverse) the opposite.
func refImport(t *testing.T, ds *dagService, tr tree, reverse bool) ipld.Node {
	t.Helper()
	ctx := context.Background()
	dir, err := uio.NewDirectory(ds, uio.WithMaxLinks(0), uio.WithMaxHAMTFanout(HAMTFanout), uio.WithCidBuilder(NewImporter(nil).prefix))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(tr))
	for n := range tr {
		names = append(names, n)
	}
	sort.Strings(names)
	if reverse {
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	for _, name := range names {
		var nd ipld.Node
		switch v := tr[name].(type) {
		case []byte:
			res, err := NewImporter(ds.bs).Add(ctx, files.NewBytesFile(v), nil)
			if err != nil {
				t.Fatal(err)
			}
			if nd, err = (readDAG{ds.bs}).Get(ctx, res.Root); err != nil {
				t.Fatal(err)
			}
		case tree:
			nd = refImport(t, ds, v, reverse)
		}
		if err := dir.AddChild(ctx, name, nd); err != nil {
			t.Fatal(err)
		}
	}
	nd, err := dir.GetNode()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Add(ctx, nd); err != nil {
		t.Fatal(err)
	}
	return nd
}

// The importer's direct folder construction must give the same CIDs as
// boxo's DynamicDirectory, in any insertion order, on both sides of the
// sharding threshold.
func TestDirMatchesDynamicDirectory(t *testing.T) {
	tests := []struct {
		name string
		tr   tree
	}{
		{"sample", sampleTree()},
		{"just under threshold", hamtTree(HAMTShardingThreshold / 236)},
		// 4444 keys in 1024 slots collide, so this one has sub-shards too.
		{"at threshold", hamtTree(HAMTShardingThreshold/236 + 1)},
		{"nested HAMT", tree{"a": hamtTree(5000), "b": tree{"c": []byte("x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importNode(t, blockstore.NewMemStore(), tt.tr.node())
			for _, reverse := range []bool{false, true} {
				ds := newDAGService(context.Background(), blockstore.NewMemStore())
				want := refImport(t, ds, tt.tr, reverse)
				if err := ds.close(); err != nil {
					t.Fatal(err)
				}
				if got.Root != want.Cid() {
					t.Errorf("reverse=%v: importer root %s, DynamicDirectory root %s", reverse, got.Root, want.Cid())
				}
			}
		})
	}
}
