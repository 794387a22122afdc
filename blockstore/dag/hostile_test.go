package dag

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	format "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
)

// TestWriteToRefusesALyingSize: a file root that claims a petabyte over one
// 5-byte leaf does not pass for a whole file; nothing is left at the output
// path, nor a temporary file beside it.
func TestWriteToRefusesALyingSize(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	leafData := []byte("hello")
	sum, _ := mh.Sum(leafData, mh.SHA2_256, -1)
	leaf, _ := blocks.NewBlockWithCid(leafData, cid.NewCidV1(cid.Raw, sum))
	if err := bs.Put(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	fsn := ft.NewFSNode(ft.TFile)
	fsn.AddBlockSize(5)
	fsn.UpdateFilesize(1 << 50)
	data, err := fsn.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	root := merkledag.NodeWithData(data)
	root.SetCidBuilder(cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256})
	if err := root.AddRawLink("", &format.Link{Cid: leaf.Cid(), Size: 5}); err != nil {
		t.Fatal(err)
	}
	if err := bs.Put(ctx, root); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	err = WriteTo(ctx, bs, root.Cid(), out, nil)
	if !errors.Is(err, ErrInconsistent) {
		t.Fatalf("WriteTo of a lying root: %v, want ErrInconsistent", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestWriteToRemovesLeftovers: a temporary file left by an interrupted
// write (a killed daemon) is removed by the next write to the same path.
func TestWriteToRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	res := importNode(t, bs, files.NewBytesFile([]byte("content")))
	dir := t.TempDir()
	stale := filepath.Join(dir, ".out.kith-tmp-123456")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTo(ctx, bs, res.Root, filepath.Join(dir, "out"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the leftover is still there: %v", err)
	}
}
