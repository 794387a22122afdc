package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// TestMirrorFollowsAShare: two devices of a group; the second gets the
// folder the first shares as Docs and follows it (kith get --follow).
// When the first shares a newer Docs, the second's folder gets what
// changed, keeps the file changed there, and loses what the version no
// longer has; a watch of the folder is refused; unfollowed, the files stay.
func TestMirrorFollowsAShare(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{a, b}, "family")

	docs := filepath.Join(t.TempDir(), "Docs")
	write := func(dir, name, body string) { t.Helper(); writeBytes(t, filepath.Join(dir, name), []byte(body)) }
	write(docs, "plan.txt", "first plan")
	write(docs, "notes/monday.txt", "monday")
	write(docs, "old.txt", "removed later")
	share := func() string { return shareInFamily(t, a, docs).String() }
	v1 := share()

	out := filepath.Join(t.TempDir(), "Docs")
	var got api.GroupStatus
	waitFor(t, 20*time.Second, "the second device to see the share", func() bool {
		sts, err := b.GroupStatus(ctx, cid.MustParse(v1))
		if err == nil && len(sts) == 1 {
			got = sts[0]
		}
		return err == nil
	})
	if got.Name != "Docs" {
		t.Fatalf("shared as %q", got.Name)
	}
	if _, err := b.Get(ctx, v1, out, nil, nil); err != nil {
		t.Fatal(err)
	}
	m, err := b.GroupMirror(ctx, "family", "Docs", out, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Cid != v1 || m.Group != "family" || m.Name != "Docs" || m.Path != out {
		t.Fatalf("mirror %+v", m)
	}
	if _, err := b.GroupMirror(ctx, "family", "Nothing", out, v1, nil); api.KindOf(err) != api.KindNotFound {
		t.Errorf("a mirror of a name nothing is shared as: %v", err)
	}
	inRepo := filepath.Join(b.repo.dir, "Docs")
	if _, err := b.GroupMirror(ctx, "family", "Docs", inRepo, v1, nil); api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), "kith's own repo") {
		t.Errorf("a mirror inside the repo: %v", err)
	}
	if _, err := b.GroupWatch(ctx, "family", filepath.Join(out, "notes"), api.WatchOptions{Copies: 1, Cid: v1, Since: time.Now()}); api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), "follows family's Docs") {
		t.Errorf("a watch inside the mirrored folder: %v", err)
	}

	// Changed here: kept. Changed by the group: written.
	write(out, "notes/monday.txt", "my own monday")
	write(docs, "plan.txt", "second plan, longer")
	write(docs, "notes/monday.txt", "the group's monday")
	write(docs, "notes/tuesday.txt", "tuesday")
	if err := os.Remove(filepath.Join(docs, "old.txt")); err != nil {
		t.Fatal(err)
	}
	v2 := share()
	waitFor(t, 30*time.Second, "the folder to follow the newer Docs", func() bool {
		ms, err := b.GroupMirrors(ctx)
		if err == nil && len(ms) == 1 {
			m = ms[0]
		}
		return m.Cid == v2
	})
	for name, want := range map[string]string{"plan.txt": "second plan, longer", "notes/tuesday.txt": "tuesday", "notes/monday.txt": "my own monday"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "old.txt")); !os.IsNotExist(err) {
		t.Errorf("old.txt, gone from the newer version, is still there: %v", err)
	}
	if !slices.Equal(m.Kept, []string{"notes/monday.txt"}) || m.KeptCount != 1 || m.Error != "" {
		t.Errorf("mirror %+v, want notes/monday.txt kept, no error", m)
	}

	// Reverted: the group's monday over this device's.
	if r, err := b.GroupMirrorRevert(ctx, out); err != nil || !r.Revert {
		t.Fatalf("revert: %+v, %v", r, err)
	}
	waitFor(t, 30*time.Second, "the group's monday to be written back", func() bool {
		got, _ := os.ReadFile(filepath.Join(out, "notes/monday.txt"))
		ms, err := b.GroupMirrors(ctx)
		return string(got) == "the group's monday" && err == nil && len(ms) == 1 && !ms[0].Revert && ms[0].KeptCount == 0
	})
	if _, err := b.GroupMirrorRevert(ctx, filepath.Join(t.TempDir(), "nothing")); api.KindOf(err) != api.KindNotFound {
		t.Errorf("revert of a folder that follows nothing: %v", err)
	}

	// Paused: the mirror is, and says so; a folder neither followed nor
	// watched, or a relative path, is refused.
	if p, err := b.GroupPause(ctx, out, true); err != nil || !p.Paused || len(p.Mirrors) != 1 || !p.Mirrors[0].Paused || len(p.Watches) != 0 {
		t.Fatalf("pause: %+v, %v", p, err)
	}
	if ms, err := b.GroupMirrors(ctx); err != nil || len(ms) != 1 || !ms[0].Paused {
		t.Fatalf("mirrors after a pause: %+v, %v", ms, err)
	}
	if p, err := b.GroupPause(ctx, out, false); err != nil || p.Paused || p.Mirrors[0].Paused {
		t.Fatalf("resume: %+v, %v", p, err)
	}
	if _, err := b.GroupPause(ctx, filepath.Join(t.TempDir(), "nothing"), true); api.KindOf(err) != api.KindNotFound {
		t.Errorf("pause of a folder that follows nothing: %v", err)
	}
	if _, err := b.GroupPause(ctx, "Docs", true); api.KindOf(err) != api.KindInvalid {
		t.Errorf("pause of a relative path: %v", err)
	}

	// Gone (a disk not mounted): said, and not made again.
	away := out + ".away"
	if err := os.Rename(out, away); err != nil {
		t.Fatal(err)
	}
	b.mirrors.Kick()
	waitFor(t, 10*time.Second, "the mirror to say its folder is gone", func() bool {
		ms, err := b.GroupMirrors(ctx)
		return err == nil && len(ms) == 1 && strings.Contains(ms[0].Error, out+" is gone")
	})
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the gone folder was made again: %v", err)
	}
	if err := os.Rename(away, out); err != nil {
		t.Fatal(err)
	}

	gone, err := b.GroupUnmirror(ctx, out)
	if err != nil || gone.Path != out {
		t.Fatalf("unmirror: %+v, %v", gone, err)
	}
	if ms, err := b.GroupMirrors(ctx); err != nil || len(ms) != 0 {
		t.Errorf("after unmirror: %+v, %v", ms, err)
	}
	if _, err := os.Stat(filepath.Join(out, "plan.txt")); err != nil {
		t.Errorf("the files went with the mirror: %v", err)
	}
	if _, err := b.GroupUnmirror(ctx, out); api.KindOf(err) != api.KindNotFound {
		t.Errorf("unmirror again: %v", err)
	}
}

