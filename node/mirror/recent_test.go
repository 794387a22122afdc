package mirror

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
)

// TestMirrorRecentChanges: an update names what it did in the folder
// (written, moved here, removed, a folder removed), each with the version
// and when; the next update's come first.
func TestMirrorRecentChanges(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "one", "b.txt": "bee, a file long enough to be moved", "d": tree{"c.txt": "sea"}})
	v2 := version(t, bs, tree{"a.txt": "two", "e.txt": "new", "f.txt": "bee, a file long enough to be moved"})
	v3 := version(t, bs, tree{"a.txt": "three", "e.txt": "new", "f.txt": "bee, a file long enough to be moved"})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	folder, _ := followGot(t, m, bs, v1)
	ctx := context.Background()
	src.share("g1", "Docs", v2)
	m.CheckAll(ctx)
	got := m.List()[0].Recent
	var did []string
	for _, ch := range got {
		did = append(did, ch.What+" "+ch.Path)
		if ch.Version != v2.String() || time.Since(ch.At) > time.Minute {
			t.Errorf("change %+v: want version %s, now", ch, v2)
		}
	}
	slices.Sort(did)
	if want := []string{"moved f.txt", "removed d/", "removed d/c.txt", "written a.txt", "written e.txt"}; !slices.Equal(did, want) {
		t.Fatalf("the update of %s names %q, want %q", folder, did, want)
	}
	src.share("g1", "Docs", v3)
	m.CheckAll(ctx)
	got = m.List()[0].Recent
	if len(got) != 6 || got[0].Path != "a.txt" || got[0].Version != v3.String() || got[1].Version != v2.String() {
		t.Fatalf("after the next update: %+v, want its change first, then the five before", got)
	}
}

// TestRecent: an update's changes come first, in the order made, then
// the earlier ones, at most maxRecent; an update that changed nothing
// leaves the list as it was.
func TestRecent(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	earlier := []Change{{Path: "old", What: ChangeWritten, Version: "v1", At: at.Add(-time.Hour)}}
	got := recent([]Change{{Path: "x", What: ChangeRemoved}, {Path: "y", What: ChangeWritten}}, "v2", at, earlier)
	want := []Change{{Path: "x", What: ChangeRemoved, Version: "v2", At: at}, {Path: "y", What: ChangeWritten, Version: "v2", At: at}, earlier[0]}
	if !slices.Equal(got, want) {
		t.Fatalf("recent = %+v, want %+v", got, want)
	}
	if got := recent(nil, "v3", at, want); !slices.Equal(got, want) {
		t.Fatalf("nothing changed: %+v", got)
	}
	var many []Change
	for i := range maxRecent + 5 {
		many = append(many, Change{Path: fmt.Sprint(i), What: ChangeWritten})
	}
	if got := recent(many, "v4", at, want); len(got) != maxRecent || got[0].Path != "0" {
		t.Fatalf("%d changes at once: %d kept, first %+v", len(many), len(got), got[0])
	}
}
