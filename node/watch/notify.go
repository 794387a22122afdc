package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// notifySupported says whether the system tells kith of changes. On Linux
// (inotify) that costs one kernel watch per folder. macOS's kqueue would
// keep a file descriptor open per file, and Windows is not tested here:
// there, and wherever a folder cannot be watched, the look every
// Interval is what finds changes.
const notifySupported = runtime.GOOS == "linux"

// defaultEventGap is the shortest time between two looks at one folder that
// notifications asked for (Syncthing waits 10 s too): a folder written to
// all the time is listed every 10 s (or more: listingShare), not at every
// write.
const defaultEventGap = 10 * time.Second

// notifier has the kernel say when something changes under the watched
// folders, so that a change is shared seconds after it settles rather than
// at the next look. It only hastens a look: the look decides (by the
// folder's fingerprint) whether anything an add reads changed, and the
// periodic look stays for what notifications miss.
type notifier struct {
	log  *slog.Logger
	repo string
	on   bool          // else sync watches nothing: the interval finds changes
	wake chan struct{} // an event came: Run sees what is due

	mu    sync.Mutex
	roots map[string]*root     // by watched path
	dirty map[string]time.Time // watched path -> its last event
	// warned holds the paths the system would not watch, already logged.
	warned map[string]bool
	wg     sync.WaitGroup
}

// root is one watched path's kernel watches.
type root struct {
	path  string
	dir   bool // a folder; else a file, watched through its folder
	fw    *fsnotify.Watcher
	excl  []dag.Exclusion // of each watch of the path
	sig   string          // their patterns: a change makes a new root
	stop  chan struct{}
	full  bool // the system's limit on watches was reached
	added int  // folders watched
	// lost: the path itself went (or was not there): sync watches it
	// anew, since its kernel watches went with it.
	lost atomic.Bool
}

func newNotifier(log *slog.Logger, repo string, on bool) *notifier {
	return &notifier{log: log, repo: repo, on: on, wake: make(chan struct{}, 1), roots: map[string]*root{}, dirty: map[string]time.Time{}, warned: map[string]bool{}}
}

// sync has the kernel watch the paths of ws (each folder under them but
// those every watch of the path leaves out) and stop watching paths no
// longer watched. With retry, a path whose watches are gone (the folder
// was deleted, and may be back) is watched anew; sync runs at every event,
// retry only at the interval.
func (n *notifier) sync(ws []Watch, retry bool) {
	if !n.on {
		return
	}
	want := map[string][]dag.Exclusion{}
	sigs := map[string][]string{}
	for _, wt := range ws {
		x, err := dag.NewExclusion(wt.Exclude)
		if err != nil {
			continue // the look reports it
		}
		if n.repo != "" {
			x = x.WithoutFolder(n.repo)
		}
		// The folder's .kithignore too (a bad one: the look reports it),
		// and the watches made again when it changes.
		if withFile, err := x.WithIgnoreFile(wt.Path); err == nil {
			x = withFile
		}
		want[wt.Path] = append(want[wt.Path], x)
		sigs[wt.Path] = append(sigs[wt.Path], strings.Join(wt.Exclude, "\x00")+ignoreFileSig(wt.Path))
	}
	sig := func(p string) string {
		s := slices.Clone(sigs[p])
		slices.Sort(s)
		return strings.Join(s, "\x01")
	}
	n.mu.Lock()
	var gone []*root
	for p, r := range n.roots {
		if _, ok := want[p]; !ok || r.sig != sig(p) || (retry && r.lost.Load()) {
			gone = append(gone, r)
			delete(n.roots, p)
		}
	}
	var fresh []*root
	for p, excl := range want {
		if _, ok := n.roots[p]; ok {
			continue
		}
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			if !n.warned[p] { // once: sync runs at every event and interval
				n.warned[p] = true
				n.log.Warn("changes to a watched folder are not reported by the system; it is looked at every interval", "path", p, "err", err)
			}
			continue
		}
		delete(n.warned, p)
		r := &root{path: p, fw: fw, excl: excl, sig: sig(p), stop: make(chan struct{})}
		n.roots[p] = r
		fresh = append(fresh, r)
	}
	n.mu.Unlock()
	for _, r := range gone {
		close(r.stop)
		r.fw.Close()
	}
	for _, r := range fresh {
		n.start(r)
	}
}

// start watches r's folders and relays their events.
func (n *notifier) start(r *root) {
	st, err := os.Stat(r.path)
	switch {
	case err != nil:
		// Not there (yet): the look reports it, and sync tries again.
		r.lost.Store(true)
	case st.IsDir():
		r.dir = true
		n.addTree(r, r.path)
	default:
		n.add(r, filepath.Dir(r.path))
	}
	n.wg.Add(1)
	go n.relay(r)
}

