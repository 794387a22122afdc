package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// TestAddPathAgainReadsWhatChanged: a folder the daemon added by reading
// it, added again after one file in it changed, reads that file only (the
// blocks written are the changed file's and the folder's) and gives the
// CID a full add gives; the daemon remembers the add across restarts
// (adds.json in the repo).
func TestAddPathAgainReadsWhatChanged(t *testing.T) {
	n, c := startNode(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "photos")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.jpg", i)), bytes.Repeat([]byte{byte(i)}, 2<<20+i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	note := filepath.Join(dir, "note.txt")
	if err := os.WriteFile(note, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Files changed within the reuse margin of an add are read again by
	// the next (coarse file-system clocks): let these age past it.
	aged := time.Now().Add(2*time.Second + 100*time.Millisecond)
	for time.Now().Before(aged) {
		time.Sleep(50 * time.Millisecond) // the files' age is what the test needs, not an event
	}
	first, err := n.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Blocks < 8 {
		t.Fatalf("the first add wrote %d blocks, want every leaf", first.Blocks)
	}
	if err := os.WriteFile(note, []byte("second, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := n.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Blocks > 2 {
		t.Errorf("added again after note.txt changed: %d blocks written, want note.txt's and the folder's", again.Blocks)
	}
	// The CID a full add gives.
	src, err := dag.OpenPath(dir, dag.Exclusion{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want, err := dag.NewImporter(blockstore.NewMemStore()).Add(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Cid != want.Root.String() || again.Size != want.Size {
		t.Fatalf("added again: %s (%d bytes), a full add gives %s (%d bytes)", again.Cid, again.Size, want.Root, want.Size)
	}
	r, err := c.Cat(ctx, again.Cid+"/note.txt", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(got) != "second, longer" {
		t.Fatalf("the new version's note.txt: %q, %v", got, err)
	}
	// Remembered in the repo.
	if _, ok := newAddIndex(n.repo.dir, quietLog).reuse(dir); !ok {
		t.Error("the add is not remembered in the repo")
	}
}
