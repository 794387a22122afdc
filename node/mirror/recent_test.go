package mirror

import (
	"context"
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
