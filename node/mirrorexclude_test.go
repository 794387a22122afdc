package node

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// TestGetAndFollowExcluding: selective sync. A device that keeps no copy
// of the group's Photos gets it leaving out the videos and the raw
// folder: their bytes are not fetched, nor written, and the get says what
// it wrote. Followed so, a newer version's video stays out too; followed
// again with only the raw folder left out, the videos are written; with
// no word of what it leaves out, the folder keeps it.
func TestGetAndFollowExcluding(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1) // keeps no copy: what it has, it fetched
	formGroup(t, []*Node{a, b}, "family")

	photos := filepath.Join(t.TempDir(), "Photos")
	big := func(n int) []byte { p := make([]byte, n); rand.Read(p); return p }
	files := map[string][]byte{
		"a.jpg":         []byte("a small photo"),
		"clip.mov":      big(3 << 20),
		"Raw/x.cr2":     big(2 << 20),
		"2024/b.jpg":    []byte("another photo"),
		"2024/trip.mov": big(1 << 20),
	}
	for p, body := range files {
		writeBytes(t, filepath.Join(photos, p), body)
	}
	v1 := shareInFamily(t, a, photos).String()
	waitFor(t, 20*time.Second, "the second device to see the share", func() bool {
		sts, err := b.GroupStatus(ctx, cid.MustParse(v1))
		return err == nil && len(sts) == 1
	})

	out := filepath.Join(t.TempDir(), "Photos")
	if _, err := b.Get(ctx, v1, out, []string{"a/../b"}, nil); api.KindOf(err) != api.KindInvalid {
		t.Errorf("a path with .. as a pattern: %v, want invalid", err)
	}
	leaveOut := []string{"*.mov", "/Raw/"} // a name at any depth, a path from the top
	var last api.Progress
	res, err := b.Get(ctx, v1, out, leaveOut, func(p api.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	small := int64(len(files["a.jpg"]) + len(files["2024/b.jpg"]))
	if res.Size != uint64(small) || res.Fetched.Bytes > 64<<10 {
		t.Errorf("got %d bytes, fetched %d: want %d written, only the small files and the folders fetched", res.Size, res.Fetched.Bytes, small)
	}
	if last.Total != small {
		t.Errorf("the progress told a total of %d, want the %d bytes written", last.Total, small)
	}
	has := func(want ...string) {
		t.Helper()
		var got []string
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(out, p)
				got = append(got, filepath.ToSlash(rel))
			}
			return nil
		})
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the folder holds %v, want %v", got, want)
		}
	}
	has("a.jpg", "2024/b.jpg")
	if _, err := os.Stat(filepath.Join(out, "Raw")); !os.IsNotExist(err) {
		t.Errorf("Raw, left out, is there: %v", err)
	}

	m, err := b.GroupMirror(ctx, "family", "Photos", out, v1, leaveOut)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Exclude, leaveOut) {
		t.Errorf("the mirror leaves out %v, want %v", m.Exclude, leaveOut)
	}
	writeBytes(t, filepath.Join(photos, "2024/c.jpg"), []byte("a third photo"))
	writeBytes(t, filepath.Join(photos, "2024/new.mov"), big(1<<20))
	v2 := shareInFamily(t, a, photos).String()
	mirrored := func(what string, cond func(api.GroupMirror) bool) api.GroupMirror {
		t.Helper()
		var m api.GroupMirror
		waitFor(t, 30*time.Second, what, func() bool {
			ms, err := b.GroupMirrors(ctx)
			if err == nil && len(ms) == 1 {
				m = ms[0]
			}
			return cond(m)
		})
		return m
	}
	mirrored("the newer version", func(m api.GroupMirror) bool { return m.Cid == v2 && m.Pending == "" })
	has("a.jpg", "2024/b.jpg", "2024/c.jpg")

	// Only the raw folder left out now: the videos come.
	if _, err := b.GroupMirror(ctx, "family", "Photos", out, "", []string{"Raw/"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the videos to be written", func() bool {
		_, err := os.Stat(filepath.Join(out, "2024/new.mov"))
		return err == nil
	})
	m = mirrored("the rewrite to end", func(m api.GroupMirror) bool { return m.Pending == "" })
	has("a.jpg", "clip.mov", "2024/b.jpg", "2024/c.jpg", "2024/trip.mov", "2024/new.mov")
	if got, _ := os.ReadFile(filepath.Join(out, "clip.mov")); string(got) != string(files["clip.mov"]) {
		t.Error("clip.mov differs from the group's")
	}
	if m.Cid != v2 || m.Error != "" || m.KeptCount != 0 || !slices.Equal(m.Exclude, []string{"Raw/"}) {
		t.Errorf("mirror %+v", m)
	}
	if m, err := b.GroupMirror(ctx, "family", "Photos", out, "", nil); err != nil || !slices.Equal(m.Exclude, []string{"Raw/"}) {
		t.Errorf("followed again with no word of what it leaves out: %+v, %v", m, err)
	}
}
