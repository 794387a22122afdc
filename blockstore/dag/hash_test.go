package dag

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

// TestHashFile: a file's hash is the CID an add gives it, for an empty
// file, one block, and several; a changed byte changes it.
func TestHashFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range []int{0, 1, 1000, DefaultChunkSize, 3*DefaultChunkSize + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		node, err := OpenPath(p, Exclusion{})
		if err != nil {
			t.Fatal(err)
		}
		added, err := NewImporter(blockstore.NewMemStore()).Add(ctx, node, nil)
		if err != nil {
			t.Fatal(err)
		}
		var read int64
		got, err := HashFile(ctx, p, func(n int64) { read = n })
		if err != nil {
			t.Fatal(err)
		}
		if read != int64(n) {
			t.Errorf("%d bytes: progress said %d read", n, read)
		}
		if got != added.Root {
			t.Fatalf("%d bytes: hash %s, add %s", n, got, added.Root)
		}
		if n > 0 {
			data[n/2]++
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if other, err := HashFile(ctx, p, nil); err != nil || other == added.Root {
				t.Fatalf("%d bytes, one changed: %s, %v", n, other, err)
			}
		}
	}
	if _, err := HashFile(ctx, dir, nil); err == nil {
		t.Fatal("a folder hashed as a file")
	}
}
