// Package watch keeps group shares following folders on disk (`kith share
// --watch`): it lists each watched folder when the system reports a change
// in it (notify.go) and every interval, cheaply (names, sizes, times:
// dag.Fingerprint), and when one changed and has stayed still for a
// moment, has it added and shared again in place of the version shared
// before. The list of watches survives restarts in one JSON file of the
// repo.
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/atomicfile"
	"github.com/kith-p2p/kith/node/recent"
)

// ErrNotFound is returned (wrapped) for a watch that does not exist.
var ErrNotFound = errors.New("no such watch")

// Watch is one folder (or file) whose share follows it.
type Watch struct {
	Path    string   `json:"path"`     // absolute
	GroupID string   `json:"group_id"` // the group's ID: names are local
	Group   string   `json:"group"`    // its name when the watch was made
	Copies  int      `json:"copies"`
	Exclude []string `json:"exclude,omitempty"`
	// Cid is the version shared now, and Print the fingerprint of the
	// folder it was added from.
	Cid   string `json:"cid"`
	Print string `json:"fingerprint"`
	// Updated is when Cid was shared; Checked when the folder was last
	// looked at. AddedAt is when the add of Cid started reading the
	// folder: a file unchanged since is not read again (dag.Reuse).
	Updated time.Time `json:"updated"`
	Checked time.Time `json:"checked"`
	AddedAt time.Time `json:"added_at,omitzero"`
	// Error is why the last look or share failed (a sentence), until one
	// succeeds: the folder gone, the disk full.
	Error string `json:"error,omitempty"`
	// Failed is the fingerprint whose share failed, at FailedAt: the same
	// folder is not added again before retryAfter has passed (an add
	// reads every byte).
	Failed   string    `json:"failed,omitempty"`
	FailedAt time.Time `json:"failed_at,omitzero"`
	// Unsettled counts the looks in a row that found the folder changed
	// and still changing after Settle.
	Unsettled int `json:"unsettled,omitempty"`
	// Keep is how many versions before Cid the group keeps shared too
	// (a file deleted or overwritten by mistake can be got back), and
	// Earlier those versions, oldest first.
	Keep    int      `json:"keep,omitempty"`
	Earlier []string `json:"earlier,omitempty"`
	// Sync is a folder that syncs both ways: it also follows the group's
	// newer versions of Name (a mirror writes them in), and is shared as
	// Name, whatever the folder is called.
	Sync bool   `json:"sync,omitempty"`
	Name string `json:"name,omitempty"`
	// Paused: the folder is not looked at, nor shared, until resumed
	// (SetPaused); what changed meanwhile is shared then.
	Paused bool `json:"paused,omitempty"`
	// Recent are the last changes the shares of the folder sent out,
	// newest first (at most recent.Max), as Syncthing's recent changes.
	Recent []recent.Change `json:"recent,omitempty"`
}

// ErrNotNow is Reshare's error for a folder that cannot be shared yet
// (a folder that syncs both ways has a newer version to write in first):
// no failure, the next look tries again.
var ErrNotNow = errors.New("not now")

// retryAfter is how long a folder whose share failed waits, unchanged,
// before it is added and shared again.
const retryAfter = 10 * time.Minute

// maxUnsettled is how many looks in a row a changed folder may be found
// still changing before it is shared as it is: a folder with a file that
// is always being written (a log, a database) is shared every few looks
// rather than never.
const maxUnsettled = 5

// key is what makes a watch unique: one folder in one group.
func (w Watch) key() string { return w.GroupID + "\x00" + w.Path }

// Sharer adds a watched folder and shares the result, in place of the
// version shared before.
type Sharer interface {
	// Reshare adds w.Path (leaving out w.Exclude) and shares it in w's
	// group with w.Copies. When the new CID differs, w.Cid joins
	// w.Earlier, and the oldest of those stop being shared there (and
	// lose the pin they were added with) while more than w.Keep remain.
	Reshare(ctx context.Context, w Watch) (Shared, error)
}

// Shared is what a Reshare shared.
type Shared struct {
	Cid     string   // the version shared now
	Earlier []string // the versions before it still shared, oldest first
	// Changes are what changed in the folder since the version it was
	// shared from (at most recent.Max; none when that is unknown).
	Changes []recent.Change
	// Unread names the files it could not read (no permission, held by
	// another program), each with why and what became of it (shared as
	// it was before, or left out while new), the first few; UnreadCount
	// says how many. The folder is added again after
	// retryAfter, changed or not.
	Unread      []string
	UnreadCount int
}

