package dag

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	carstorage "github.com/ipld/go-car/v2/storage"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/blockstore"
)

// carWith writes a CARv1 naming roots and holding blocks (CID -> bytes).
func carWith(t testing.TB, roots []cid.Cid, blocks map[cid.Cid][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := carstorage.NewWritable(&buf, roots, carv2.WriteAsCarV1(true))
	if err != nil {
		t.Fatal(err)
	}
	for c, data := range blocks {
		if err := w.Put(context.Background(), c.KeyString(), data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finalize(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rawCID(t testing.TB, data []byte, code uint64, length int) cid.Cid {
	t.Helper()
	sum, err := mh.Sum(data, code, length)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, sum)
}

// TestImportCARRefusesWeakHashes: blocks and roots named with hashes that
// can be forged (md5, a sha2-256 cut to 8 bytes) are refused, and so is a
// CAR naming more roots than kith imports.
func TestImportCARRefusesWeakHashes(t *testing.T) {
	data := []byte("weakly named")
	md5 := rawCID(t, data, mh.MD5, -1)
	short := rawCID(t, data, mh.SHA2_256, 8)
	good := rawCID(t, data, mh.SHA2_256, -1)
	many := make([]cid.Cid, MaxCARRoots+1)
	for i := range many {
		many[i] = rawCID(t, []byte{byte(i), byte(i >> 8)}, mh.SHA2_256, -1)
	}
	tests := []struct {
		name string
		car  []byte
		want error
	}{
		{"md5 block", carWith(t, []cid.Cid{good}, map[cid.Cid][]byte{md5: data}), ErrWeakHash},
		{"truncated sha2-256 block", carWith(t, []cid.Cid{good}, map[cid.Cid][]byte{short: data}), ErrWeakHash},
		{"md5 root", carWith(t, []cid.Cid{md5}, nil), ErrWeakHash},
		{"too many roots", carWith(t, many, nil), ErrBadBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			_, _, err := ImportCAR(context.Background(), bs, bytes.NewReader(tt.car))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ImportCAR: %v, want %v", err, tt.want)
			}
		})
	}
	// The good one is fine.
	if _, n, err := ImportCAR(context.Background(), blockstore.NewMemStore(), bytes.NewReader(carWith(t, []cid.Cid{good}, map[cid.Cid][]byte{good: data}))); err != nil || n != 1 {
		t.Fatalf("a good CAR: %d blocks, %v", n, err)
	}
}

// TestImportCARBlockSize: a block of 2 MiB (the largest kith and Bitswap
// carry) imports; a larger one is refused before it is read.
func TestImportCARBlockSize(t *testing.T) {
	for _, tt := range []struct {
		size int
		ok   bool
	}{{2 << 20, true}, {2<<20 + 1<<10, false}} {
		data := detBytes(7, tt.size)
		c := rawCID(t, data, mh.SHA2_256, -1)
		_, n, err := ImportCAR(context.Background(), blockstore.NewMemStore(), bytes.NewReader(carWith(t, []cid.Cid{c}, map[cid.Cid][]byte{c: data})))
		if ok := err == nil && n == 1; ok != tt.ok {
			t.Errorf("a block of %d bytes: %d blocks, %v", tt.size, n, err)
		}
	}
}
