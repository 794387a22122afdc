package blockstore

import (
	"context"
	"testing"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dstest "github.com/ipfs/go-datastore/test"
)

// TestDatastoreConformance runs go-datastore's own suite against the view.
func TestDatastoreConformance(t *testing.T) {
	s, err := OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dstest.SubtestAll(t, s.Datastore())
}

// TestDatastoreKeepsToItsPrefix: datastore keys never show up as blocks or
// pins, and survive a reopen.
func TestDatastoreKeepsToItsPrefix(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Datastore()
	for i := 0; i < 3*queryPage+7; i++ {
		if err := d.Put(ctx, ds.NewKey("/providers/k").ChildString(string(rune('a'+i%26))+string(rune('a'+i/26))), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Put(ctx, ds.NewKey("/providersx"), []byte("other")); err != nil {
		t.Fatal(err)
	}
	n, _, err := s.Stats(ctx)
	if err != nil || n != 0 {
		t.Fatalf("Stats counts %d blocks (err %v), want 0: datastore keys leaked into blocks", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = OpenBadger(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Datastore().Query(ctx, query.Query{Prefix: "/providers", KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3*queryPage+7 {
		t.Fatalf("after reopen, %d keys under /providers, want %d", len(all), 3*queryPage+7)
	}
}