// add has the kernel watch one folder of r.
func (n *notifier) add(r *root, dir string) bool {
	if r.full {
		return false
	}
	if err := r.fw.Add(dir); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			r.full = true
			n.log.Warn("too many folders for the system to report changes in all of them (raise fs.inotify.max_user_watches); the rest is looked at every interval", "path", r.path, "watched", r.added)
		}
		return false
	}
	r.added++
	return true
}

// addTree watches dir and every folder under it that r's watches do not
// all leave out.
func (n *notifier) addTree(r *root, dir string) {
	if !n.add(r, dir) {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() && !r.leftOut(dir, e) {
			n.addTree(r, filepath.Join(dir, e.Name()))
		}
	}
}

// leftOut reports whether every watch of r leaves the entry e of dir out.
func (r *root) leftOut(dir string, e fs.DirEntry) bool {
	rel, err := filepath.Rel(r.path, dir)
	if err != nil {
		return false
	}
	if rel = filepath.ToSlash(rel); rel == "." {
		rel = ""
	}
	for _, x := range r.excl {
		if !x.Leaves(dir, rel, e) {
			return false
		}
	}
	return len(r.excl) > 0
}

// relay turns r's events into dirty marks until r is stopped.
func (n *notifier) relay(r *root) {
	defer n.wg.Done()
	for {
		select {
		case <-r.stop:
			return
		case ev, ok := <-r.fw.Events:
			if !ok {
				return
			}
			n.event(r, ev)
		case err, ok := <-r.fw.Errors:
			if !ok {
				return
			}
			// The kernel's queue overflowed: events were lost, so the
			// folder is looked at as if it had changed.
			n.log.Debug("watched folder events", "path", r.path, "err", err)
			n.mark(r.path)
		}
	}
}

// event marks r's path dirty for ev, unless ev is about something every
// watch of it leaves out; a folder created inside is watched too.
func (n *notifier) event(r *root, ev fsnotify.Event) {
	if r.dir && ev.Name == r.path && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		r.lost.Store(true)
	}
	if !r.dir {
		if ev.Name == r.path {
			n.mark(r.path)
		}
		return
	}
	if ev.Name != r.path && r.ignores(ev.Name) {
		return
	}
	if ev.Has(fsnotify.Create) {
		st, err := os.Lstat(ev.Name)
		if err == nil && st.IsDir() && !r.leftOut(filepath.Dir(ev.Name), fs.FileInfoToDirEntry(st)) {
			n.addTree(r, ev.Name) // moved in, or made: its folders too
		}
	}
	n.mark(r.path)
}

// ignores reports whether every watch of r leaves p out: one of the
// folders on the way to p, or p itself as a file (a pattern for folders
// only does not hide a change to a file of that name: the look decides).
func (r *root) ignores(p string) bool {
	rel, err := filepath.Rel(r.path, p)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	rel = filepath.ToSlash(rel)
	for _, x := range r.excl {
		// The folders on the way, and p itself as a file.
		if !x.LeftOut(rel, false) {
			return false
		}
	}
	return len(r.excl) > 0
}

// mark records an event for the watched path and wakes Run.
func (n *notifier) mark(path string) {
	n.mu.Lock()
	n.dirty[path] = time.Now()
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// due returns the watched paths whose last event is at least settle old,
// and not before their time in notBefore, and when the next one will be
// due (zero: none waits).
func (n *notifier) due(now time.Time, settle time.Duration, notBefore map[string]time.Time) (paths []string, next time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for p, at := range n.dirty {
		when := at.Add(settle)
		if after := notBefore[p]; after.After(when) {
			when = after
		}
		if !when.After(now) {
			paths = append(paths, p)
			delete(n.dirty, p)
			continue
		}
		if next.IsZero() || when.Before(next) {
			next = when
		}
	}
	return paths, next
}

// close stops every kernel watch and waits for the relays.
func (n *notifier) close() {
	n.mu.Lock()
	for p, r := range n.roots {
		close(r.stop)
		r.fw.Close()
		delete(n.roots, p)
	}
	n.mu.Unlock()
	n.wg.Wait()
}

// ignoreFileSig tells one state of dir's .kithignore from another.
func ignoreFileSig(dir string) string {
	st, err := os.Stat(filepath.Join(dir, dag.IgnoreFile))
	if err != nil {
		return ""
	}
	return fmt.Sprintf("\x00%d/%d", st.Size(), st.ModTime().UnixNano())
}