// TestMirrorFetchesOnlyWhatItWrites: a copy from before, followed as it is,
// costs no fetch of the files it already holds (compared by their hash);
// after a gc took the blocks of what the mirror wrote, a newer version
// fetches the file that changed, not the folder.
func TestMirrorFetchesOnlyWhatItWrites(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1) // keeps no copy for the group
	formGroup(t, []*Node{a, b}, "family")

	photos := filepath.Join(t.TempDir(), "Photos")
	mine := filepath.Join(t.TempDir(), "Photos")
	for i := range 12 {
		body := randomData(200<<10 + i)
		if i == 0 {
			body = randomData(3 << 20) // several blocks
		}
		name := filepath.Join(photos, fmt.Sprintf("%02d.jpg", i))
		writeBytes(t, name, body)
		switch i {
		case 1: // changed there: same size, other bytes
			body = slices.Clone(body)
			body[100]++
		case 2: // not there
			continue
		}
		writeBytes(t, filepath.Join(mine, fmt.Sprintf("%02d.jpg", i)), body)
	}
	share := func() cid.Cid { return shareInFamily(t, a, photos) }
	followed := func(v cid.Cid) api.GroupMirror {
		t.Helper()
		var m api.GroupMirror
		waitFor(t, 30*time.Second, "the folder to follow "+v.String(), func() bool {
			ms, err := b.GroupMirrors(ctx)
			if err == nil && len(ms) == 1 {
				m = ms[0]
			}
			return m.Cid == v.String()
		})
		return m
	}
	// held lists which files of the version v b's repo holds whole.
	held := func(v cid.Cid) map[string]bool {
		t.Helper()
		es, err := dag.Ls(ctx, a.store, v)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, e := range es {
			r, _, err := dag.Open(ctx, b.store, e.Cid)
			if err == nil {
				_, err = io.Copy(io.Discard, r)
				r.Close()
			}
			out[e.Name] = err == nil
		}
		return out
	}

	v1 := share()
	waitFor(t, 20*time.Second, "the second device to see the share", func() bool {
		sts, err := b.GroupStatus(ctx, v1)
		return err == nil && len(sts) == 1
	})
	if _, err := b.GroupMirror(ctx, "family", "Photos", mine, "", nil); err != nil {
		t.Fatal(err)
	}
	m := followed(v1)
	if !slices.Equal(m.Kept, []string{"01.jpg"}) {
		t.Errorf("kept %v, want the file changed here, 01.jpg", m.Kept)
	}
	got := held(v1)
	for name, want := range map[string]bool{"00.jpg": false, "01.jpg": true, "02.jpg": true, "03.jpg": false, "11.jpg": false} {
		if got[name] != want {
			t.Errorf("after following a copy from before: %s fetched: %v, want %v", name, got[name], want)
		}
	}
	if body, err := os.ReadFile(filepath.Join(mine, "02.jpg")); err != nil || len(body) != 200<<10+2 {
		t.Errorf("02.jpg, missing here, was not written: %d bytes, %v", len(body), err)
	}

	if _, err := b.GC(ctx, nil); err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(photos, "05.jpg"), randomData(100<<10))
	v2 := share()
	followed(v2)
	got = held(v2)
	for name, want := range map[string]bool{"00.jpg": false, "02.jpg": false, "05.jpg": true, "11.jpg": false} {
		if got[name] != want {
			t.Errorf("after a gc and a change of 05.jpg: %s fetched: %v, want %v", name, got[name], want)
		}
	}
	if body, err := os.ReadFile(filepath.Join(mine, "05.jpg")); err != nil || len(body) != 100<<10 {
		t.Errorf("05.jpg, changed by the group, was not written: %d bytes, %v", len(body), err)
	}
}

// shareInFamily adds the folder dir on n and shares it in the group
// family, one copy kept, and returns its CID.
func shareInFamily(tb testing.TB, n *Node, dir string) cid.Cid {
	tb.Helper()
	return shareCopies(tb, n, dir, 1)
}

// shareCopies is shareInFamily with the copies to keep.
func shareCopies(tb testing.TB, n *Node, dir string, copies int) cid.Cid {
	tb.Helper()
	res, err := n.AddPaths(context.Background(), []string{dir}, api.AddOptions{Recursive: true, Private: true}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := cid.MustParse(res.Cid)
	if _, err := n.GroupShare(context.Background(), "family", c, api.ShareOptions{Copies: copies}); err != nil {
		tb.Fatal(err)
	}
	return c
}

func writeBytes(t *testing.T, p string, body []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
}