// Options tunes a Watcher.
type Options struct {
	// Interval is how often every watched folder is looked at.
	Interval time.Duration
	// Settle is how long a changed folder must stay the same before it is
	// added: a folder being copied into is not shared half-written.
	Settle time.Duration
	Log    *slog.Logger
	// Notify has the system report changes (where notifySupported), so
	// that a folder is looked at seconds after a change.
	Notify bool
	// Repo is a folder never looked at (kith's repo: it changes with
	// every add, and is never added).
	Repo string
	// Changed, when set, is called after a watch's version or error
	// changed (not after a look that found nothing new), outside the lock.
	Changed func()
}

// Watcher holds the watches and checks them.
type Watcher struct {
	file   string
	sharer Sharer
	opts   Options
	// fingerprint is dag.Fingerprint (tests give folders that never settle).
	fingerprint func(string, dag.Exclusion) (string, time.Time, error)
	// eventGap is the shortest time between two looks at one folder that
	// events asked for (defaultEventGap; tests shorten it).
	eventGap time.Duration

	mu      sync.Mutex
	watches []Watch
	kick    chan struct{}
	resync  chan struct{} // the watches changed: Run has the system watch them
}

// Open loads the watches kept in file (none when it does not exist).
func Open(file string, s Sharer, opts Options) (*Watcher, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{file: file, sharer: s, opts: opts, kick: make(chan struct{}, 1), resync: make(chan struct{}, 1), fingerprint: dag.Fingerprint, eventGap: defaultEventGap}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return w, nil
	case err != nil:
		return nil, fmt.Errorf("read the watched folders: %w", err)
	}
	if err := json.Unmarshal(b, &w.watches); err != nil {
		return nil, fmt.Errorf("read the watched folders in %s: %w", file, err)
	}
	return w, nil
}

// Add starts watching wt.Path (or, for a folder already watched in that
// group, updates the watch). wt.Cid is the version just shared, added from
// the folder by an add that started at since: the watch takes the
// folder's fingerprint now, unless something in it is newer than since
// (written while the add read it), in which case the next check, at once,
// shares it again.
//
// A watch of the same group whose folder is gone and whose share is this
// very version followed the same folder before it moved here: it ends,
// and Add returns it as moved.
func (w *Watcher) Add(wt Watch, since time.Time) (added Watch, moved []Watch, err error) {
	if !filepath.IsAbs(wt.Path) {
		return Watch{}, nil, fmt.Errorf("watch %q: the path must be absolute", wt.Path)
	}
	x, err := w.exclusion(wt)
	if err != nil {
		return Watch{}, nil, err
	}
	print, newest, err := w.fingerprint(wt.Path, x)
	if err != nil {
		return Watch{}, nil, fmt.Errorf("watch %s: %w", wt.Path, err)
	}
	// A second of margin: some file systems keep coarse times.
	changed := !newest.Before(since.Add(-time.Second))
	if changed {
		print = ""
	}
	now := time.Now()
	wt.Print, wt.Updated, wt.Checked, wt.Error, wt.AddedAt = print, now, now, "", since
	w.mu.Lock()
	ws := slices.DeleteFunc(slices.Clone(w.watches), func(o Watch) bool {
		if o.GroupID != wt.GroupID || o.Cid != wt.Cid || o.Path == wt.Path {
			return false
		}
		if _, err := os.Lstat(o.Path); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
		moved = append(moved, o)
		return true
	})
	if i := slices.IndexFunc(ws, func(o Watch) bool { return o.key() == wt.key() }); i >= 0 {
		// The same folder watched again: the versions it kept stay kept,
		// and, when it keeps some, the one it shared joins them.
		earlier := slices.Clone(ws[i].Earlier)
		if wt.Keep > 0 && ws[i].Cid != "" && !slices.Contains(earlier, ws[i].Cid) {
			earlier = append(earlier, ws[i].Cid)
		}
		wt.Earlier = slices.DeleteFunc(earlier, func(c string) bool { return c == wt.Cid })
		wt.Paused = ws[i].Paused // resumed only when asked
		wt.Recent = ws[i].Recent
		ws[i] = wt
	} else {
		ws = append(ws, wt)
	}
	err = w.saveLocked(ws)
	w.mu.Unlock()
	if err != nil {
		return Watch{}, nil, err
	}
	poke(w.resync)
	if changed {
		w.Kick()
	}
	return wt, moved, nil
}

