package node

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// TestSyncFolderMoveFetchesNothing: a large file moved (renamed, or into
// another folder) on one device of a folder that syncs both ways is
// moved on the other with the bytes it holds already: nothing is fetched
// again, however many times it moves (each move leaves the repo's
// reference to the file written by the move before it).
func TestSyncFolderMoveFetchesNothing(t *testing.T) {
	ctx := context.Background()
	logA, logB := &mirrorWrites{}, &mirrorWrites{}
	a := newNodeLogging(t, t.TempDir(), slog.New(logA), syncConfig)
	b := newNodeLogging(t, t.TempDir(), slog.New(logB), syncConfig)
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Films")
	video := randomData(6 << 20)
	writeBytes(t, filepath.Join(dirA, "video.mov"), video)
	writeBytes(t, filepath.Join(dirA, "notes.txt"), []byte("notes\n"))
	since := time.Now()
	// As kith share --sync adds it: the repo keeps the large file's blocks
	// as where they are in the folder.
	res, err := a.AddPaths(ctx, []string{dirA}, api.AddOptions{Recursive: true, Private: true, NoCopy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := cid.MustParse(res.Cid)
	if _, err := a.GroupShare(ctx, "family", v1, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupSync(ctx, "family", "Films", dirA, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	dirB := filepath.Join(t.TempDir(), "films-on-b")
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	since = time.Now()
	if _, err := b.Get(ctx, v1.String(), dirB, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupSync(ctx, "family", "Films", dirB, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}

	// Moved on b three times, then on a twice, then on b: each device
	// moves the other's move here.
	moves := []struct {
		on       *Node
		dir      string
		from, to string
	}{
		{b, dirB, "video.mov", "clips/video.mov"},
		{b, dirB, "clips/video.mov", "clips/2026/video.mov"},
		{b, dirB, "clips/2026/video.mov", "film.mov"},
		{a, dirA, "film.mov", "old/film.mov"},
		{a, dirA, "old/film.mov", "film.mov"},
		{b, dirB, "film.mov", "clips/film.mov"},
	}
	for i, m := range moves {
		other, log := a, logA
		if m.on == a {
			other, log = b, logB
		}
		before := log.count()
		to := filepath.Join(m.dir, filepath.FromSlash(m.to))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(m.dir, filepath.FromSlash(m.from)), to); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "the move of "+m.from+" to "+m.to+" written on the other device", func() bool {
			m.on.watcher.Kick()
			other.mirrors.Kick()
			return folderCID(t, dirA) == folderCID(t, dirB)
		})
		for _, d := range []string{dirA, dirB} {
			got, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(m.to)))
			if err != nil || !bytes.Equal(got, video) {
				t.Fatalf("move %d: %s in %s: %d bytes, %v", i, m.to, d, len(got), err)
			}
			if _, err := os.Lstat(filepath.Join(d, filepath.FromSlash(m.from))); !os.IsNotExist(err) {
				t.Fatalf("move %d: %s still in %s (%v)", i, m.from, d, err)
			}
		}
		w := log.since(before)
		if len(w) != 1 || w[0].moved != 1 || w[0].written != 0 || w[0].fetched > 64<<10 {
			t.Errorf("move %d (%s to %s) on the other device: %+v; want one write of the version, the file moved, nothing fetched but the listing", i, m.from, m.to, w)
		}
	}
	// Each repo holds the film as where it is now: what a peer asks is
	// served from there.
	last := cid.MustParse(folderCID(t, dirA))
	for _, n := range []*Node{a, b} {
		if missing, err := missingBlocks(ctx, n.store, last, nil); err != nil || missing != 0 {
			t.Errorf("a repo lacks %d blocks of the folder as it is (%v)", missing, err)
		}
	}
}

// mirrorWrites is a log handler noting the mirror's writes of a newer
// version (the rest is dropped).
type mirrorWrites struct {
	mu     sync.Mutex
	writes []mirrorWrite
}

type mirrorWrite struct{ written, moved, fetched int64 }

func (h *mirrorWrites) Enabled(context.Context, slog.Level) bool { return true }
func (h *mirrorWrites) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *mirrorWrites) WithGroup(string) slog.Handler            { return h }

func (h *mirrorWrites) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "mirror: wrote the newer version" {
		return nil
	}
	var w mirrorWrite
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "written":
			w.written = a.Value.Int64()
		case "moved":
			w.moved = a.Value.Int64()
		case "fetched":
			w.fetched = a.Value.Int64()
		}
		return true
	})
	h.mu.Lock()
	h.writes = append(h.writes, w)
	h.mu.Unlock()
	return nil
}

func (h *mirrorWrites) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.writes)
}

func (h *mirrorWrites) since(n int) []mirrorWrite {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.writes[n:])
}
