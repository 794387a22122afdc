package watch

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestWatcherPaused: a paused watch neither looks at its folder nor shares
// it, also after a restart and when the folder is shared again with
// --watch; resumed, it is looked at at once and shares what changed. One
// pause covers the folder's watches in every group.
func TestWatcherPaused(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "watches.json")
	s := &sharer{}
	w := open(t, file, s)
	root := folder(t)
	for _, g := range []string{"family", "work"} {
		if _, _, err := w.Add(Watch{Path: root, GroupID: g, Group: g, Copies: 1, Cid: "cid1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := w.SetPaused(root, true)
	if err != nil || len(ws) != 2 || !ws[0].Paused || !ws[1].Paused {
		t.Fatalf("pause: %+v, %v", ws, err)
	}
	touch(t, filepath.Join(root, "new.jpg"), "new", time.Now())
	w.CheckAll(ctx)
	if n := s.count(); n != 0 {
		t.Fatalf("a paused folder was shared %d times", n)
	}

	w = open(t, file, s) // a restart
	if _, _, err := w.Add(Watch{Path: root, GroupID: "family", Group: "family", Copies: 2, Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, wt := range w.List() {
		if !wt.Paused {
			t.Fatalf("after a restart and a share again: %+v, want it paused", wt)
		}
	}
	w.CheckAll(ctx)
	if n := s.count(); n != 0 {
		t.Fatalf("a paused folder was shared %d times", n)
	}

	if ws, err := w.SetPaused(root, false); err != nil || len(ws) != 2 || ws[0].Paused {
		t.Fatalf("resume: %+v, %v", ws, err)
	}
	select {
	case <-w.kick:
	default:
		t.Fatal("resume did not kick the watcher (the folder is looked at at once)")
	}
	w.CheckAll(ctx)
	if n := s.count(); n != 2 {
		t.Fatalf("resumed, the folder was shared %d times, want once per group", n)
	}
	if _, err := w.SetPaused(filepath.Join(root, "nothing"), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause of a folder not watched: %v", err)
	}
}
