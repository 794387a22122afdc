package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// TestWatchedFolderIsItsOwnCopy: a folder shared as it changes (keeping
// no earlier version) is added without a copy: the repo keeps where its
// large files' bytes are, and serves them from there to the member that
// keeps the group's other copy (which holds the bytes). After a file
// changes, the new version is shared and fetched the same way; the old
// version's blocks, whose bytes are gone from the file, are named by
// verify and dropped, never served as wrong bytes.
func TestWatchedFolderIsItsOwnCopy(t *testing.T) {
	ctx := context.Background()
	watchFast := func(c *Config) {
		c.Groups.WatchInterval = Duration(time.Hour) // looks come from Kick
		c.Groups.WatchSettle = Duration(10 * time.Millisecond)
	}
	// The version before a change stays kept a while (groups.release_delay).
	tm := testTimings
	tm.release = 5 * time.Minute
	a := groupNodeTimed(t, t.TempDir(), 1<<30, tm, watchFast)
	b := groupNodeTimed(t, t.TempDir(), 1<<30, tm, watchFast)
	connect(t, a, b.host)
	formGroup(t, []*Node{a, b}, "family")

	dir := filepath.Join(t.TempDir(), "Videos")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	video := make([]byte, 6<<20+777)
	rand.Read(video)
	if err := os.WriteFile(filepath.Join(dir, "film.mp4"), video, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("small, copied"), 0o644); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	res, err := a.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true, Private: true, NoCopy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := cid.MustParse(res.Cid)
	if _, err := a.GroupShare(ctx, "family", v1, api.ShareOptions{Copies: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupWatch(ctx, "family", dir, api.WatchOptions{Copies: 2, Cid: res.Cid, Since: since}); err != nil {
		t.Fatal(err)
	}
	st, err := a.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Its six 1 MiB leaves stay in the file; its last leaf, 777 bytes,
	// small, is copied.
	if st.InFiles != 6<<20 || st.InFilesCount != 1 || st.Bytes > 1<<20 {
		t.Fatalf("repo stat after the add: %d bytes in %d files, %d in the repo; want the film's 6 MiB in 1 file, not copied",
			st.InFiles, st.InFilesCount, st.Bytes)
	}
	waitFor(t, time.Minute, "the member to keep the group's other copy", func() bool { return holds(t, b, "family", v1) })
	if st, err := b.RepoStat(ctx); err != nil || st.Bytes < int64(len(video)) || st.InFiles != 0 {
		t.Fatalf("the member's repo: %+v, %v; want the film's bytes in it", st, err)
	}

	// The film changes: the watch shares the new version, which the member
	// fetches from the file as it is now.
	copy(video[3<<20:], "edited in the middle")
	if err := os.WriteFile(filepath.Join(dir, "film.mp4"), video, 0o644); err != nil {
		t.Fatal(err)
	}
	a.watcher.Kick()
	var v2 cid.Cid
	waitFor(t, 30*time.Second, "the change shared", func() bool {
		ws, err := a.GroupWatches(ctx)
		if err == nil && len(ws) == 1 && ws[0].Cid != v1.String() {
			v2 = cid.MustParse(ws[0].Cid)
			return true
		}
		return false
	})
	waitFor(t, time.Minute, "the member to keep the new version", func() bool { return holds(t, b, "family", v2) })
	out := filepath.Join(t.TempDir(), "back")
	if _, err := b.Get(ctx, v2.String(), out, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(out, "film.mp4")); err != nil || !bytes.Equal(got, video) {
		t.Fatalf("the member's copy of the new version differs from the film (%v)", err)
	}
	// What of v1 is still in a's repo reads from a file that changed:
	// verify names it and drops it, and a's repo stays in step.
	if !groupPinned(t, a, v1) {
		t.Fatal("the version before the change is not kept for the release delay")
	}
	pins, err := a.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		if want := p.Cid == v1.String(); p.Releasing != want {
			t.Errorf("pin %s (%s): releasing = %v, want %v (only v1, no longer shared)", p.Name, p.Cid, p.Releasing, want)
		}
	}
	vr, err := a.Verify(ctx, nil)
	if err != nil || len(vr.Bad) != 0 || len(vr.Incomplete) != 0 {
		t.Fatalf("verify: %+v, %v; want no pin incomplete (v1 is on its way out)", vr, err)
	}
	if len(vr.Changed) != 1 {
		t.Errorf("verify names %d blocks changed in their files, want 1: the leaf of v1 where the film changed", len(vr.Changed))
	}
	for _, c := range vr.Changed {
		if has, _ := a.store.Has(ctx, cid.MustParse(c)); has {
			t.Errorf("verify named %s changed but kept it", c)
		}
	}
	if missing, err := missingBlocks(ctx, a.store, v2, nil); err != nil || missing != 0 {
		t.Errorf("the newest version misses %d blocks on the device that shares it (%v)", missing, err)
	}
	// gc warns of no missing block either: v1 lacks one, but it goes.
	if gr, err := a.GC(ctx, nil); err != nil || gr.Missing != 0 {
		t.Errorf("gc: %+v, %v; want no pinned block missing (v1 is on its way out)", gr, err)
	}

	// No longer watched: the version stays shared, copied into the repo,
	// and the folder is the user's to change.
	if _, err := a.GroupUnwatch(ctx, "family", dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the shared version copied into the repo", func() bool {
		st, err := a.RepoStat(ctx)
		return err == nil && st.Bytes >= 6<<20
	})
	if err := os.Remove(filepath.Join(dir, "film.mp4")); err != nil {
		t.Fatal(err)
	}
	if missing, err := missingBlocks(ctx, a.store, v2, nil); err != nil || missing != 0 {
		t.Errorf("the version shared misses %d blocks once the folder no longer watched changed (%v)", missing, err)
	}
}

