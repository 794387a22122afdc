// Package storetest is the conformance suite for blockstore.Blockstore and
// blockstore.PinStore. Every implementation runs it, so the in-memory twin
// used by fast tests cannot drift from the Badger store the daemon uses.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// RunBlockstore runs the Blockstore conformance suite. newStore must return
// a fresh, empty store for each subtest and arrange its cleanup.
func RunBlockstore(t *testing.T, newStore func(t *testing.T) blockstore.Blockstore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, bs blockstore.Blockstore)
	}{
		{"PutGetRoundtrip", testPutGet},
		{"EmptyBlock", testEmptyBlock},
		{"StoresCopies", testStoresCopies},
		{"GetMiss", testGetMiss},
		{"Has", testHas},
		{"GetSize", testGetSize},
		{"Delete", testDelete},
		{"PutMany1000", testPutMany},
		{"AllKeys", testAllKeys},
		{"AllKeysStopsOnError", testAllKeysError},
		{"AllKeysCancel", testAllKeysCancel},
		{"CIDv0AndV1", testCIDVersions},
		{"IdempotentPut", testIdempotentPut},
		{"Concurrent", testConcurrent},
		{"ReadBlockIntoBuffer", testReadBlock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func mustPut(t *testing.T, bs blockstore.Blockstore, b blocks.Block) {
	t.Helper()
	if err := bs.Put(context.Background(), b); err != nil {
		t.Fatalf("Put %s: %v", b.Cid(), err)
	}
}

func mustGet(t *testing.T, bs blockstore.Blockstore, c cid.Cid) blocks.Block {
	t.Helper()
	b, err := bs.Get(context.Background(), c)
	if err != nil {
		t.Fatalf("Get %s: %v", c, err)
	}
	return b
}

func mustHas(t *testing.T, bs blockstore.Blockstore, c cid.Cid, want bool) {
	t.Helper()
	got, err := bs.Has(context.Background(), c)
	if err != nil {
		t.Fatalf("Has %s: %v", c, err)
	}
	if got != want {
		t.Fatalf("Has %s = %v, want %v", c, got, want)
	}
}

// checkMiss asserts err is a miss that matches ErrNotFound and names c.
func checkMiss(t *testing.T, what string, err error, c cid.Cid) {
	t.Helper()
	if !errors.Is(err, blockstore.ErrNotFound) {
		t.Fatalf("%s of absent %s: err = %v, want ErrNotFound", what, c, err)
	}
	var nf *blockstore.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("%s of absent %s: err %v is not a *NotFoundError", what, c, err)
	}
	if !nf.Cid.Equals(c) {
		t.Fatalf("%s: NotFoundError carries %s, want %s", what, nf.Cid, c)
	}
}

// allKeys collects AllKeys as multihash string -> CID.
func allKeys(t *testing.T, bs blockstore.Blockstore) map[string]cid.Cid {
	t.Helper()
	out := make(map[string]cid.Cid)
	err := bs.AllKeys(context.Background(), func(c cid.Cid) error {
		if _, dup := out[string(c.Hash())]; dup {
			return fmt.Errorf("AllKeys yielded %s twice", c)
		}
		out[string(c.Hash())] = c
		return nil
	})
	if err != nil {
		t.Fatalf("AllKeys: %v", err)
	}
	return out
}

func testPutGet(t *testing.T, bs blockstore.Blockstore) {
	b := RawBlock(t, []byte("hello kith"))
	mustPut(t, bs, b)
	got := mustGet(t, bs, b.Cid())
	if !got.Cid().Equals(b.Cid()) {
		t.Fatalf("Get returned CID %s, want %s", got.Cid(), b.Cid())
	}
	if !bytes.Equal(got.RawData(), b.RawData()) {
		t.Fatalf("Get returned %q, want %q", got.RawData(), b.RawData())
	}
}

func testEmptyBlock(t *testing.T, bs blockstore.Blockstore) {
	b := RawBlock(t, []byte{})
	mustPut(t, bs, b)
	if got := mustGet(t, bs, b.Cid()); len(got.RawData()) != 0 {
		t.Fatalf("empty block came back with %d bytes", len(got.RawData()))
	}
	size, err := bs.GetSize(context.Background(), b.Cid())
	if err != nil || size != 0 {
		t.Fatalf("GetSize(empty) = %d, %v; want 0, nil", size, err)
	}
}

func testStoresCopies(t *testing.T, bs blockstore.Blockstore) {
	data := []byte("immutable once stored")
	b := RawBlock(t, data)
	mustPut(t, bs, b)
	data[0] = 'X' // the caller reuses its buffer
	got := mustGet(t, bs, b.Cid())
	got.RawData()[1] = 'Y' // a reader scribbles on what it got
	again := mustGet(t, bs, b.Cid())
	if string(again.RawData()) != "immutable once stored" {
		t.Fatalf("stored bytes changed to %q: store must copy on Put and Get", again.RawData())
	}
}

func testGetMiss(t *testing.T, bs blockstore.Blockstore) {
	c := RawBlock(t, []byte("never stored")).Cid()
	_, err := bs.Get(context.Background(), c)
	checkMiss(t, "Get", err, c)
}

func testHas(t *testing.T, bs blockstore.Blockstore) {
	b := RawBlock(t, []byte("has"))
	mustHas(t, bs, b.Cid(), false)
	mustPut(t, bs, b)
	mustHas(t, bs, b.Cid(), true)
}

func testGetSize(t *testing.T, bs blockstore.Blockstore) {
	small := RawBlock(t, []byte("twelve bytes"))
	big := RawBlock(t, bytes.Repeat([]byte{7}, 300_000)) // past any inline threshold
	for _, b := range []blocks.Block{small, big} {
		mustPut(t, bs, b)
		size, err := bs.GetSize(context.Background(), b.Cid())
		if err != nil {
			t.Fatalf("GetSize %s: %v", b.Cid(), err)
		}
		if size != len(b.RawData()) {
			t.Fatalf("GetSize %s = %d, want %d", b.Cid(), size, len(b.RawData()))
		}
	}
	c := RawBlock(t, []byte("absent")).Cid()
	_, err := bs.GetSize(context.Background(), c)
	checkMiss(t, "GetSize", err, c)
}

func testDelete(t *testing.T, bs blockstore.Blockstore) {
	ctx := context.Background()
	b := RawBlock(t, []byte("doomed"))
	keep := RawBlock(t, []byte("kept"))
	mustPut(t, bs, b)
	mustPut(t, bs, keep)
	if err := bs.Delete(ctx, b.Cid()); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustHas(t, bs, b.Cid(), false)
	_, err := bs.Get(ctx, b.Cid())
	checkMiss(t, "Get after Delete", err, b.Cid())
	mustHas(t, bs, keep.Cid(), true)
	if err := bs.Delete(ctx, b.Cid()); err != nil {
		t.Fatalf("Delete of absent block: %v, want nil", err)
	}
	if keys := allKeys(t, bs); len(keys) != 1 {
		t.Fatalf("AllKeys after Delete has %d keys, want 1", len(keys))
	}
}

func testPutMany(t *testing.T, bs blockstore.Blockstore) {
	bl := make([]blocks.Block, 1000)
	for i := range bl {
		bl[i] = RawBlock(t, fmt.Appendf(nil, "block %d", i))
	}
	if err := bs.PutMany(context.Background(), bl); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	for _, b := range bl {
		got := mustGet(t, bs, b.Cid())
		if !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("Get %s = %q, want %q", b.Cid(), got.RawData(), b.RawData())
		}
	}
	if keys := allKeys(t, bs); len(keys) != len(bl) {
		t.Fatalf("AllKeys has %d keys, want %d", len(keys), len(bl))
	}
}

