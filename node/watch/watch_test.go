package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/recent"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sharer records what the watcher asks to share again and answers a new
// CID for each call (or fails while fail is set).
type sharer struct {
	mu    sync.Mutex
	calls []Watch
	fail  error
	// changes are those each share says it sent out; unread the files
	// it says it could not read.
	changes []recent.Change
	unread  []string
}

func (s *sharer) Reshare(_ context.Context, w Watch) (Shared, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return Shared{}, s.fail
	}
	s.calls = append(s.calls, w)
	// As the node's: the version before joins the earlier ones, of which
	// w.Keep stay.
	earlier := append(slices.Clone(w.Earlier), w.Cid)
	if drop := len(earlier) - w.Keep; drop > 0 {
		earlier = earlier[drop:]
	}
	return Shared{Cid: fmt.Sprintf("cid%d", len(s.calls)+1), Earlier: earlier, Changes: s.changes, Unread: s.unread, UnreadCount: len(s.unread)}, nil
}

func (s *sharer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// past is a time every file of a test's folder is set to, well before
// any add a test makes.
var past = time.Now().Add(-time.Hour).Truncate(time.Second)

// folder makes a folder photos with a.jpg and b.tmp, dated past.
func folder(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "photos")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.jpg", "b.tmp"} {
		touch(t, filepath.Join(root, n), "x", past)
	}
	if err := os.Chtimes(root, past, past); err != nil {
		t.Fatal(err)
	}
	return root
}

