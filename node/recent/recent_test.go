package recent

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestPrepend: an update's changes come first, in the order made, then
// the earlier ones, at most Max; an update that changed nothing
// leaves the list as it was.
func TestPrepend(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	earlier := []Change{{Path: "old", What: Written, Version: "v1", At: at.Add(-time.Hour)}}
	got := Prepend([]Change{{Path: "x", What: Removed}, {Path: "y", What: Written}}, "v2", "peer2", at, earlier)
	want := []Change{{Path: "x", What: Removed, Version: "v2", At: at, By: "peer2"}, {Path: "y", What: Written, Version: "v2", At: at, By: "peer2"}, earlier[0]}
	if !slices.Equal(got, want) {
		t.Fatalf("recent = %+v, want %+v", got, want)
	}
	if got := Prepend(nil, "v3", "", at, want); !slices.Equal(got, want) {
		t.Fatalf("nothing changed: %+v", got)
	}
	var many []Change
	for i := range Max + 5 {
		many = append(many, Change{Path: fmt.Sprint(i), What: Written})
	}
	if got := Prepend(many, "v4", "", at, want); len(got) != Max || got[0].Path != "0" {
		t.Fatalf("%d changes at once: %d kept, first %+v", len(many), len(got), got[0])
	}
}
