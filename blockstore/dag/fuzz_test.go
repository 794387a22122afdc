package dag

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/protocol/allocs"
)

// FuzzImportCAR feeds ImportCAR a CAR file (the body of POST /import) over
// an in-memory store. Errors are expected; what must hold is that every
// block stored hashes to its CID under a hash kith trusts, that the count
// returned is what was stored, and that reading allocates in proportion to
// the input, not to the lengths it declares.
func FuzzImportCAR(f *testing.F) {
	ctx := context.Background()
	src := blockstore.NewMemStore()
	folder := importNode(f, src, tree{
		"a.txt": detBytes(1, 1000),
		"sub":   tree{"b.txt": []byte("hello kith\n"), "empty": tree{}},
	}.node(), WithChunkSize(256))
	var v1, v2 bytes.Buffer
	if err := ExportCAR(ctx, src, folder.Root, &v1); err != nil {
		f.Fatal(err)
	}
	if err := carv2.WrapV1(bytes.NewReader(v1.Bytes()), &v2); err != nil {
		f.Fatal(err)
	}
	f.Add(v1.Bytes())
	f.Add(v2.Bytes())
	data := []byte("one raw block")
	raw := rawCID(f, data, mh.SHA2_256, -1)
	f.Add(carWith(f, []cid.Cid{raw}, map[cid.Cid][]byte{raw: data}))
	f.Add(carWith(f, []cid.Cid{raw}, nil))
	f.Add(carWith(f, []cid.Cid{raw}, map[cid.Cid][]byte{raw: []byte("not what it hashes to")}))
	f.Fuzz(func(t *testing.T, car []byte) {
		bs := blockstore.NewMemStore()
		var roots []cid.Cid
		var n int
		var err error
		// Fixed costs: the 1 MiB read buffer and one block of the largest
		// size a section may declare.
		if a := allocs.During(func() { roots, n, err = ImportCAR(ctx, bs, bytes.NewReader(car)) }); a > 8<<20+64*uint64(len(car)) {
			t.Fatalf("importing %d bytes allocated %d", len(car), a)
		}
		stored := 0
		if err := bs.AllKeys(ctx, func(c cid.Cid) error {
			stored++
			blk, err := bs.Get(ctx, c)
			if err != nil {
				return err
			}
			if err := CheckCID(c); err != nil {
				t.Fatalf("stored a block named with a weak hash: %v", err)
			}
			if sum, err := c.Prefix().Sum(blk.RawData()); err != nil || !sum.Equals(c) {
				t.Fatalf("stored block %s does not hash to its CID (%v)", c, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		if n != stored {
			t.Fatalf("ImportCAR reported %d blocks, the store holds %d", n, stored)
		}
		if len(roots) > MaxCARRoots {
			t.Fatalf("%d roots accepted", len(roots))
		}
		for _, r := range roots {
			if err := CheckCID(r); err != nil {
				t.Fatalf("root named with a weak hash accepted: %v", err)
			}
		}
	})
}
