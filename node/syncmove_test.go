package node

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// TestSyncFolderMoveFetchesNothing: a large file moved (renamed, or into
// another folder) on one device of a folder that syncs both ways is
// moved on the other with the bytes it holds already: nothing is fetched
// again, however many times it moves (each move leaves the repo's
// reference to the file written by the move before it).
func TestSyncFolderMoveFetchesNothing(t *testing.T) {
	ctx := context.Background()
	logA, logB := &logRecords{}, &logRecords{}
	a := newNodeLogging(t, t.TempDir(), slog.New(logA), syncConfig)
	b := newNodeLogging(t, t.TempDir(), slog.New(logB), syncConfig)
	logA.dumpOnFailure(t, "a")
	logB.dumpOnFailure(t, "b")
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Films")
	video, trailer := randomData(6<<20), randomData(3<<20)
	writeBytes(t, filepath.Join(dirA, "video.mov"), video)
	writeBytes(t, filepath.Join(dirA, "trailer.mov"), trailer)
	writeBytes(t, filepath.Join(dirA, "notes.txt"), []byte("notes\n"))
	dirB := syncBoth(t, a, b, dirA)

	// Moved on b three times, then on a twice, then on b; then swapped
	// with the trailer on a: each device moves the other's moves here.
	moves := []struct {
		on       *Node
		dir      string
		from, to string
		swap     bool
	}{
		{b, dirB, "video.mov", "clips/video.mov", false},
		{b, dirB, "clips/video.mov", "clips/2026/video.mov", false},
		{b, dirB, "clips/2026/video.mov", "film.mov", false},
		{a, dirA, "film.mov", "old/film.mov", false},
		{a, dirA, "old/film.mov", "film.mov", false},
		{b, dirB, "film.mov", "clips/film.mov", false},
		{a, dirA, "clips/film.mov", "trailer.mov", true},
	}
	for i, m := range moves {
		other, log := a, logA
		if m.on == a {
			other, log = b, logB
		}
		before := log.count()
		to := filepath.Join(m.dir, filepath.FromSlash(m.to))
		from := filepath.Join(m.dir, filepath.FromSlash(m.from))
		if m.swap {
			exchange(t, from, to)
		} else {
			renames(t, from, to)
		}
		waitFor(t, 60*time.Second, "the move of "+m.from+" to "+m.to+" written on the other device", func() bool {
			m.on.watcher.Kick()
			other.mirrors.Kick()
			return folderCID(t, dirA) == folderCID(t, dirB)
		})
		for _, d := range []string{dirA, dirB} {
			got, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(m.to)))
			if err != nil || !bytes.Equal(got, video) {
				t.Fatalf("move %d: %s in %s: %d bytes, %v", i, m.to, d, len(got), err)
			}
			got, err = os.ReadFile(filepath.Join(d, filepath.FromSlash(m.from)))
			if m.swap && (err != nil || !bytes.Equal(got, trailer)) {
				t.Fatalf("swap: %s in %s: %d bytes, %v; want the trailer", m.from, d, len(got), err)
			} else if !m.swap && !os.IsNotExist(err) {
				t.Fatalf("move %d: %s still in %s (%v)", i, m.from, d, err)
			}
		}
		// (One write, or more if a look saw the folder half-way; logged
		// once the store knows where the file is now.)
		var moved, written, fetched int64
		var w []logRecord
		want := map[bool]int64{false: 1, true: 2}[m.swap]
		waitFor(t, 20*time.Second, "the other device's log of its writes", func() bool {
			moved, written, fetched = 0, 0, 0
			w = log.said("mirror: wrote the newer version", before)
			for _, r := range w {
				moved, written, fetched = moved+r.attrs["moved"].Int64(), written+r.attrs["written"].Int64(), fetched+r.attrs["fetched"].Int64()
			}
			return moved+written >= want
		})
		if moved < want || written != 0 || fetched > int64(len(w))*64<<10 {
			t.Errorf("move %d (%s to %s) on the other device: %+v; want the file moved, nothing fetched but the listing", i, m.from, m.to, w)
		}
	}
	// Each repo holds the film as where it is now: what a peer asks is
	// served from there.
	last := cid.MustParse(folderCID(t, dirA))
	for _, n := range []*Node{a, b} {
		if missing, err := missingBlocks(ctx, n.store, last, nil); err != nil || missing != 0 {
			t.Errorf("a repo lacks %d blocks of the folder as it is (%v)", missing, err)
		}
	}
}

