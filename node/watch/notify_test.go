package watch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling pace for a condition with a deadline
	}
}

// TestWatcherNotified: with the interval an hour away, a change is shared
// because the system reported it: in a folder, in a folder made after
// the watch began (watched from its creation), and to a watched file.
func TestWatcherNotified(t *testing.T) {
	if !notifySupported {
		t.Skip("the system does not report changes here: the interval finds them")
	}
	s := &sharer{}
	w, err := Open(filepath.Join(t.TempDir(), "watches.json"), s, Options{Interval: time.Hour, Settle: time.Millisecond, Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	w.eventGap = 0
	root := folder(t)
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "notes.txt")
	touch(t, file, "notes", past)
	for _, p := range []string{root, file} {
		if _, _, err := w.Add(Watch{Path: p, GroupID: "g1", Copies: 1, Cid: "cid1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	cidOf := func(p string) string {
		for _, wt := range w.List() {
			if wt.Path == p {
				return wt.Cid
			}
		}
		return ""
	}
	// Run shares what changed before it started watching (the folder made
	// above): wait for it, so each step below is one change.
	waitFor(t, "the folder's first change shared", func() bool { return s.count() == 1 })
	steps := []struct {
		what   string
		path   string
		change func()
	}{
		{"a file in a subfolder", root, func() { touch(t, filepath.Join(root, "sub", "a.jpg"), "new", time.Now()) }},
		{"a new folder", root, func() {
			if err := os.Mkdir(filepath.Join(root, "new"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file in the new folder", root, func() { touch(t, filepath.Join(root, "new", "b.jpg"), "b", time.Now()) }},
		{"the watched file", file, func() { touch(t, file, "more notes", time.Now()) }},
	}
	for i, st := range steps {
		before := cidOf(st.path)
		st.change()
		waitFor(t, st.what+" shared", func() bool { return s.count() == 2+i && cidOf(st.path) != before })
	}
}

// TestNotifierWatches: the folders the system is asked to watch are the
// watched folder's, less those every watch of it leaves out and the repo;
// a watch removed stops its watches, and Run's end stops every one.
func TestNotifierWatches(t *testing.T) {
	if !notifySupported {
		t.Skip("the system does not report changes here")
	}
	root := folder(t)
	for _, d := range []string{"sub/deep", "node_modules/x", ".kith/blocks", "build"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n := newNotifier(slog.New(slog.DiscardHandler), filepath.Join(root, ".kith"), true)
	defer n.close()
	watched := func(p string) []string {
		n.mu.Lock()
		defer n.mu.Unlock()
		r := n.roots[p]
		if r == nil {
			return nil
		}
		var rel []string
		for _, d := range r.fw.WatchList() {
			r, _ := filepath.Rel(root, d)
			rel = append(rel, r)
		}
		slices.Sort(rel)
		return rel
	}
	n.sync([]Watch{{Path: root, GroupID: "g1", Exclude: []string{"node_modules", "build/"}}}, true)
	if got, want := watched(root), []string{".", "sub", "sub/deep"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	// A second watch of the folder that keeps node_modules: watched too.
	n.sync([]Watch{
		{Path: root, GroupID: "g1", Exclude: []string{"node_modules", "build/"}},
		{Path: root, GroupID: "g2", Exclude: []string{"build/"}},
	}, false)
	if got, want := watched(root), []string{".", "node_modules", "node_modules/x", "sub", "sub/deep"}; !slices.Equal(got, want) {
		t.Errorf("with a second watch: watched %q, want %q", got, want)
	}
	// The folder moved away and back: its watches went with it, and the
	// next retry (at the interval) watches it anew.
	ws := []Watch{{Path: root, GroupID: "g1", Exclude: []string{"node_modules", "build/"}}}
	n.sync(ws, false)
	away := root + ".away"
	if err := os.Rename(root, away); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the move seen", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		r := n.roots[root]
		return r != nil && r.lost.Load()
	})
	if err := os.Rename(away, root); err != nil {
		t.Fatal(err)
	}
	n.sync(ws, true)
	if got, want := watched(root), []string{".", "sub", "sub/deep"}; !slices.Equal(got, want) {
		t.Errorf("back after a move: watched %q, want %q", got, want)
	}

	// A .kithignore written in the folder: its patterns count too, as
	// soon as the event of its writing brings the next sync.
	if err := os.WriteFile(filepath.Join(root, dag.IgnoreFile), []byte("# scratch\n/sub/deep/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.sync(ws, false)
	if got, want := watched(root), []string{".", "sub"}; !slices.Equal(got, want) {
		t.Errorf("with a .kithignore: watched %q, want %q", got, want)
	}
	if err := os.Remove(filepath.Join(root, dag.IgnoreFile)); err != nil {
		t.Fatal(err)
	}
	n.sync(ws, false)
	if got, want := watched(root), []string{".", "sub", "sub/deep"}; !slices.Equal(got, want) {
		t.Errorf(".kithignore removed: watched %q, want %q", got, want)
	}

	n.sync(nil, false)
	if got := watched(root); got != nil {
		t.Errorf("no watch left: still watched %q", got)
	}
}

// TestNotifierIgnores: an event is dropped only when every watch of the
// folder leaves its path out; a pattern for folders does not hide a file.
func TestNotifierIgnores(t *testing.T) {
	x := func(patterns ...string) dag.Exclusion {
		e, err := dag.NewExclusion(patterns)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	r := &root{path: "/home/ann/photos", excl: []dag.Exclusion{x("*.tmp", "cache/")}}
	both := &root{path: "/home/ann/photos", excl: []dag.Exclusion{x("*.tmp"), x("cache/")}}
	paths := &root{path: "/home/ann/photos", excl: []dag.Exclusion{x("/Raw/", "2024/**/*.mov")}}
	for _, tt := range []struct {
		r      *root
		path   string
		ignore bool
	}{
		{r, "/home/ann/photos/a.jpg", false},
		{r, "/home/ann/photos/a.tmp", true},
		{r, "/home/ann/photos/cache/x.jpg", true},
		{r, "/home/ann/photos/sub/cache/x.jpg", true},
		{r, "/home/ann/photos/cache", false}, // a file called cache, for all we know
		{r, "/home/ann/photos/x.tmp/a.jpg", true},
		{r, "/home/ann/photos", false},
		{r, "/home/ann/other/a.tmp", false},
		{both, "/home/ann/photos/a.tmp", false},
		{both, "/home/ann/photos/cache/x.jpg", false},
		{&root{path: "/p"}, "/p/a.tmp", false},
		{paths, "/home/ann/photos/Raw/a.cr2", true},
		{paths, "/home/ann/photos/2024/Raw/a.cr2", false},
		{paths, "/home/ann/photos/2024/x/y.mov", true},
		{paths, "/home/ann/photos/2025/y.mov", false},
	} {
		if got := tt.r.ignores(tt.path); got != tt.ignore {
			t.Errorf("%d exclusions, ignores(%s) = %v, want %v", len(tt.r.excl), tt.path, got, tt.ignore)
		}
	}
}

// TestWatcherByEventStillChanging: a look an event asked for that finds
// the folder still changing does not count toward sharing it as it is.
func TestWatcherByEventStillChanging(t *testing.T) {
	w, s := alwaysChanging(t)
	for range 2 * maxUnsettled {
		w.check(context.Background(), only(t, w), true)
	}
	if got := only(t, w); s.count() != 0 || got.Unsettled != 0 {
		t.Fatalf("after %d looks by event at a folder still changing: %d shares, watch %+v; want none, nothing counted", 2*maxUnsettled, s.count(), got)
	}
}

// TestEventSpacing: looks asked for by events are eventGap apart, or more
// when listing the folder is slow (at most 5% of the time listing).
func TestEventSpacing(t *testing.T) {
	for _, tt := range []struct{ listed, want time.Duration }{
		{0, defaultEventGap},
		{20 * time.Millisecond, defaultEventGap},
		{500 * time.Millisecond, defaultEventGap},
		{time.Second, 20 * time.Second},
		{6 * time.Second, 2 * time.Minute},
	} {
		if got := eventSpacing(defaultEventGap, tt.listed); got != tt.want {
			t.Errorf("listed in %s: next look after %s, want %s", tt.listed, got, tt.want)
		}
	}
}