func touch(t *testing.T, p, body string, at time.Time) {
	t.Helper()
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, file string, s Sharer) *Watcher {
	t.Helper()
	w, err := Open(file, s, Options{Interval: time.Hour, Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func only(t *testing.T, w *Watcher) Watch {
	t.Helper()
	ws := w.List()
	if len(ws) != 1 {
		t.Fatalf("%d watches, want 1: %+v", len(ws), ws)
	}
	return ws[0]
}

// TestWatcherFollowsTheFolder: an unchanged folder is not shared again; a
// change is, once, with the CID shared before, and the watch then holds
// the new CID; a change to an excluded file is not, nor one to a system
// file (Finder's .DS_Store, Word's lock file); a folder that is gone,
// or a share that fails, is recorded as the watch's error, which the next
// good check clears; the watches survive reopening the file.
func TestWatcherFollowsTheFolder(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "watches.json")
	s := &sharer{}
	// shown counts the calls of Changed: a new version or error, which a
	// page shows, and nothing else.
	var shown atomic.Int32
	w, err := Open(file, s, Options{Interval: time.Hour, Settle: time.Millisecond, Changed: func() { shown.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	told := func(want int32) {
		t.Helper()
		if got := shown.Load(); got != want {
			t.Fatalf("the pages were told of %d changes, want %d", got, want)
		}
	}
	root := folder(t)
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Group: "family", Copies: 2, Exclude: []string{"*.tmp"}, Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}

	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	checked := only(t, w).Checked
	w.CheckAll(ctx)
	if s.count() != 0 {
		t.Fatalf("an unchanged folder was shared again: %+v", s.calls)
	}
	told(0)
	// A look that found nothing new is not written to disk.
	if now, err := os.ReadFile(file); err != nil || string(now) != string(saved) {
		t.Errorf("a look that found nothing new rewrote %s (%v)", file, err)
	}
	if !only(t, w).Checked.After(checked) {
		t.Error("the look is not recorded in memory")
	}
	touch(t, filepath.Join(root, "b.tmp"), "excluded", time.Now())
	w.CheckAll(ctx)
	if s.count() != 0 {
		t.Fatal("a change to an excluded file shared the folder again")
	}
	// What Finder and Word leave beside the files is no change either.
	touch(t, filepath.Join(root, ".DS_Store"), "finder", time.Now())
	touch(t, filepath.Join(root, "~$report.docx"), "word's lock", time.Now())
	w.CheckAll(ctx)
	if s.count() != 0 {
		t.Fatal("Finder's .DS_Store or Word's lock file shared the folder again")
	}

	touch(t, filepath.Join(root, "a.jpg"), "new photo", time.Now())
	w.CheckAll(ctx)
	if s.count() != 1 || s.calls[0].Cid != "cid1" || s.calls[0].Copies != 2 || s.calls[0].GroupID != "g1" {
		t.Fatalf("after a change the sharer was asked %+v, want once, replacing cid1", s.calls)
	}
	if got := only(t, w); got.Cid != "cid2" || got.Error != "" {
		t.Fatalf("after the share the watch is %+v, want cid2", got)
	}
	w.CheckAll(ctx)
	if s.count() != 1 {
		t.Fatal("the folder was shared again without a change")
	}
	told(1)

	// Gone, then back: the error says so, then clears.
	moved := root + ".moved"
	if err := os.Rename(root, moved); err != nil {
		t.Fatal(err)
	}
	w.CheckAll(ctx)
	if got := only(t, w); !strings.Contains(got.Error, "is gone") || got.Cid != "cid2" {
		t.Fatalf("a folder moved away: watch %+v, want an error saying it is gone, cid2 kept", got)
	}
	if err := os.Rename(moved, root); err != nil {
		t.Fatal(err)
	}
	w.CheckAll(ctx)
	if got := only(t, w); got.Error != "" || s.count() != 1 {
		t.Fatalf("the folder back unchanged: watch %+v, %d shares", got, s.count())
	}
	told(3) // gone, back

	// A share that fails is not tried again for the same folder before
	// retryAfter (an add reads every byte), but at once after a change.
	touch(t, filepath.Join(root, "c.jpg"), "another", time.Now())
	s.fail = errors.New("the disk is full")
	w.CheckAll(ctx)
	if got := only(t, w); got.Error != "the disk is full" || got.Cid != "cid2" {
		t.Fatalf("a failed share: watch %+v", got)
	}
	s.fail = nil
	w.CheckAll(ctx)
	if got := only(t, w); got.Error != "the disk is full" || s.count() != 1 {
		t.Fatalf("the same folder right after a failed share: watch %+v, %d shares; want no new try", got, s.count())
	}
	touch(t, filepath.Join(root, "d.jpg"), "one more", time.Now())
	w.CheckAll(ctx)
	if got := only(t, w); got.Error != "" || got.Cid != "cid3" || got.Failed != "" {
		t.Fatalf("the share tried again after a change: watch %+v, want cid3", got)
	}
	told(5) // failed, shared

	again := open(t, file, s)
	if got, want := only(t, again), only(t, w); got.Cid != want.Cid || got.Print != want.Print || got.Path != root {
		t.Fatalf("reopened: %+v, want %+v", got, want)
	}
}

// TestWatcherAddSeesWritesDuringTheAdd: a folder written after the add
// that shared it started is shared again at the next check even if it
// does not change again; one written only before is not.
func TestWatcherAddSeesWritesDuringTheAdd(t *testing.T) {
	tests := []struct {
		name    string
		since   time.Time
		reshare bool
	}{
		{"written before the add", time.Now(), false},
		{"written during the add", past.Add(-time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sharer{}
			w := open(t, filepath.Join(t.TempDir(), "watches.json"), s)
			if _, _, err := w.Add(Watch{Path: folder(t), GroupID: "g1", Copies: 1, Cid: "cid1"}, tt.since); err != nil {
				t.Fatal(err)
			}
			w.CheckAll(context.Background())
			if (s.count() == 1) != tt.reshare {
				t.Fatalf("shared again %d times, want a share: %v", s.count(), tt.reshare)
			}
		})
	}
}

// TestWatcherAddAndRemove: a folder watched again in the same group
// updates its watch; in another group it is a second watch; Remove takes
// one group's or every group's, and says when there is none; a relative
// or missing path is refused.
func TestWatcherAddAndRemove(t *testing.T) {
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), &sharer{})
	root := folder(t)
	add := func(group string, copies int) {
		t.Helper()
		if _, _, err := w.Add(Watch{Path: root, GroupID: group, Group: group, Copies: copies, Cid: "cid1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	add("family", 2)
	add("family", 3)
	if got := only(t, w); got.Copies != 3 {
		t.Fatalf("watched again: %+v, want copies 3", got)
	}
	add("work", 1)
	if n := len(w.List()); n != 2 {
		t.Fatalf("%d watches, want one per group", n)
	}
	if gone, err := w.Remove(root, "work"); err != nil || len(gone) != 1 || gone[0].GroupID != "work" {
		t.Fatalf("remove in work: %+v, %v", gone, err)
	}
	add("work", 1)
	if gone, err := w.Remove(root, ""); err != nil || len(gone) != 2 {
		t.Fatalf("remove in every group: %+v, %v", gone, err)
	}
	if _, err := w.Remove(root, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove of a folder not watched: %v", err)
	}
	// Forget ends the watches of one share (it was withdrawn), no other.
	add("family", 2)
	add("work", 1)
	if gone, err := w.Forget("family", "cid-other"); err != nil || len(gone) != 0 {
		t.Fatalf("forget another share: %+v, %v", gone, err)
	}
	if gone, err := w.Forget("family", "cid1"); err != nil || len(gone) != 1 || gone[0].GroupID != "family" {
		t.Fatalf("forget family's share: %+v, %v", gone, err)
	}
	if got := only(t, w); got.GroupID != "work" {
		t.Fatalf("after forget, %+v is left, want work's", got)
	}
	add("family", 2)
	if gone, err := w.ForgetGroup("work"); err != nil || len(gone) != 1 || only(t, w).GroupID != "family" {
		t.Fatalf("forget the group work: %+v, %v; left %+v", gone, err, w.List())
	}
	if _, err := w.Remove(root, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Add(Watch{Path: "photos", GroupID: "g"}, time.Now()); err == nil {
		t.Fatal("a relative path was watched")
	}
	if _, _, err := w.Add(Watch{Path: filepath.Join(root, "nothing"), GroupID: "g"}, time.Now()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing path: %v, want not exist", err)
	}
}

// TestWatcherAddAfterAMove: the same version followed from another path,
// in the same group, takes the place of a watch whose folder is gone (the
// folder moved there); a watch whose folder is still there, of another
// group or of another version stays.
func TestWatcherAddAfterAMove(t *testing.T) {
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), &sharer{})
	add := func(path, group, cid string) []Watch {
		t.Helper()
		_, moved, err := w.Add(Watch{Path: path, GroupID: group, Group: group, Copies: 1, Cid: cid}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return moved
	}
	gone, there, otherGroup, otherCid, moved := folder(t), folder(t), folder(t), folder(t), folder(t)
	add(gone, "family", "cid1")
	add(there, "family", "cid1")
	add(otherGroup, "work", "cid1")
	add(otherCid, "family", "cid2")
	for _, p := range []string{gone, otherGroup, otherCid} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	got := add(moved, "family", "cid1")
	if len(got) != 1 || got[0].Path != gone {
		t.Fatalf("the watches the move ended: %+v, want %s's", got, gone)
	}
	var left []string
	for _, wt := range w.List() {
		left = append(left, wt.Path)
	}
	slices.Sort(left)
	want := []string{there, otherGroup, otherCid, moved}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("watches left %v, want %v", left, want)
	}
	// Saved: a watcher opened again has the same.
	if again := open(t, w.file, &sharer{}); len(again.List()) != 4 {
		t.Fatalf("after a move the saved watches are %+v", again.List())
	}
}

// alwaysChanging is a watcher following one folder (shared as cid1) that
// every look finds changed again: a file written all the time.
func alwaysChanging(t *testing.T) (*Watcher, *sharer) {
	t.Helper()
	s := &sharer{}
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), s)
	if _, _, err := w.Add(Watch{Path: folder(t), GroupID: "g1", Copies: 1, Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var looks atomic.Int32
	w.fingerprint = func(string, dag.Exclusion) (string, time.Time, error) {
		return fmt.Sprint("print-", looks.Add(1)), time.Time{}, nil
	}
	return w, s
}

// TestWatcherAlwaysChanging: a folder found still changing after Settle is
// not shared, look after look, until maxUnsettled looks in a row: then it
// is shared as it is (a folder with a log always being written is shared
// every few looks, not never), and the count starts again.
func TestWatcherAlwaysChanging(t *testing.T) {
	w, s := alwaysChanging(t)
	for i := 1; i < maxUnsettled; i++ {
		w.CheckAll(context.Background())
		if s.count() != 0 || only(t, w).Unsettled != i {
			t.Fatalf("look %d of a folder still changing: %d shares, watch %+v", i, s.count(), only(t, w))
		}
	}
	w.CheckAll(context.Background())
	if got := only(t, w); s.count() != 1 || got.Unsettled != 0 || got.Cid != "cid2" {
		t.Fatalf("look %d of a folder still changing: %d shares, watch %+v; want it shared", maxUnsettled, s.count(), got)
	}
}

// TestWatcherRun: Kick has Run check at once; Run ends with its context.
func TestWatcherRun(t *testing.T) {
	s := &sharer{}
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), s)
	root := folder(t)
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	touch(t, filepath.Join(root, "a.jpg"), "changed", time.Now())
	w.Kick()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a kicked watcher did not share the change")
		}
		time.Sleep(5 * time.Millisecond) // polling pace for a condition with a deadline
	}
	cancel()
	<-done
}