// syncBoth shares dirA from a in the group family to sync both ways (as
// kith share --sync adds it: the repo keeps where its files' bytes are),
// and has b get it into a folder of its own that syncs too, which it
// returns.
func syncBoth(t *testing.T, a, b *Node, dirA string) string {
	t.Helper()
	ctx := context.Background()
	name := filepath.Base(dirA)
	since := time.Now()
	res, err := a.AddPaths(ctx, []string{dirA}, api.AddOptions{Recursive: true, Private: true, NoCopy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := cid.MustParse(res.Cid)
	if _, err := a.GroupShare(ctx, "family", v1, api.ShareOptions{Copies: 2, Path: dirA}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupSync(ctx, "family", name, dirA, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	dirB := filepath.Join(t.TempDir(), name+"-on-b")
	waitFor(t, 20*time.Second, "b to see the share", func() bool { _, err := b.GroupStatus(ctx, v1); return err == nil })
	since = time.Now()
	if _, err := b.Get(ctx, v1.String(), dirB, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupSync(ctx, "family", name, dirB, v1.String(), 0, 0, since); err != nil {
		t.Fatal(err)
	}
	return dirB
}

// renames renames each pair of paths in turn (from, to, from, to...),
// making the folders a new path needs.
func renames(t *testing.T, paths ...string) {
	t.Helper()
	for i := 0; i+1 < len(paths); i += 2 {
		if err := os.MkdirAll(filepath.Dir(paths[i+1]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(paths[i], paths[i+1]); err != nil {
			t.Fatal(err)
		}
	}
}

// logRecords is a log handler that keeps each record's message and
// attributes, for a test to read what a node did.
type logRecords struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	msg   string
	attrs map[string]slog.Value
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecords) WithGroup(string) slog.Handler            { return h }

func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

// said returns the records with the message msg, from the n-th record on
// (n: what count returned before).
func (h *logRecords) said(msg string, n int) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.records[n:] {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// dumpOnFailure logs what the node (name) logged, if t fails.
func (h *logRecords) dumpOnFailure(t *testing.T, name string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, r := range h.records {
			if strings.HasPrefix(r.msg, "sync") || strings.HasPrefix(r.msg, "mirror") || strings.Contains(r.msg, "watched") {
				t.Logf("%s: %s %v", name, r.msg, r.attrs)
			}
		}
	})
}

func (h *logRecords) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.records)
}

// TestSyncFolderModesAndTimes: a change of only a file's mode (chmod +x)
// or time (touch), or of a folder's mode (chmod 700), on one device of a
// folder that syncs both ways (the same bytes: the same version) is
// shared, and given to the file or folder on the other; once each device
// holds it, neither shares again.
func TestSyncFolderModesAndTimes(t *testing.T) {
	ctx := context.Background()
	logA, logB := &logRecords{}, &logRecords{}
	a := newNodeLogging(t, t.TempDir(), slog.New(logA), syncConfig)
	b := newNodeLogging(t, t.TempDir(), slog.New(logB), syncConfig)
	formGroup(t, []*Node{a, b}, "family")

	dirA := filepath.Join(t.TempDir(), "Tools")
	writeBytes(t, filepath.Join(dirA, "run.sh"), []byte("#!/bin/sh\necho hi\n"))
	writeBytes(t, filepath.Join(dirA, "notes.txt"), []byte("notes\n"))
	writeBytes(t, filepath.Join(dirA, "private", "diary.txt"), []byte("dear diary\n"))
	dirB := syncBoth(t, a, b, dirA)
	stat := func(p string) os.FileInfo {
		t.Helper()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	kick := func() {
		a.watcher.Kick()
		b.watcher.Kick()
		a.mirrors.Kick()
		b.mirrors.Kick()
	}

	// Made executable on b: a's copy becomes executable.
	if err := os.Chmod(filepath.Join(dirB, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "run.sh executable on a", func() bool {
		kick()
		return stat(filepath.Join(dirA, "run.sh")).Mode().Perm() == 0o755
	})
	// Touched on a: b's copy gets the time.
	when := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dirA, "notes.txt"), when, when); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "notes.txt's time on b", func() bool {
		kick()
		return stat(filepath.Join(dirB, "notes.txt")).ModTime().Equal(when)
	})
	if got := stat(filepath.Join(dirB, "run.sh")).Mode().Perm(); got != 0o755 {
		t.Errorf("run.sh on b is %v after a's touch, want the 0755 b gave it", got)
	}
	// A folder closed to others on b: closed on a too.
	if err := os.Chmod(filepath.Join(dirB, "private"), 0o700); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "private closed on a", func() bool {
		kick()
		return stat(filepath.Join(dirA, "private")).Mode().Perm() == 0o700
	})
	// In sync: more looks share nothing more.
	const shared = "sync: shared the new modes and times in the folder"
	before := []int{logA.count(), logB.count()}
	for range 2 {
		a.watcher.CheckAll(ctx)
		b.watcher.CheckAll(ctx)
	}
	if s := append(logA.said(shared, before[0]), logB.said(shared, before[1])...); len(s) != 0 {
		t.Errorf("in sync, shared again: %+v", s)
	}
	if s := append(logA.said(shared, 0), logB.said(shared, 0)...); len(s) != 3 {
		t.Errorf("%d shares of modes and times, want 3 (b's chmods, a's touch): %+v", len(s), s)
	}
}