func testAllKeys(t *testing.T, bs blockstore.Blockstore) {
	leaf1 := RawBlock(t, []byte("leaf 1"))
	leaf2 := RawBlock(t, []byte("leaf 2"))
	node := DagPBBlock(t, 1, []byte("node"), leaf1.Cid(), leaf2.Cid())
	nodeV0 := DagPBBlock(t, 0, []byte("v0 node"), leaf1.Cid())
	want := []blocks.Block{leaf1, leaf2, node, nodeV0}
	for _, b := range want {
		mustPut(t, bs, b)
	}
	got := allKeys(t, bs)
	if len(got) != len(want) {
		t.Fatalf("AllKeys yielded %d keys, want %d: %v", len(got), len(want), got)
	}
	for _, b := range want {
		c, ok := got[string(b.Cid().Hash())]
		if !ok {
			t.Fatalf("AllKeys is missing %s", b.Cid())
		}
		// GC reads links from what AllKeys yields, so the codec must survive.
		if c.Type() != b.Cid().Type() {
			t.Fatalf("AllKeys yielded %s with codec %x, want %x", c, c.Type(), b.Cid().Type())
		}
		if !bytes.Equal(mustGet(t, bs, c).RawData(), b.RawData()) {
			t.Fatalf("Get of AllKeys CID %s returned other bytes", c)
		}
	}
}

