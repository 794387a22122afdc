package cli

import (
	"slices"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestMergeChanges: two lists become one, newest first, each change once
// (a folder watched in two groups shares the same versions in both).
func TestMergeChanges(t *testing.T) {
	at := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	a := []api.FolderChange{{Path: "x", What: "written", Version: "v2", At: at.Add(time.Minute)}, {Path: "y", What: "removed", Version: "v1", At: at}}
	b := []api.FolderChange{{Path: "x", What: "written", Version: "v2", At: at.Add(time.Minute)}, {Path: "z", What: "written", Version: "v3", At: at.Add(2 * time.Minute)}}
	var got []string
	for _, c := range mergeChanges(a, b) {
		got = append(got, c.What+" "+c.Path)
	}
	if want := []string{"written z", "written x", "removed y"}; !slices.Equal(got, want) {
		t.Fatalf("mergeChanges = %q, want %q", got, want)
	}
}
