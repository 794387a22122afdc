package mirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// shares is a Source over one store: what each group shares under each
// name, as the node's group state would say, and fetch failures to give.
type shares struct {
	bs blockstore.Blockstore

	mu       sync.Mutex
	newest   map[string]cid.Cid // group + "/" + name
	meta     map[string]cid.Cid // its modes and times
	fetchErr error
	fetches  int
}

func (s *shares) share(group, name string, c cid.Cid) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.newest == nil {
		s.newest = map[string]cid.Cid{}
	}
	if c == cid.Undef {
		delete(s.newest, group+"/"+name)
		return
	}
	s.newest[group+"/"+name] = c
}

// shareMeta has the version shared as name come with the meta file m.
func (s *shares) shareMeta(group, name string, m cid.Cid) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		s.meta = map[string]cid.Cid{}
	}
	s.meta[group+"/"+name] = m
}

func (s *shares) Newest(group, name string) (Shared, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.newest[group+"/"+name]
	return Shared{Root: c, Meta: s.meta[group+"/"+name]}, ok, nil
}

func (s *shares) Hold(c cid.Cid) (blockstore.Blockstore, func()) { return s.bs, func() {} }

// Fetch counts the versions fetched; the store holds them whole.
func (s *shares) Fetch(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if files != nil {
		s.fetches++
	}
	return 0, s.fetchErr
}

