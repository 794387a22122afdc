package mirror

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// TestApplyMovesFiles: a file the version moved (renamed, into or out of
// a folder) is moved here with a rename, its bytes never read from the
// store (here they are gone from it: a write would fail); what cannot be
// moved (a second copy, a file changed here, a folder that becomes a
// file) is written or kept as before, and the folders left empty go.
func TestApplyMovesFiles(t *testing.T) {
	film := strings.Repeat("a film ", 2000)
	clip := strings.Repeat("a clip ", 2000)
	p1, p2, p3 := strings.Repeat("photo 1 ", 2000), strings.Repeat("photo 2 ", 2000), strings.Repeat("photo 3 ", 2000)
	tests := []struct {
		name     string
		v1, v2   tree
		edit     func(t *testing.T, dir string) // on this device, before v2
		drop     bool                           // every file's bytes leave the store after v1
		moved    int
		written  int
		removed  int
		wantKept []string
	}{
		{name: "swapped", drop: true, moved: 2,
			v1: tree{"a.mov": film, "b.mov": clip},
			v2: tree{"a.mov": clip, "b.mov": film}},
		{name: "shifted up", drop: true, moved: 3,
			v1: tree{"1.jpg": p1, "2.jpg": p2, "3.jpg": p3},
			v2: tree{"2.jpg": p1, "3.jpg": p2, "4.jpg": p3}},
		{name: "shifted down", drop: true, moved: 3,
			v1: tree{"1.jpg": p1, "2.jpg": p2, "3.jpg": p3},
			v2: tree{"0.jpg": p1, "1.jpg": p2, "2.jpg": p3}},
		{name: "renamed", drop: true, moved: 1,
			v1: tree{"film.mov": film, "notes.txt": "n"},
			v2: tree{"holiday.mov": film, "notes.txt": "n"}},
		{name: "into a new folder", drop: true, moved: 1,
			v1: tree{"film.mov": film},
			v2: tree{"clips": tree{"2026": tree{"film.mov": film}}}},
		{name: "out of folders that go", drop: true, moved: 1, removed: 2,
			v1: tree{"old": tree{"deep": tree{"film.mov": film}}, "notes.txt": "n"},
			v2: tree{"film.mov": film, "notes.txt": "n"}},
		{name: "moved and copied", moved: 1, written: 1,
			v1: tree{"film.mov": film},
			v2: tree{"a.mov": film, "b.mov": film}},
		{name: "its folder becomes a file", written: 2, removed: 1,
			v1: tree{"x": tree{"film.mov": film}},
			v2: tree{"x": "now a file", "film.mov": film}},
		{name: "changed here", written: 1, wantKept: []string{"film.mov"},
			v1: tree{"film.mov": film},
			v2: tree{"other.mov": film},
			edit: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "film.mov"), "my cut")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			v1, v2 := version(t, bs, tc.v1), version(t, bs, tc.v2)
			dir := t.TempDir()
			man := Manifest{}
			apply(t, bs, v1, dir, man)
			var dropped []cid.Cid
			if tc.drop {
				dropped = dropFiles(t, bs, dir)
			}
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			// What is moved is not fetched (the fetch here brings
			// nothing: a write of what it was asked for fails).
			fetch := func(_ context.Context, _ cid.Cid, files func(cid.Cid) bool, _ func(int64)) (int64, error) {
				for _, c := range dropped {
					if files == nil || files(c) {
						t.Errorf("%s fetched", c)
					}
				}
				return 0, nil
			}
			res, err := Apply(context.Background(), Version{Root: v2, Store: bs, Fetch: fetch}, dir, man, nil)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if res.Moved != tc.moved || res.Written != tc.written || res.Removed != tc.removed {
				t.Errorf("moved %d, written %d, removed %d; want %d, %d, %d", res.Moved, res.Written, res.Removed, tc.moved, tc.written, tc.removed)
			}
			if strings.Join(res.Kept, ",") != strings.Join(tc.wantKept, ",") {
				t.Errorf("kept %v, want %v", res.Kept, tc.wantKept)
			}
			if tc.edit == nil {
				holds(t, dir, v2)
			}
			for r := range man {
				if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(r))); err != nil {
					t.Errorf("the manifest names %s: %v", r, err)
				}
			}
			// Following it again changes nothing.
			if res := apply(t, bs, v2, dir, man); res.Moved+res.Written+res.Removed != 0 {
				t.Errorf("again: %+v", res)
			}
		})
	}
}

// dropFiles deletes from bs the (one-block) files in dir, at any depth,
// and returns their CIDs: a write of one fails, a move needs none.
func dropFiles(t *testing.T, bs blockstore.Blockstore, dir string) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		c, err := dag.HashFile(context.Background(), p, nil)
		if err != nil {
			return err
		}
		out = append(out, c)
		return bs.Delete(context.Background(), c)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