func testAllKeysError(t *testing.T, bs blockstore.Blockstore) {
	for i := range 5 {
		mustPut(t, bs, RawBlock(t, fmt.Appendf(nil, "e%d", i)))
	}
	stop := errors.New("stop here")
	calls := 0
	err := bs.AllKeys(context.Background(), func(cid.Cid) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("AllKeys returned %v, want fn's error", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times after returning an error, want 1", calls)
	}
}

func testAllKeysCancel(t *testing.T, bs blockstore.Blockstore) {
	for i := range 10 {
		mustPut(t, bs, RawBlock(t, fmt.Appendf(nil, "c%d", i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	err := bs.AllKeys(ctx, func(cid.Cid) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("AllKeys after cancel returned %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times after cancel, want 1", calls)
	}
	calls = 0
	err = bs.AllKeys(ctx, func(cid.Cid) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("AllKeys with a cancelled ctx: err %v after %d calls, want context.Canceled after 0", err, calls)
	}
}

func testCIDVersions(t *testing.T, bs blockstore.Blockstore) {
	ctx := context.Background()
	v0 := DagPBBlock(t, 0, []byte("same bytes"))
	v1 := cid.NewCidV1(cid.DagProtobuf, v0.Cid().Hash())
	mustPut(t, bs, v0)
	mustHas(t, bs, v1, true)
	got := mustGet(t, bs, v1)
	if !bytes.Equal(got.RawData(), v0.RawData()) {
		t.Fatalf("Get by CIDv1 returned other bytes")
	}
	if !got.Cid().Equals(v1) {
		t.Fatalf("Get by CIDv1 labelled the block %s, want %s", got.Cid(), v1)
	}
	if size, err := bs.GetSize(ctx, v1); err != nil || size != len(v0.RawData()) {
		t.Fatalf("GetSize by CIDv1 = %d, %v; want %d", size, err, len(v0.RawData()))
	}
	if keys := allKeys(t, bs); len(keys) != 1 {
		t.Fatalf("one block stored under v0 gave %d keys", len(keys))
	}
	if err := bs.Delete(ctx, v1); err != nil {
		t.Fatalf("Delete by CIDv1: %v", err)
	}
	mustHas(t, bs, v0.Cid(), false)
}

func testIdempotentPut(t *testing.T, bs blockstore.Blockstore) {
	b := RawBlock(t, []byte("twice"))
	mustPut(t, bs, b)
	mustPut(t, bs, b)
	if err := bs.PutMany(context.Background(), []blocks.Block{b, b}); err != nil {
		t.Fatalf("PutMany with duplicates: %v", err)
	}
	if keys := allKeys(t, bs); len(keys) != 1 {
		t.Fatalf("AllKeys after repeated puts has %d keys, want 1", len(keys))
	}
	if got := mustGet(t, bs, b.Cid()); !bytes.Equal(got.RawData(), b.RawData()) {
		t.Fatalf("Get after repeated puts returned %q", got.RawData())
	}
}

func testConcurrent(t *testing.T, bs blockstore.Blockstore) {
	const workers, perWorker = 8, 50
	ctx := context.Background()
	// Every worker also writes blocks the others write, so racing puts of
	// the same key are exercised too. Blocks are built up front because
	// RawBlock may call t.Fatal, which only the test goroutine may do.
	shared := make([]blocks.Block, perWorker)
	for i := range shared {
		shared[i] = RawBlock(t, fmt.Appendf(nil, "shared-%d", i))
	}
	own := make([][]blocks.Block, workers)
	for w := range own {
		for i := range perWorker {
			own[w] = append(own[w], RawBlock(t, fmt.Appendf(nil, "w%d-%d", w, i)))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				own, shared := own[w][i], shared[i]
				if err := bs.PutMany(ctx, []blocks.Block{own, shared}); err != nil {
					t.Errorf("PutMany: %v", err)
					return
				}
				got, err := bs.Get(ctx, own.Cid())
				if err != nil || !bytes.Equal(got.RawData(), own.RawData()) {
					t.Errorf("Get %s after Put: %v", own.Cid(), err)
					return
				}
				if ok, err := bs.Has(ctx, shared.Cid()); err != nil || !ok {
					t.Errorf("Has %s after Put = %v, %v", shared.Cid(), ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if keys := allKeys(t, bs); len(keys) != workers*perWorker+perWorker {
		t.Fatalf("AllKeys has %d keys, want %d", len(keys), workers*perWorker+perWorker)
	}
}

// testReadBlock checks a BlockReader (stores that are not one skip it):
// small and large blocks come back in the caller's buffer, asked for once
// with their exact size, equal to what Get returns; a miss asks for none.
func testReadBlock(t *testing.T, bs blockstore.Blockstore) {
	r, ok := bs.(blockstore.BlockReader)
	if !ok {
		t.Skip("not a BlockReader")
	}
	ctx := context.Background()
	for _, n := range []int{0, 100, 64 << 10, 256 << 10, 1 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		b := RawBlock(t, data)
		mustPut(t, bs, b)
		var asked []int
		var given []byte
		got, err := r.ReadBlock(ctx, b.Cid(), func(size int) []byte {
			asked = append(asked, size)
			given = make([]byte, size, size+10)
			for i := range given {
				given[i] = 0xAA // the caller's buffer is not zeroed
			}
			return given
		})
		if err != nil {
			t.Fatalf("ReadBlock of %d bytes: %v", n, err)
		}
		if len(asked) != 1 || asked[0] != n {
			t.Fatalf("ReadBlock of %d bytes asked for buffers of %v, want one of %d", n, asked, n)
		}
		if !bytes.Equal(got, data) || !bytes.Equal(got, mustGet(t, bs, b.Cid()).RawData()) {
			t.Fatalf("ReadBlock of %d bytes returned other bytes than were stored", n)
		}
		if n > 0 && &got[0] != &given[0] {
			t.Fatalf("ReadBlock of %d bytes did not read into the buffer it was given", n)
		}
	}
	miss := RawBlock(t, []byte("never stored")).Cid()
	_, err := r.ReadBlock(ctx, miss, func(size int) []byte {
		t.Fatalf("a miss asked for a buffer of %d bytes", size)
		return nil
	})
	checkMiss(t, "ReadBlock", err, miss)
}
