package mirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
)

// TestMirrorPaused: a paused mirror writes no newer version in, also after
// a restart and when its folder is followed again, and takes the newest at
// once when resumed; pausing a folder not mirrored is ErrNotFound.
func TestMirrorPaused(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "one"})
	v2 := version(t, bs, tree{"a.txt": "two"})
	src.share("g1", "Docs", v1)
	state := t.TempDir()
	m, err := Open(state, src, Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	folder, _ := followGot(t, m, bs, v1)
	holds := func(m *Mirrors, want string) {
		t.Helper()
		if b, _ := os.ReadFile(filepath.Join(folder, "a.txt")); string(b) != want {
			t.Fatalf("a.txt = %q, want %q (mirror %+v)", b, want, m.List())
		}
	}
	if mr, err := m.SetPaused(folder, true); err != nil || !mr.Paused {
		t.Fatalf("pause: %+v, %v", mr, err)
	}
	src.share("g1", "Docs", v2)
	m.CheckAll(ctx)
	holds(m, "one")

	// Across a restart, and when the folder is followed again.
	m, err = Open(state, src, Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if l := m.List(); len(l) != 1 || !l[0].Paused {
		t.Fatalf("after a restart: %+v, want it paused", l)
	}
	for _, again := range []Mirror{
		{Path: folder, GroupID: "g1", Group: "family", Name: "Docs"},                   // as it is
		{Path: folder, GroupID: "g1", Group: "family", Name: "Docs", Cid: v1.String()}, // just got
	} {
		if mr, err := m.Add(ctx, again, bs); err != nil || !mr.Paused {
			t.Fatalf("followed again: %+v, %v, want it still paused", mr, err)
		}
	}
	m.CheckAll(ctx)
	holds(m, "one")

	if mr, err := m.SetPaused(folder, false); err != nil || mr.Paused {
		t.Fatalf("resume: %+v, %v", mr, err)
	}
	select {
	case <-m.kick:
	default:
		t.Fatal("resume did not kick the mirrors (the newest is written at once)")
	}
	m.CheckAll(ctx)
	holds(m, "two")
	if _, err := m.SetPaused(filepath.Join(t.TempDir(), "nothing"), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause of a folder not mirrored: %v", err)
	}
}
