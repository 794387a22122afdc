package node

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/node/replicate"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// TestShareKeepsModesAndTimes: a folder shared with its path carries its
// files' modes and times; the member keeping a copy keeps them with it,
// and a device following the share gives its files the same (a script
// stays executable). Touched on the sharer (same bytes, same CID) and
// shared again, the new time follows.
func TestShareKeepsModesAndTimes(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{a, b}, "family")

	add := func(p string) cid.Cid {
		t.Helper()
		res, err := a.AddPaths(ctx, []string{p}, api.AddOptions{Recursive: true, Private: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cid.MustParse(res.Cid)
	}
	script := func(p string, mode fs.FileMode) {
		t.Helper()
		writeBytes(t, p, []byte("#!/bin/sh\necho hi\n"))
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	docs := filepath.Join(t.TempDir(), "Docs")
	script(filepath.Join(docs, "run.sh"), 0o755)
	writeBytes(t, filepath.Join(docs, "notes/plan.txt"), []byte("plan"))
	then := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, p := range []string{"run.sh", "notes/plan.txt", "notes"} {
		if err := os.Chtimes(filepath.Join(docs, p), then, then); err != nil {
			t.Fatal(err)
		}
	}
	share := func() (cid.Cid, api.GroupIntent) {
		t.Helper()
		c := add(docs)
		in, err := a.GroupShare(ctx, "family", c, api.ShareOptions{Copies: 2, Path: docs})
		if err != nil {
			t.Fatal(err)
		}
		return c, in
	}
	v1, in := share()
	if in.Meta == "" {
		t.Fatalf("shared without a meta: %+v", in)
	}
	meta := cid.MustParse(in.Meta)
	if p, err := a.store.GetPin(ctx, v1, blockstore.OwnerUser); err != nil || !p.Meta.Equals(meta) {
		t.Fatalf("the sharer's pin %+v, %v: no meta", p, err)
	}
	// The second member keeps a copy, and the meta with it.
	g, err := b.findGroup("family")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "b to keep a copy with its meta", func() bool {
		p, err := b.store.GetPin(ctx, v1, replicate.PinOwner(g.id, "Docs"))
		has, _ := b.store.Has(ctx, meta)
		return err == nil && p.Meta.Equals(meta) && has
	})

	// A get of the share (bringing the folder back) writes them at once.
	out := filepath.Join(t.TempDir(), "Docs")
	if _, err := b.Get(ctx, v1.String(), out, nil, nil); err != nil {
		t.Fatal(err)
	}
	sameTime := func(rel string, want time.Time) bool {
		st, err := os.Stat(filepath.Join(out, rel))
		return err == nil && st.ModTime().Equal(want)
	}
	if st, err := os.Stat(filepath.Join(out, "run.sh")); err != nil || st.Mode().Perm() != 0o755 ||
		!sameTime("run.sh", then) || !sameTime("notes/plan.txt", then) || !sameTime("notes", then) {
		t.Fatalf("got without the sharer's modes and times: run.sh %v, %v", st.Mode(), err)
	}
	// So does a get of a folder or a file inside the share: the share's
	// meta, by the path inside it.
	subOut := filepath.Join(t.TempDir(), "notes")
	if _, err := b.Get(ctx, v1.String()+"/notes", subOut, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{subOut, filepath.Join(subOut, "plan.txt")} {
		if st, err := os.Stat(p); err != nil || !st.ModTime().Equal(then) {
			t.Fatalf("a folder in the share got without its times: %s: %v", p, err)
		}
	}
	fileOut := filepath.Join(t.TempDir(), "run.sh")
	if _, err := b.Get(ctx, v1.String()+"/run.sh", fileOut, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fileOut); err != nil || st.Mode().Perm() != 0o755 || !st.ModTime().Equal(then) {
		t.Fatalf("a file in the share got without its mode and time: %v, %v", st.Mode(), err)
	}
	// A get of content no group shares is as it was (this device's times).
	loose := filepath.Join(t.TempDir(), "loose")
	script(filepath.Join(loose, "x.sh"), 0o755)
	lout := filepath.Join(t.TempDir(), "loose")
	if _, err := b.Get(ctx, add(loose).String(), lout, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(lout, "x.sh")); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("a get of what no group shares: %v, %v", st.Mode(), err)
	}

	// A file shared alone keeps its mode and time too.
	install := filepath.Join(t.TempDir(), "install.sh")
	script(install, 0o750)
	if err := os.Chtimes(install, then, then); err != nil {
		t.Fatal(err)
	}
	sc := add(install)
	if in, err := a.GroupShare(ctx, "family", sc, api.ShareOptions{Copies: 1, Path: install}); err != nil || in.Meta == "" {
		t.Fatalf("a file shared: %+v, %v", in, err)
	}
	waitFor(t, 30*time.Second, "b to see the file's share", func() bool { return b.sharedMeta(sc).Defined() })
	sout := filepath.Join(t.TempDir(), "install.sh")
	if _, err := b.Get(ctx, sc.String(), sout, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(sout); err != nil || st.Mode().Perm() != 0o750 || !st.ModTime().Equal(then) {
		t.Fatalf("a file got: %v %v, %v", st.Mode(), st.ModTime(), err)
	}

	// Content shared by its CID alone (the web UI's share of a pin): the
	// path the daemon added it from gives its modes and times.
	bycid := filepath.Join(t.TempDir(), "Tools")
	script(filepath.Join(bycid, "tool.sh"), 0o700)
	if in, err := a.GroupShare(ctx, "family", add(bycid), api.ShareOptions{Copies: 1}); err != nil || in.Meta == "" {
		t.Fatalf("shared by its CID: %+v, %v", in, err)
	}

	// Shared again by the device that keeps a copy, in a group of its own
	// and by its CID alone: the modes and times go with it.
	if _, err := b.GroupCreate(ctx, "friends"); err != nil {
		t.Fatal(err)
	}
	if again, err := b.GroupShare(ctx, "friends", v1, api.ShareOptions{Copies: 1}); err != nil || again.Meta != in.Meta {
		t.Fatalf("shared again: %+v, %v; want the meta %s", again, err, in.Meta)
	}

	// The folder follows the share: a file's time moved on the sharer
	// reaches it.
	if _, err := b.GroupMirror(ctx, "family", "Docs", out, v1.String(), nil); err != nil {
		t.Fatal(err)
	}

	later := then.Add(time.Hour)
	if err := os.Chtimes(filepath.Join(docs, "run.sh"), later, later); err != nil {
		t.Fatal(err)
	}
	v2, in2 := share()
	if v2 != v1 || in2.Meta == in.Meta {
		t.Fatalf("touched: %s (meta %s), was %s (meta %s)", v2, in2.Meta, v1, in.Meta)
	}
	waitFor(t, 30*time.Second, "the touched time to follow", func() bool {
		b.mirrors.Kick()
		return sameTime("run.sh", later)
	})
	if st, err := os.Stat(filepath.Join(out, "run.sh")); err != nil || st.Mode().Perm() != fs.FileMode(0o755) {
		t.Fatalf("run.sh after the touch: %v, %v", st.Mode(), err)
	}
}

// TestStreamedShareKeepsModesAndTimes: a folder the daemon cannot read
// itself (another user, a sandbox) is streamed by the CLI with each
// entry's mode and time; the daemon keeps them with the pin, and a share
// of it carries them (links left out), as one the daemon reads does. The
// content is what an add of the path gives.
func TestStreamedShareKeepsModesAndTimes(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNode(t, t.TempDir(), 1<<30)
	formGroup(t, []*Node{a, b}, "family")
	ca, err := client.FromRepo(a.repo.dir)
	if err != nil {
		t.Fatal(err)
	}

	docs := filepath.Join(t.TempDir(), "Docs")
	writeBytes(t, filepath.Join(docs, "run.sh"), []byte("#!/bin/sh\necho hi\n"))
	writeBytes(t, filepath.Join(docs, "notes/plan.txt"), []byte("plan"))
	if err := os.Symlink("run.sh", filepath.Join(docs, "link")); err != nil {
		t.Fatal(err)
	}
	then := time.Date(2022, 1, 2, 3, 4, 5, 600, time.UTC)
	for p, mode := range map[string]fs.FileMode{"run.sh": 0o751, "notes/plan.txt": 0o600, "notes": 0o750} {
		if err := os.Chmod(filepath.Join(docs, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"run.sh", "notes/plan.txt", "notes"} {
		if err := os.Chtimes(filepath.Join(docs, p), then, then); err != nil {
			t.Fatal(err)
		}
	}
	stream := func(p string) api.AddResult {
		t.Helper()
		nd, err := dag.OpenPath(p, dag.Exclusion{})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Close()
		res, err := ca.Add(ctx, filepath.Base(p), nd, 0, api.AddOptions{Private: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := stream(docs)
	if read, err := a.AddPaths(ctx, []string{docs}, api.AddOptions{Recursive: true, NoPin: true}, nil); err != nil || read.Cid != res.Cid {
		t.Fatalf("streamed %s, read %s (%v)", res.Cid, read.Cid, err)
	}
	in, err := ca.GroupShare(ctx, "family", res.Cid, api.ShareOptions{Copies: 2, Path: "/the/daemon/cannot/see/Docs"})
	if err != nil || in.Meta == "" {
		t.Fatalf("shared without a meta: %+v, %v", in, err)
	}
	m, _, err := mirror.LoadMeta(ctx, a.store, cid.MustParse(in.Meta))
	if err != nil {
		t.Fatal(err)
	}
	want := mirror.Meta{
		"run.sh":         {Mode: 0o751, Mtime: then.UnixNano()},
		"notes":          {Mode: 0o750, Mtime: then.UnixNano()},
		"notes/plan.txt": {Mode: 0o600, Mtime: then.UnixNano()},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("streamed meta %v, want %v", m, want)
	}

	// The other device gets the folder with them.
	waitFor(t, 30*time.Second, "b to see the share", func() bool { return b.sharedMeta(cid.MustParse(res.Cid)).Defined() })
	out := filepath.Join(t.TempDir(), "Docs")
	if _, err := b.Get(ctx, res.Cid, out, nil, nil); err != nil {
		t.Fatal(err)
	}
	for p, em := range want {
		st, err := os.Stat(filepath.Join(out, p))
		if err != nil || st.Mode().Perm() != fs.FileMode(em.Mode) || !st.ModTime().Equal(then) {
			t.Errorf("%s got: %v %v, %v", p, st.Mode(), st.ModTime(), err)
		}
	}

	// A file streamed alone (a CLI's stdin carries none: nothing kept).
	solo := filepath.Join(t.TempDir(), "solo.sh")
	writeBytes(t, solo, []byte("#!/bin/sh\n"))
	if err := os.Chmod(solo, 0o700); err != nil {
		t.Fatal(err)
	}
	sres := stream(solo)
	if in, err := ca.GroupShare(ctx, "family", sres.Cid, api.ShareOptions{Copies: 1, Path: "/the/daemon/cannot/see/solo.sh"}); err != nil || in.Meta == "" {
		t.Fatalf("a file streamed and shared: %+v, %v", in, err)
	} else if m, _, err := mirror.LoadMeta(ctx, a.store, cid.MustParse(in.Meta)); err != nil || m["."].Mode != 0o700 {
		t.Fatalf("a file streamed: meta %v, %v", m, err)
	}
	stdin, err := ca.Add(ctx, "stdin", files.NewReaderFile(strings.NewReader("piped")), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.store.GetPin(ctx, cid.MustParse(stdin.Cid), blockstore.OwnerUser); err != nil || p.Meta.Defined() {
		t.Fatalf("stdin's pin %+v, %v: a meta of nothing", p, err)
	}
}