// running opens mirrors in a new folder and runs them until the test ends.
func running(t *testing.T, src Source, dir string, interval time.Duration, changed func()) *Mirrors {
	t.Helper()
	m, err := Open(dir, src, Options{Interval: interval, Changed: changed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

// waitMirror waits until the mirror at path satisfies cond.
func waitMirror(t *testing.T, m *Mirrors, path, what string, cond func(Mirror) bool) Mirror {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, mr := range m.List() {
			if mr.Path == path && cond(mr) {
				return mr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, m.List())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMirrorFollowsTheGroup: a mirror made of a folder just got follows
// each newer version its group shares under the name, keeps what was
// changed here, and survives a restart; once removed, its folder stays.
func TestMirrorFollowsTheGroup(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "one", "b.txt": "bee"})
	v2 := version(t, bs, tree{"a.txt": "two", "b.txt": "bee, changed"})
	src.share("g1", "Docs", v1)
	state := t.TempDir()
	changed := make(chan struct{}, 100)
	m := running(t, src, state, time.Hour, func() { changed <- struct{}{} })
	folder, mr := followGot(t, m, bs, v1)
	if mr.Cid != v1.String() || mr.Error != "" {
		t.Fatalf("added %+v", mr)
	}

	writeFile(t, filepath.Join(folder, "b.txt"), "mine")
	src.share("g1", "Docs", v2)
	m.Kick()
	mr = waitMirror(t, m, folder, "v2 written", func(mr Mirror) bool { return mr.Cid == v2.String() })
	if b, _ := os.ReadFile(filepath.Join(folder, "a.txt")); string(b) != "two" {
		t.Errorf("a.txt = %q after v2", b)
	}
	if b, _ := os.ReadFile(filepath.Join(folder, "b.txt")); string(b) != "mine" {
		t.Errorf("b.txt, changed here, = %q after v2", b)
	}
	if mr.KeptCount != 1 || len(mr.Kept) != 1 || mr.Kept[0] != "b.txt" {
		t.Errorf("kept %v (%d), want b.txt", mr.Kept, mr.KeptCount)
	}
	if len(changed) == 0 {
		t.Error("Changed was not called for the new version")
	}

	// Nothing shared under the name any more: the folder stays, and the
	// mirror says why it does not change.
	src.share("g1", "Docs", cid.Undef)
	m.Kick()
	mr = waitMirror(t, m, folder, "the error", func(mr Mirror) bool { return mr.Error != "" })
	if !strings.Contains(mr.Error, "family shares nothing called Docs any more") {
		t.Errorf("error %q", mr.Error)
	}

	// After a restart, the list and what was written are read back.
	m2, err := Open(state, src, Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if l := m2.List(); len(l) != 1 || l[0].Cid != v2.String() || l[0].Path != folder {
		t.Fatalf("after a restart: %+v", l)
	}
	v3 := version(t, bs, tree{"a.txt": "three", "b.txt": "bee, changed"})
	src.share("g1", "Docs", v3)
	m2.CheckAll(context.Background())
	if b, _ := os.ReadFile(filepath.Join(m2.List()[0].Path, "a.txt")); string(b) != "three" {
		t.Errorf("after a restart, a.txt = %q, want three", b)
	}

	if _, err := m.Remove(folder); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Remove(folder); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(folder, "a.txt")); err != nil {
		t.Errorf("the folder's files went with the mirror: %v", err)
	}
	ents, _ := os.ReadDir(state)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "manifest-") {
			t.Errorf("%s stays after the mirror was removed", e.Name())
		}
	}
}

// TestMirrorWaitsForItsFolder: a mirror whose folder is gone (a disk not
// mounted) is not made again, and says so; a failed fetch is not tried
// again at every kick.
func TestMirrorWaitsForItsFolder(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "one"})
	v2 := version(t, bs, tree{"a.txt": "two"})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	folder, _ := followGot(t, m, bs, v1)
	ctx := context.Background()
	if _, err := m.Add(ctx, Mirror{Path: filepath.Join(folder, "inner"), GroupID: "g1", Name: "Other", Cid: v1.String()}, bs); !errors.Is(err, ErrOverlap) {
		t.Errorf("a mirror inside a mirror: %v", err)
	}

	src.share("g1", "Docs", v2)
	src.mu.Lock()
	src.fetchErr = errors.New("no peer has it")
	src.mu.Unlock()
	m.CheckAll(ctx)
	m.CheckAll(ctx)
	mr := m.List()[0]
	if src.fetches != 1 || mr.Failed != v2.String() || !strings.Contains(mr.Error, "no peer has it") || mr.Cid != v1.String() {
		t.Errorf("after a failed fetch, checked twice: %d fetches, %+v", src.fetches, mr)
	}

	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	src.fetchErr = nil
	src.mu.Unlock()
	m.opts.Interval = 0 // the failed version may be tried again
	m.CheckAll(ctx)
	mr = m.List()[0]
	if !strings.Contains(mr.Error, folder+" is gone: family's newer versions of Docs are written into it once it is back") {
		t.Errorf("error %q", mr.Error)
	}
	if _, err := os.Stat(folder); !os.IsNotExist(err) {
		t.Errorf("the gone folder was made again: %v", err)
	}
}

// hanging is a Source whose fetch of the files an update writes reports
// 3 bytes and then waits until it is cancelled (a daemon stopping, or the
// mirror removed, mid-update).
type hanging struct {
	*shares
	started chan struct{}
}

func (h hanging) Fetch(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error) {
	if progress == nil {
		return 0, nil // the folders, and each file's first block
	}
	progress(3)
	h.started <- struct{}{}
	<-ctx.Done()
	return 0, ctx.Err()
}

// TestMirrorStoppedMidUpdate: an update says how far it is while it runs;
// one cut off by the daemon stopping is not a failure: nothing is
// reported, and the next start tries at once.
func TestMirrorStoppedMidUpdate(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := hanging{&shares{bs: bs}, make(chan struct{}, 1)}
	v1 := version(t, bs, tree{"a.txt": "one"})
	v2 := version(t, bs, tree{"a.txt": "two", "b.txt": "and three"})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	followGot(t, m, bs, v1)
	src.share("g1", "Docs", v2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.CheckAll(ctx) }()
	<-src.started
	if mr := m.List()[0]; mr.Pending != v2.String() || mr.Progress == nil || *mr.Progress != (Progress{Phase: PhaseFetch, Done: 3, Total: 12}) {
		t.Errorf("mid-update: %+v (progress %+v), want v2 pending, 3 of 12 bytes fetched", mr, mr.Progress)
	}
	cancel()
	<-done
	mr := m.List()[0]
	if mr.Error != "" || mr.Failed != "" || mr.Cid != v1.String() || mr.Progress != nil {
		t.Errorf("after a stop mid-update: %+v, want no error, no failed version, v1 still, no progress", mr)
	}
}