// TestWatcherLeavesOutTheRepo: a watched folder that holds kith's repo (a
// home folder) is not shared again when only the repo changed (it changes
// with every add: following it would share the folder forever), and is
// when something else did.
func TestWatcherLeavesOutTheRepo(t *testing.T) {
	ctx := context.Background()
	s := &sharer{}
	root := folder(t)
	repo := filepath.Join(root, ".kith")
	if err := os.Mkdir(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(repo, "identity.key"), "key", past)
	if err := os.Chtimes(root, past, past); err != nil {
		t.Fatal(err)
	}
	w, err := Open(filepath.Join(t.TempDir(), "watches.json"), s, Options{Interval: time.Hour, Settle: time.Millisecond, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(repo, "blocks.pack"), "new blocks", time.Now())
	w.CheckAll(ctx)
	if s.count() != 0 {
		t.Fatalf("a change in the repo shared the folder again: %+v", s.calls)
	}
	touch(t, filepath.Join(root, "a.jpg"), "new photo", time.Now())
	w.CheckAll(ctx)
	if s.count() != 1 {
		t.Fatalf("a change beside the repo: %d shares, want 1", s.count())
	}
}

// TestWatcherKeepsEarlier: the earlier versions the sharer keeps are the
// watch's, across watching the folder again; forgetting one of them (it
// was unshared by hand) takes it off the list and leaves the watch.
func TestWatcherKeepsEarlier(t *testing.T) {
	ctx := context.Background()
	s := &sharer{}
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), s)
	root := folder(t)
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid1", Keep: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]string{{"cid1"}, {"cid1", "cid2"}, {"cid2", "cid3"}} {
		touch(t, filepath.Join(root, "a.jpg"), fmt.Sprint("change ", i), time.Now())
		w.CheckAll(ctx)
		if got := only(t, w).Earlier; !slices.Equal(got, want) {
			t.Fatalf("after change %d the watch keeps %q, want %q", i+1, got, want)
		}
	}
	// Watched again (kith share --watch of the same folder): what it kept
	// stays kept.
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid9", Keep: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// (cid4, the version it shared until then, joins them: the next
	// change trims to Keep.)
	if got := only(t, w).Earlier; !slices.Equal(got, []string{"cid2", "cid3", "cid4"}) {
		t.Fatalf("watched again, the watch keeps %q", got)
	}
	if gone, err := w.Forget("g1", "cid2"); err != nil || len(gone) != 0 {
		t.Fatalf("Forget of a kept version: %+v, %v; want no watch removed", gone, err)
	}
	if got := only(t, w); !slices.Equal(got.Earlier, []string{"cid3", "cid4"}) || got.Cid != "cid9" {
		t.Fatalf("after Forget of cid2 the watch is %+v", got)
	}
	if reopened := open(t, filepath.Join(filepath.Dir(w.file), "watches.json"), s); !slices.Equal(only(t, reopened).Earlier, []string{"cid3", "cid4"}) {
		t.Fatalf("reopened, the watch keeps %q", only(t, reopened).Earlier)
	}
}