// Remove stops watching path in the group groupID ("": in every group).
// It returns the watches removed; none is ErrNotFound.
func (w *Watcher) Remove(path, groupID string) ([]Watch, error) {
	gone, err := w.removeWhere(func(wt Watch) bool { return wt.Path == path && (groupID == "" || wt.GroupID == groupID) }, nil)
	if err == nil && len(gone) == 0 {
		return nil, fmt.Errorf("%s is not watched: %w", path, ErrNotFound)
	}
	return gone, err
}

// SetPaused pauses (or resumes) the watches of path, in every group: a
// paused watch's folder is not looked at, and not shared, until it is
// resumed, when it is looked at at once. It returns the watches of path;
// none is ErrNotFound.
func (w *Watcher) SetPaused(path string, paused bool) ([]Watch, error) {
	w.mu.Lock()
	ws := slices.Clone(w.watches)
	var out []Watch
	changed := false
	for i := range ws {
		if ws[i].Path != path {
			continue
		}
		changed = changed || ws[i].Paused != paused
		ws[i].Paused = paused
		out = append(out, ws[i])
	}
	var err error
	if changed {
		err = w.saveLocked(ws)
	}
	w.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case len(out) == 0:
		return nil, fmt.Errorf("%s is not watched: %w", path, ErrNotFound)
	}
	if changed && w.opts.Changed != nil {
		w.opts.Changed()
	}
	if !paused {
		w.Kick()
	}
	return out, nil
}

// Forget removes the watches of the group groupID whose share is cid
// (the share was withdrawn: following the folder would share it again),
// and cid from the earlier versions the group's watches keep. It returns
// the watches removed.
func (w *Watcher) Forget(groupID, cid string) ([]Watch, error) {
	return w.removeWhere(func(wt Watch) bool { return wt.GroupID == groupID && wt.Cid == cid },
		func(wt *Watch) bool {
			if wt.GroupID != groupID || !slices.Contains(wt.Earlier, cid) {
				return false
			}
			wt.Earlier = slices.DeleteFunc(slices.Clone(wt.Earlier), func(c string) bool { return c == cid })
			return true
		})
}

// ForgetGroup removes the watches of the group groupID (it was left).
func (w *Watcher) ForgetGroup(groupID string) ([]Watch, error) {
	return w.removeWhere(func(wt Watch) bool { return wt.GroupID == groupID }, nil)
}

// removeWhere removes, and returns, the watches gone says to, and has
// edit (when not nil) change those kept, reporting which it changed; the
// file is written only when something was removed or changed.
func (w *Watcher) removeWhere(gone func(Watch) bool, edit func(*Watch) bool) ([]Watch, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var kept, removed []Watch
	edited := false
	for _, wt := range w.watches {
		if gone(wt) {
			removed = append(removed, wt)
			continue
		}
		if edit != nil && edit(&wt) {
			edited = true
		}
		kept = append(kept, wt)
	}
	if len(removed) == 0 && !edited {
		return nil, nil
	}
	if err := w.saveLocked(kept); err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		poke(w.resync)
	}
	return removed, nil
}

// List returns the watches, by path then group.
func (w *Watcher) List() []Watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.watches)
	slices.SortFunc(out, func(a, b Watch) int {
		if a.Path != b.Path {
			return strings.Compare(a.Path, b.Path)
		}
		return strings.Compare(a.Group, b.Group)
	})
	return out
}

// Kick has Run check every folder now rather than at the next interval.
func (w *Watcher) Kick() { poke(w.kick) }

// ShareAgain has the watches of path add and share the folder at their next
// look even if its listing did not change (a folder that syncs both ways
// was merged with another device's version: what it holds now may not be
// what either shared), and kicks Run.
func (w *Watcher) ShareAgain(path string) {
	for _, wt := range w.List() {
		if wt.Path == path && wt.Print != "" {
			w.record(wt, func(cur *Watch) { cur.Print = "" }) // saved: a restart looks too
		}
	}
	w.Kick()
}

