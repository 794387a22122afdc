package dag

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"

	"github.com/kith-p2p/kith/blockstore"
)

func TestCARRoundTrip(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		tr   tree
	}{
		{"sample folder", sampleTree()},
		{"HAMT folder", hamtTree(5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := blockstore.NewMemStore()
			res := importNode(t, src, tt.tr.node())
			var car, again bytes.Buffer
			if err := ExportCAR(ctx, src, res.Root, &car); err != nil {
				t.Fatal(err)
			}
			if err := ExportCAR(ctx, src, res.Root, &again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(car.Bytes(), again.Bytes()) {
				t.Error("two exports of one DAG differ")
			}
			order := carOrder(t, car.Bytes())
			if len(order) != res.Blocks || order[0] != res.Root {
				t.Errorf("CAR has %d blocks starting with %s; want %d starting with the root", len(order), order[0], res.Blocks)
			}

			// CARv2 input too: the same payload wrapped with a header and index.
			var v2 bytes.Buffer
			if err := carv2.WrapV1(bytes.NewReader(car.Bytes()), &v2); err != nil {
				t.Fatal(err)
			}
			if _, n, err := ImportCAR(ctx, blockstore.NewMemStore(), &v2); err != nil || n != res.Blocks {
				t.Errorf("ImportCAR(v2) = %d blocks, %v; want %d", n, err, res.Blocks)
			}

			dst := &hookStore{Blockstore: blockstore.NewMemStore()}
			roots, n, err := ImportCAR(ctx, dst, bytes.NewReader(car.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if len(roots) != 1 || roots[0] != res.Root || n != res.Blocks {
				t.Errorf("ImportCAR = %v, %d; want [%s], %d", roots, n, res.Root, res.Blocks)
			}
			if dst.syncCalls.Load() != 1 {
				t.Errorf("Sync called %d times", dst.syncCalls.Load())
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := WriteTo(ctx, dst, res.Root, out, nil); err != nil {
				t.Fatal(err)
			}
			diffTrees(t, "", tt.tr, readDisk(t, out))
		})
	}
}

// carOrder lists the CIDs of a CAR in file order.
func carOrder(t *testing.T, car []byte) []cid.Cid {
	t.Helper()
	br, err := carv2.NewBlockReader(bytes.NewReader(car), carv2.WithTrustedCAR(true))
	if err != nil {
		t.Fatal(err)
	}
	var out []cid.Cid
	for {
		b, err := br.Next()
		if err != nil {
			break
		}
		out = append(out, b.Cid())
	}
	return out
}

func TestImportCARRejectsTamperedBlock(t *testing.T) {
	ctx := context.Background()
	src := blockstore.NewMemStore()
	res := importNode(t, src, sampleTree().node())
	var car bytes.Buffer
	if err := ExportCAR(ctx, src, res.Root, &car); err != nil {
		t.Fatal(err)
	}
	raw := car.Bytes()
	i := bytes.Index(raw, []byte("hello kith\n"))
	if i < 0 {
		t.Fatal("content not found in CAR")
	}
	raw[i] = 'J' // "Jello kith"
	order := carOrder(t, raw)
	helloCid := mustCid(t, "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe")
	at := -1
	for k, c := range order {
		if c == helloCid {
			at = k
		}
	}
	if at < 0 || at == len(order)-1 {
		t.Fatalf("tampered block at %d of %d; want one with blocks after it", at, len(order))
	}

	dst := &hookStore{Blockstore: blockstore.NewMemStore()}
	_, _, err := ImportCAR(ctx, dst, bytes.NewReader(raw))
	if !errors.Is(err, ErrBadBlock) || !strings.Contains(err.Error(), helloCid.String()) {
		t.Fatalf("err = %v, want ErrBadBlock naming %s", err, helloCid)
	}
	for _, c := range order[at:] {
		if ok, _ := dst.Has(ctx, c); ok {
			t.Errorf("block %s at or after the bad one was stored", c)
		}
	}
	if dst.syncCalls.Load() != 0 {
		t.Error("Sync called after a rejected CAR")
	}
}

func TestImportCARRejectsGarbage(t *testing.T) {
	_, _, err := ImportCAR(context.Background(), blockstore.NewMemStore(), strings.NewReader("not a car"))
	if err == nil {
		t.Fatal("garbage accepted")
	}
}