// TestWatcherRecentChanges: what each share sent out is the watch's
// recent changes, newest share first, with the version and when; they
// stay across watching the folder again and a reopening.
func TestWatcherRecentChanges(t *testing.T) {
	ctx := context.Background()
	s := &sharer{changes: []recent.Change{{Path: "a.jpg", What: recent.Written}}}
	file := filepath.Join(t.TempDir(), "watches.json")
	w := open(t, file, s)
	root := folder(t)
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(root, "a.jpg"), "change 1", time.Now())
	w.CheckAll(ctx)
	got := only(t, w).Recent
	if len(got) != 1 || got[0].Path != "a.jpg" || got[0].What != recent.Written || got[0].Version != "cid2" || time.Since(got[0].At) > time.Minute {
		t.Fatalf("after a share the watch's recent changes are %+v, want a.jpg written in cid2, now", got)
	}
	s.mu.Lock()
	s.changes = []recent.Change{{Path: "b.tmp", What: recent.Removed}}
	s.mu.Unlock()
	touch(t, filepath.Join(root, "a.jpg"), "change 2", time.Now())
	w.CheckAll(ctx)
	if got := only(t, w).Recent; len(got) != 2 || got[0].Path != "b.tmp" || got[0].Version != "cid3" || got[1].Version != "cid2" {
		t.Fatalf("after the next share: %+v, want its change first", got)
	}
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid3"}, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := only(t, open(t, file, s)).Recent; len(got) != 2 {
		t.Fatalf("watched again and reopened, the recent changes are %+v", got)
	}
}