// poke signals c without waiting (once is enough).
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run checks every watched folder each interval (and when kicked) until
// ctx ends. With Notify, where the system reports changes, a folder
// is also checked once a change in it has been followed by Settle of
// quiet: shared seconds after the change, not at the next interval. Such
// looks at one folder are at least 10 s apart, and 20 times as long as
// the last listing of it took (a home folder whose caches are written
// all the time is not listed over and over: listing costs at most 5% of
// the time).
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	n := newNotifier(w.opts.Log, w.opts.Repo, w.opts.Notify && notifySupported)
	defer n.close()
	n.sync(w.List(), true)
	notBefore := map[string]time.Time{} // path -> the earliest next look an event may ask for
	due := time.NewTimer(time.Hour)
	due.Stop()
	defer due.Stop()
	for {
		retry := true
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.CheckAll(ctx)
		case <-w.kick:
			w.CheckAll(ctx)
		case <-w.resync:
		case <-n.wake:
			retry = false
		case <-due.C:
			retry = false
		}
		n.sync(w.List(), retry)
		now := time.Now()
		for p, at := range notBefore {
			if now.After(at) {
				delete(notBefore, p)
			}
		}
		paths, next := n.due(now, w.opts.Settle, notBefore)
		for _, p := range paths {
			var listed time.Duration
			for _, wt := range w.List() {
				if wt.Path == p && ctx.Err() == nil {
					listed += w.check(ctx, wt, true)
				}
			}
			notBefore[p] = time.Now().Add(eventSpacing(w.eventGap, listed))
		}
		if !next.IsZero() {
			due.Reset(time.Until(next))
		}
	}
}

// listingShare is how many times the last listing of a folder took that
// looks an event asks for are apart at least.
const listingShare = 20

// eventSpacing is how long after a look an event asked for the next such
// look of the folder may come: gap, or listingShare times how long the
// listing took.
func eventSpacing(gap, listed time.Duration) time.Duration {
	return max(gap, listingShare*listed)
}

// CheckAll checks each watch once, one after the other.
func (w *Watcher) CheckAll(ctx context.Context) {
	for _, wt := range w.List() {
		if ctx.Err() != nil {
			return
		}
		w.check(ctx, wt, false)
	}
}

// check looks at one watched folder and shares it again if it changed
// and then stayed still for Settle. A look an event asked for (byEvent)
// that finds the folder still changing leaves it to the next event or
// interval, without counting it as one of the looks after which an
// always-changing folder is shared as it is (maxUnsettled). It returns
// how long listing the folder took.
func (w *Watcher) check(ctx context.Context, wt Watch, byEvent bool) (listed time.Duration) {
	if wt.Paused {
		return 0
	}
	x, err := w.exclusion(wt)
	if err != nil {
		w.record(wt, func(cur *Watch) { cur.Error = err.Error() })
		return 0
	}
	start := time.Now()
	print, _, err := w.fingerprint(wt.Path, x)
	listed = time.Since(start)
	if err == nil && print != wt.Print && !(print == wt.Failed && time.Since(wt.FailedAt) < retryAfter) {
		// Changed: share it once it has stopped changing. (Not what was
		// tried a moment ago and is waiting to be tried again.)
		select {
		case <-ctx.Done():
			return listed
		case <-time.After(w.opts.Settle):
		}
		var again string
		if again, _, err = w.fingerprint(wt.Path, x); err == nil && again != print {
			if byEvent {
				w.record(wt, func(cur *Watch) { cur.Checked = time.Now() })
				return listed
			}
			if wt.Unsettled+1 < maxUnsettled {
				w.opts.Log.Info("watched folder still changing; next check", "path", wt.Path)
				w.record(wt, func(cur *Watch) { cur.Checked, cur.Unsettled = time.Now(), cur.Unsettled+1 })
				return listed
			}
			w.opts.Log.Info("watched folder always changing; shared as it is", "path", wt.Path, "looks", wt.Unsettled+1)
			print = again
		}
	}
	if err != nil {
		w.opts.Log.Warn("watched folder", "path", wt.Path, "err", err)
		w.record(wt, func(cur *Watch) { cur.Checked, cur.Error = time.Now(), reason(wt.Path, err) })
		return listed
	}
	if print == wt.Print {
		w.record(wt, func(cur *Watch) { cur.Checked, cur.Error, cur.Unsettled = time.Now(), "", 0 })
		return listed
	}
	if print == wt.Failed && time.Since(wt.FailedAt) < retryAfter {
		w.record(wt, func(cur *Watch) { cur.Checked = time.Now() }) // its error stays
		return listed
	}
	started := time.Now()
	sh, err := w.sharer.Reshare(ctx, wt)
	c := sh.Cid
	if errors.Is(err, ErrNotNow) {
		w.record(wt, func(cur *Watch) { cur.Checked = time.Now() })
		return listed
	}
	if err != nil {
		if ctx.Err() != nil {
			return listed
		}
		w.opts.Log.Warn("share the watched folder again", "path", wt.Path, "group", wt.Group, "err", err)
		now := time.Now()
		w.record(wt, func(cur *Watch) { cur.Checked, cur.Error, cur.Failed, cur.FailedAt = now, err.Error(), print, now })
		return listed
	}
	if c != wt.Cid {
		w.opts.Log.Info("shared the watched folder again", "path", wt.Path, "group", wt.Group, "cid", c, "was", wt.Cid)
	}
	now := time.Now()
	w.record(wt, func(cur *Watch) {
		if c != cur.Cid {
			cur.Updated = now
		}
		cur.Cid, cur.Print, cur.Checked, cur.Error, cur.Failed, cur.FailedAt, cur.Unsettled = c, print, now, "", "", time.Time{}, 0
		cur.AddedAt, cur.Earlier = started, sh.Earlier
		cur.Recent = recent.Prepend(sh.Changes, c, "", now, cur.Recent) // by this device
		if sh.UnreadCount > 0 {
			// Shared without what could not be read: added again after
			// retryAfter, whether the folder changes or not, reading what
			// changed since the last add that read everything (the files
			// linked as they were are not what the disk holds).
			cur.Print, cur.Failed, cur.FailedAt = "", print, now
			cur.AddedAt = wt.AddedAt
			cur.Error = unreadSentence(sh, cur.Sync)
		}
	})
	return listed
}