// TestMirrorAFolderAsItIs: a folder that already has a copy (from before
// kith) follows the group's share: the files that hold the version's
// bytes are taken as they are (not written again), one that differs is
// kept and named, one the group lacks is left alone, what is missing is
// written. A folder that does not exist yet is made.
func TestMirrorAFolderAsItIs(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v := version(t, bs, tree{"same.txt": "same", "diff.txt": "the group's", "new.txt": "new", "sub": tree{"s.txt": "s"}})
	src.share("g1", "Docs", v)
	folder := filepath.Join(t.TempDir(), "Docs")
	tree{"same.txt": "same", "diff.txt": "mine", "extra.txt": "only here"}.write(t, mustMkdir(t, folder))
	same, _ := os.Stat(filepath.Join(folder, "same.txt"))
	m := opened(t, src)
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "made", "Docs")
	for _, p := range []string{folder, missing} {
		mr, err := m.Add(ctx, Mirror{Path: p, GroupID: "g1", Group: "family", Name: "Docs"}, bs)
		if err != nil || mr.Cid != "" || !mr.Updated.IsZero() {
			t.Fatalf("add %s: %+v, %v", p, mr, err)
		}
	}
	m.CheckAll(ctx)
	for _, mr := range m.List() {
		if mr.Cid != v.String() || mr.Error != "" {
			t.Errorf("%s: %+v, want the version written", mr.Path, mr)
		}
		if mr.Path == folder && (mr.KeptCount != 1 || mr.Kept[0] != "diff.txt") {
			t.Errorf("kept %v (%d), want diff.txt", mr.Kept, mr.KeptCount)
		}
	}
	for name, want := range map[string]string{"same.txt": "same", "diff.txt": "mine", "extra.txt": "only here", "new.txt": "new", "sub/s.txt": "s"} {
		if b, err := os.ReadFile(filepath.Join(folder, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	if st, _ := os.Stat(filepath.Join(folder, "same.txt")); !os.SameFile(st, same) || !st.ModTime().Equal(same.ModTime()) {
		t.Error("same.txt, already the group's bytes, was written again")
	}
	holds(t, missing, v)
}

func mustMkdir(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// opened is Mirrors in a new folder, looking only when asked (CheckAll).
func opened(t *testing.T, src Source) *Mirrors {
	t.Helper()
	m, err := Open(t.TempDir(), src, Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// followGot writes v into a new folder Docs, as kith get does, and has it
// follow what g1 ("family") shares as Docs, as --follow does.
func followGot(t *testing.T, m *Mirrors, bs blockstore.Blockstore, v cid.Cid) (string, Mirror) {
	t.Helper()
	folder := mustMkdir(t, filepath.Join(t.TempDir(), "Docs"))
	apply(t, bs, v, folder, Manifest{})
	mr, err := m.Add(context.Background(), Mirror{Path: folder, GroupID: "g1", Group: "family", Name: "Docs", Cid: v.String()}, bs)
	if err != nil {
		t.Fatal(err)
	}
	return folder, mr
}

// TestMirrorRevert: a revert asked of a mirror writes the group's version
// over what was changed here at the next look, even with no newer version,
// and is done once; one of a folder not mirrored is ErrNotFound.
func TestMirrorRevert(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "the group's", "b.txt": "b"})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	folder, _ := followGot(t, m, bs, v1)
	writeFile(t, filepath.Join(folder, "a.txt"), "mine")
	v2 := version(t, bs, tree{"a.txt": "the group's", "b.txt": "b2"})
	src.share("g1", "Docs", v2)
	ctx := context.Background()
	m.CheckAll(ctx)
	if mr := m.List()[0]; mr.Cid != v2.String() || mr.KeptCount != 1 {
		t.Fatalf("before the revert: %+v, want v2 with a.txt kept", mr)
	}
	mr, err := m.Revert(folder)
	if err != nil || !mr.Revert {
		t.Fatalf("revert: %+v, %v", mr, err)
	}
	m.CheckAll(ctx)
	if mr := m.List()[0]; mr.Revert || mr.KeptCount != 0 || mr.Error != "" {
		t.Errorf("after the revert: %+v, want nothing kept, no revert pending", mr)
	}
	if b, _ := os.ReadFile(filepath.Join(folder, "a.txt")); string(b) != "the group's" {
		t.Errorf("a.txt = %q after the revert", b)
	}
	if _, err := m.Revert(filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("revert of a folder not mirrored: %v", err)
	}
}

// TestMirrorExcludeChanged: a folder followed again with other names left
// out has the version it holds written again at the next look, keeping
// what it wrote (nothing is compared again): what is now left out goes,
// what no longer is comes; followed again as it is, or with no word of
// what it leaves out, nothing happens; a folder gone is written again. A
// pattern that cannot be used is refused.
func TestMirrorExcludeChanged(t *testing.T) {
	bs := blockstore.NewMemStore()
	src := &shares{bs: bs}
	v1 := version(t, bs, tree{"a.txt": "a", "film.mkv": "a film", "Raw": tree{"b.cr2": "raw"}})
	src.share("g1", "Docs", v1)
	m := opened(t, src)
	folder, _ := followGot(t, m, bs, v1)
	ctx := context.Background()
	again := func(exclude []string) Mirror {
		t.Helper()
		mr, err := m.Add(ctx, Mirror{Path: folder, GroupID: "g1", Group: "family", Name: "Docs", Exclude: exclude}, bs)
		if err != nil {
			t.Fatal(err)
		}
		return mr
	}
	if mr := again([]string{"*.mkv", "Raw/"}); !mr.Reapply || mr.Cid != v1.String() {
		t.Fatalf("followed again leaving out more: %+v, want the same version, to be written again", mr)
	}
	m.CheckAll(ctx)
	holds(t, folder, version(t, blockstore.NewMemStore(), tree{"a.txt": "a"}))
	mr := m.List()[0]
	if mr.Reapply || mr.Error != "" || !slices.Equal(mr.Exclude, []string{"*.mkv", "Raw/"}) {
		t.Errorf("after: %+v", mr)
	}
	if mr := again([]string{"*.mkv", "Raw/"}); mr.Reapply {
		t.Errorf("followed again as it was: %+v, want nothing to do", mr)
	}
	if mr := again(nil); mr.Reapply || len(mr.Exclude) != 2 {
		t.Errorf("followed again, saying nothing of what it leaves out: %+v, want it as it was", mr)
	}

	again([]string{})
	m.CheckAll(ctx)
	holds(t, folder, v1)
	if mr := m.List()[0]; mr.Reapply || len(mr.Exclude) != 0 {
		t.Errorf("after leaving out nothing: %+v", mr)
	}

	// Gone, then followed again: made, and written whole, leaving out
	// what it left out.
	again([]string{"Raw/"})
	m.CheckAll(ctx)
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	if mr := again(nil); mr.Cid != "" || !slices.Equal(mr.Exclude, []string{"Raw/"}) {
		t.Errorf("a folder gone, followed again: %+v, want a new start leaving out Raw/", mr)
	}
	m.CheckAll(ctx)
	holds(t, folder, version(t, blockstore.NewMemStore(), tree{"a.txt": "a", "film.mkv": "a film"}))

	if _, err := m.Add(ctx, Mirror{Path: folder, GroupID: "g1", Group: "family", Name: "Docs", Exclude: []string{"a//b"}}, bs); !errors.Is(err, dag.ErrBadPattern) {
		t.Errorf("a path with an empty element as a pattern: %v, want ErrBadPattern", err)
	}
}