// TestWatcherUnreadFiles: a share that could not read some files is
// shared, and says which; the folder is not added again at each look
// (nor waited on to settle) until retryAfter has passed, then it is, and
// a share that reads everything clears the sentence.
func TestWatcherUnreadFiles(t *testing.T) {
	ctx := context.Background()
	s := &sharer{unread: []string{"locked.db (permission denied: shared as it was before)"}}
	w := open(t, filepath.Join(t.TempDir(), "watches.json"), s)
	root := folder(t)
	if _, _, err := w.Add(Watch{Path: root, GroupID: "g1", Copies: 1, Cid: "cid1"}, past.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	w.record(only(t, w), func(cur *Watch) { cur.Print = "" }) // changed: shared at the next look
	w.CheckAll(ctx)
	got := only(t, w)
	if got.Cid != "cid2" || !strings.Contains(got.Error, "shared, but could not read 1 of its files: locked.db (permission denied: shared as it was before). They are tried again every 10 minutes") {
		t.Fatalf("after a share that could not read a file: %+v", got)
	}
	// The next add reads what changed since the last one that read
	// everything: what it linked as it was is not what the disk holds.
	addedAt := got.AddedAt
	if addedAt.IsZero() || addedAt.After(time.Now().Add(-30*time.Minute)) {
		t.Fatalf("after a share that could not read a file, AddedAt is %v, want the watch's, %v", addedAt, past.Add(-time.Hour))
	}
	listed := 0
	fingerprint := w.fingerprint
	w.fingerprint = func(p string, x dag.Exclusion) (string, time.Time, error) {
		listed++
		return fingerprint(p, x)
	}
	w.CheckAll(ctx)
	if s.count() != 1 || listed != 1 {
		t.Fatalf("looked at again at once, the folder was shared %d times (want once) and listed %d times (want once: not waited on to settle)", s.count(), listed)
	}
	w.record(only(t, w), func(cur *Watch) { cur.FailedAt = cur.FailedAt.Add(-retryAfter) })
	s.mu.Lock()
	s.unread = nil
	s.mu.Unlock()
	w.CheckAll(ctx)
	if got := only(t, w); s.count() != 2 || got.Error != "" || got.Cid != "cid3" || !got.AddedAt.After(addedAt) {
		t.Fatalf("after retryAfter, unchanged: %d shares, %+v", s.count(), got)
	}
}

// TestWatcherShareAgain: a folder whose listing did not change is shared
// again after ShareAgain (a folder that syncs was merged), once, and the
// file says so across a reopening.
func TestWatcherShareAgain(t *testing.T) {
	s := &sharer{}
	file := filepath.Join(t.TempDir(), "watches.json")
	w := open(t, file, s)
	dir := folder(t)
	if _, _, err := w.Add(Watch{Path: dir, GroupID: "g1", Copies: 1, Cid: "cid1", Sync: true, Name: "photos"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.CheckAll(context.Background())
	if s.count() != 0 {
		t.Fatalf("an unchanged folder shared %d times", s.count())
	}
	w.ShareAgain(dir)
	if again := open(t, file, s); only(t, again).Print != "" {
		t.Error("ShareAgain was not saved: a restart would not share the merge")
	}
	w.CheckAll(context.Background())
	w.CheckAll(context.Background())
	if s.count() != 1 {
		t.Fatalf("after ShareAgain shared %d times, want once", s.count())
	}
}