// TestFollowedFolderIsTheCopy: a folder that follows a share (got, then
// followed) is the copy of what it holds: the member that keeps the
// group's copy of it keeps the big file's blocks as where they are in the
// folder, not twice; a newer version written in is kept so too, and the
// group's copy stays whole (every block there, read back as its bytes).
func TestFollowedFolderIsTheCopy(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{a, b}, "family")
	docs := filepath.Join(t.TempDir(), "Films")
	film := make([]byte, 5<<20)
	rand.Read(film)
	writeBytes(t, filepath.Join(docs, "film.mp4"), film)
	writeBytes(t, filepath.Join(docs, "notes.txt"), []byte("small"))
	v1 := shareCopies(t, a, docs, 2)
	waitFor(t, time.Minute, "b to keep the group's copy", func() bool { return holds(t, b, "family", v1) })

	out := filepath.Join(t.TempDir(), "Films")
	if _, err := b.Get(ctx, v1.String(), out, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupMirror(ctx, "family", "Films", out, v1.String(), nil); err != nil {
		t.Fatal(err)
	}
	inFiles := func(want int64) {
		t.Helper()
		waitFor(t, 30*time.Second, "b's repo to keep the film as where it is in the folder", func() bool {
			// (v1's leaf where the film changed stays counted until a gc.)
			st, err := b.RepoStat(ctx)
			return err == nil && st.InFiles >= want && st.Bytes < 1<<20
		})
	}
	inFiles(int64(len(film)))
	if !holds(t, b, "family", v1) {
		t.Fatal("b's copy of the group's version is no longer whole")
	}

	// A newer version: written in, and kept as where it is too.
	copy(film[2<<20:], "a new cut")
	writeBytes(t, filepath.Join(docs, "film.mp4"), film)
	v2 := shareCopies(t, a, docs, 2)
	waitFor(t, time.Minute, "the newer version written into b's folder", func() bool {
		got, err := os.ReadFile(filepath.Join(out, "film.mp4"))
		return err == nil && bytes.Equal(got, film)
	})
	waitFor(t, time.Minute, "b to keep the group's copy of the newer version", func() bool { return holds(t, b, "family", v2) })
	inFiles(int64(len(film)))
	back := filepath.Join(t.TempDir(), "back")
	if _, err := b.Get(ctx, v2.String(), back, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(back, "film.mp4")); err != nil || !bytes.Equal(got, film) {
		t.Fatalf("b's copy of the newer version reads back other bytes (%v)", err)
	}

	// The film edited on b: b's folder keeps the edit, and the group's copy
	// on b, which lacks the blocks the edit overwrote, gets them again.
	mine := bytes.Clone(film)
	copy(mine[4<<20:], "my own ending")
	writeBytes(t, filepath.Join(out, "film.mp4"), mine)
	if holds(t, b, "family", v2) {
		t.Fatal("b's copy of v2 is whole although the file it was read from changed")
	}
	if n := b.repairCopies(ctx); n != 1 {
		t.Fatalf("repairCopies found %d copies lacking blocks, want 1", n)
	}
	if !holds(t, b, "family", v2) {
		t.Fatal("b's copy of v2 lacks blocks after repairCopies")
	}
	if got, err := os.ReadFile(filepath.Join(out, "film.mp4")); err != nil || !bytes.Equal(got, mine) {
		t.Errorf("b's edit of the film was not kept (%v)", err)
	}
	if n := b.repairCopies(ctx); n != 0 {
		t.Errorf("repairCopies found %d copies lacking blocks after the repair, want 0", n)
	}

	// The folder no longer followed: the group's copy on b is copied into
	// the repo, and no longer depends on the folder, which is the user's.
	if _, err := b.GroupUnmirror(ctx, out); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the group's copy on b copied into its repo", func() bool {
		st, err := b.RepoStat(ctx)
		return err == nil && st.Bytes >= int64(len(film))
	})
	rand.Read(mine)
	writeBytes(t, filepath.Join(out, "film.mp4"), mine)
	if !holds(t, b, "family", v2) {
		t.Error("b's copy of v2 lacks blocks once the folder it no longer follows changed")
	}
}

// TestReleasingRoots: a root is on its way out when only groups keep it
// and none shares it any more; one the user pinned, or a group shares, is
// not; with the groups not known, none is.
func TestReleasingRoots(t *testing.T) {
	a, b, c := cid.MustParse("bafkqaaa"), cid.MustParse("bafkqaaia"), cid.MustParse("bafkqaaja")
	g := blockstore.GroupOwner("g1", "Videos")
	pins := []blockstore.Pin{
		{Cid: a, Owner: g},           // shared no more: going
		{Cid: b, Owner: g}, {Cid: b}, // the user's too: stays
		{Cid: c, Owner: blockstore.GroupOwner("g2", "x")}, // shared: stays
	}
	got := releasingRoots(pins, map[cid.Cid]bool{c: true})
	if len(got) != 1 || !got[a] {
		t.Errorf("releasingRoots = %v, want only %s", got, a)
	}
	if got := releasingRoots(pins, nil); len(got) != 0 {
		t.Errorf("with the groups not known: %v, want none", got)
	}
}