// unreadSentence says what a share of a folder (that syncs both ways)
// did without the files it could not read.
func unreadSentence(sh Shared, sync bool) string {
	more := ""
	if n := sh.UnreadCount - len(sh.Unread); n > 0 {
		more = fmt.Sprintf("; and %d more", n)
	}
	fix := "make them readable, or leave them out (share the folder again with --exclude)"
	if sync {
		fix = "make them readable by the daemon's user"
	}
	return fmt.Sprintf("shared, but could not read %d of its files: %s%s. They are tried again every %d minutes: %s",
		sh.UnreadCount, strings.Join(sh.Unread, "; "), more, int(retryAfter/time.Minute), fix)
}

// exclusion is what a look at wt's folder leaves out: what the watch
// excludes, and the repo.
func (w *Watcher) exclusion(wt Watch) (dag.Exclusion, error) {
	x, err := dag.NewExclusion(wt.Exclude)
	if err != nil || w.opts.Repo == "" {
		return x, err
	}
	return x.WithoutFolder(w.opts.Repo), nil
}

// record applies change to the watch wt names, if it is still there (it
// may have been removed while its folder was added), and saves.
func (w *Watcher) record(wt Watch, change func(*Watch)) {
	w.mu.Lock()
	ws := slices.Clone(w.watches)
	i := slices.IndexFunc(ws, func(o Watch) bool { return o.key() == wt.key() })
	if i < 0 {
		w.mu.Unlock()
		return
	}
	before := ws[i]
	change(&ws[i])
	shown := ws[i].Cid != before.Cid || ws[i].Error != before.Error
	// A look that found nothing new changes only Checked: kept in memory,
	// not written (and synced) to disk every minute for every folder.
	after := ws[i]
	after.Checked = before.Checked
	if reflect.DeepEqual(after, before) {
		w.watches = ws
	} else if err := w.saveLocked(ws); err != nil {
		w.opts.Log.Warn("save the watched folders", "err", err)
	}
	w.mu.Unlock()
	if shown && w.opts.Changed != nil {
		w.opts.Changed()
	}
}

// saveLocked writes ws to the file, atomically, and keeps it.
func (w *Watcher) saveLocked(ws []Watch) error {
	b, err := json.MarshalIndent(ws, "", "  ")
	if err != nil {
		return fmt.Errorf("save the watched folders: %w", err)
	}
	if err := atomicfile.Write(w.file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save the watched folders: %w", err)
	}
	w.watches = ws
	return nil
}

// reason says in a sentence why a folder could not be looked at.
func reason(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s is gone (moved or deleted?): the share keeps its last version", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%s cannot be read by the daemon (permission denied)", path)
	}
	return err.Error()
}
