// Package mirror keeps folders of this device as the newest version a
// group shares under a name (`kith get NAME --group G -o DIR --follow`): a
// receive-only copy, as Syncthing's receive-only folders are. When the
// group shares a new version of the name, it is fetched and written in
// (Apply: only what changed is written); what was changed on this device
// is kept, never overwritten, and named. A folder that syncs both ways
// (Mirror.Sync: its changes are shared too, by a watch of it) is written
// by the rules of sync.go instead. The mirrors survive restarts in a
// folder of the repo: their list, and what each wrote (its manifest).
package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/atomicfile"
	"github.com/kith-p2p/kith/node/recent"
)

// ErrNotFound is returned (wrapped) for a mirror that does not exist.
var ErrNotFound = errors.New("no such mirror")

// ErrOverlap is returned (wrapped) by Add for a folder inside another
// mirror's, or holding one.
var ErrOverlap = errors.New("mirrors overlap")

// errMoved is write's error for a folder whose version changed while the
// update waited to write (its watch shared it): nothing was written.
var errMoved = errors.New("the folder's version changed meanwhile")

// ErrSyncExclude is Add's error for a folder that syncs both ways and
// would leave something out: what it lacks would be shared as deleted.
var ErrSyncExclude = errors.New("a folder that syncs both ways leaves nothing out: what it lacked would be deleted for everyone")

// Mirror is one folder kept as the newest version a group shares as Name.
type Mirror struct {
	Path    string `json:"path"`     // absolute
	GroupID string `json:"group_id"` // the group's ID: names are local
	Group   string `json:"group"`    // its name when the mirror was made
	Name    string `json:"name"`     // what the group shares it as
	// Cid is the version the folder holds, written at Updated ("" until
	// a first one is, for a folder that followed as it was); Checked is
	// when the group's newest version was last looked at.
	Cid     string    `json:"cid"`
	Updated time.Time `json:"updated"`
	// Meta is the file of modes and times applied with Cid (Shared.Meta;
	// "" for none, or none applied yet).
	Meta    string    `json:"meta,omitempty"`
	Checked time.Time `json:"checked,omitzero"`
	// Pending is a newer version being fetched and written; Progress,
	// how far that is (kept in memory only: List fills it in).
	Pending  string    `json:"pending,omitempty"`
	Progress *Progress `json:"-"`
	// Error is why the last update failed, or why none can be made (the
	// folder gone, nothing shared under the name any more), until one
	// succeeds. Failed is the version that failed, at FailedAt: it is
	// tried again after the interval, not at every change of the group.
	Error    string    `json:"error,omitempty"`
	Failed   string    `json:"failed,omitempty"`
	FailedAt time.Time `json:"failed_at,omitzero"`
	// Kept names the paths changed on this device that the last update
	// left as they are (the first 20); KeptCount counts them.
	Kept      []string `json:"kept,omitempty"`
	KeptCount int      `json:"kept_count,omitempty"`
	// Revert asks the next update to write the group's version over
	// what was changed here (Mirrors.Revert), even with no newer one.
	Revert bool `json:"revert,omitempty"`
	// Exclude names what the folder leaves out of the group's versions
	// (dag.NewExclusion's patterns: names at any depth, paths from the top); Reapply asks
	// the next update to write the version held again, for Exclude
	// changed since it was written.
	Exclude []string `json:"exclude,omitempty"`
	Reapply bool     `json:"reapply,omitempty"`
	// Sync is a folder that syncs both ways: a watch of it shares what
	// changes here (and tells Synced), and each newer version is written
	// in by Version.Sync's rules (Conflicts names the conflict copies the
	// updates wrote, newest first, at most 20). It leaves nothing out.
	Sync      bool     `json:"sync,omitempty"`
	Conflicts []string `json:"conflicts,omitempty"`
	// Merged: the folder holds Cid merged with what changed here (an
	// update judged it against another base), until its watch shares it
	// (Synced): its manifest is not Cid's, and the next version is judged
	// against the one it was made from, even if that is Cid.
	Merged bool `json:"merged,omitempty"`
	// Own: Cid was shared from this folder (Synced), not written from
	// another device's.
	Own bool `json:"own,omitempty"`
	// Ancestors are the versions the folder holds the changes of besides
	// Cid's own, newest first (Cid's ancestors, and, merged, those of the
	// version it held before): what a version shared from it was made
	// from, and what another is judged against (their newest common one).
	Ancestors []string `json:"ancestors,omitempty"`
	// Keep is how many versions before the newest the group keeps shared,
	// for a folder that syncs both ways: the most that this device asked
	// for and that the versions written in say (their meta's Versions.Keep).
	Keep int `json:"keep,omitempty"`
	// Paused: no newer version is written in until resumed (SetPaused),
	// when the folder is brought to the newest at once.
	Paused bool `json:"paused,omitempty"`
	// Recent are the last changes updates made in the folder, newest
	// update first (at most recent.Max), as Syncthing's recent changes.
	Recent []recent.Change `json:"recent,omitempty"`
}

// exclusion is what m leaves out.
func (m Mirror) exclusion() (dag.Exclusion, error) {
	x, err := dag.NewExclusion(m.Exclude)
	if err != nil {
		return dag.Exclusion{}, fmt.Errorf("what %s leaves out: %w", m.Path, err)
	}
	return x, nil
}

// manifestName is the file, in the mirrors' folder, of what m wrote.
func (m Mirror) manifestName() string {
	sum := sha256.Sum256([]byte(m.Path))
	return "manifest-" + hex.EncodeToString(sum[:12]) + ".json"
}

// Shared is a version a group shares: the folder's Root, and the Meta
// file of its modes and times (cid.Undef when the sharer sent none).
type Shared struct {
	Root, Meta cid.Cid
	By         string // the peer ID of the device that shared it ("" when not known)
	// Unread, of a version this device shared from the folder (Synced),
	// are the files it could not read then: the version has them as they
	// were before, or not at all, whatever the disk holds.
	Unread []string
	// Seen, of such a version, are the modes and times the share read
	// in the folder (its meta, or what ModesChangedHere read): Synced
	// records them, not what the disk holds by then, so that a touch or
	// chmod between the read and Synced is a change here, shared at the
	// next look, not taken as shared.
	Seen Meta
}

// metaString is how Mirror.Meta names c.
func metaString(c cid.Cid) string {
	if !c.Defined() {
		return ""
	}
	return c.String()
}

// Source is what the mirrors need of the node.
type Source interface {
	// Newest is the newest version the group groupID shares as name; ok
	// is false when it shares nothing so named. Its error is a sentence
	// (not a group of ours any more, say).
	Newest(groupID, name string) (v Shared, ok bool, err error)
	// Hold keeps the version c, and what is fetched of it, from garbage
	// collection until release; bs is the store it is read from.
	Hold(c cid.Cid) (bs blockstore.Blockstore, release func())
	// Fetch makes present in that store the folders under c, the first
	// block of each file, and the whole of each file that files names
	// (every file when files is nil), calling progress (when not nil)
	// with the bytes it has so far; it says how many bytes came from
	// peers. A mirror fetches only the files it writes or compares.
	Fetch(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error)
}

// Options tunes Mirrors.
type Options struct {
	// Interval is how often every mirror is looked at without a Kick (and
	// how long a failed version waits before it is tried again).
	Interval time.Duration
	Log      *slog.Logger
	// Changed, when set, is called after a mirror's version, state or
	// error changed, outside the lock.
	Changed func()
	// Wrote, when set, is called after a folder that syncs both ways was
	// written to (its watch then shares what it holds, if that differs).
	Wrote func(path string)
	// Written, when set, is called after an update wrote files into the
	// folder dir and gave them their modes and times, with those files (by
	// their slash paths) and the version's file each holds: the folder is
	// the copy of them (the store can keep where their bytes are). Not
	// called for a folder that syncs and keeps earlier versions (Keep).
	Written func(ctx context.Context, dir string, files map[string]cid.Cid)
}

// listFile is the list of mirrors, in their folder.
const listFile = "mirrors.json"

// Mirrors holds the mirrors and keeps them up to date.
type Mirrors struct {
	dir  string
	src  Source
	opts Options

	mu       sync.Mutex
	list     []Mirror
	updating map[string]context.CancelFunc // by path: the update in progress
	writing  map[string]*sync.Mutex        // by path: held while it is written (Exclusive)
	progress map[string]Progress           // by path: how far it is
	told     time.Time                     // when Changed was last called for progress
	kick     chan struct{}
}

// Open loads the mirrors kept in dir (none when it does not exist yet).
func Open(dir string, src Source, opts Options) (*Mirrors, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	m := &Mirrors{dir: dir, src: src, opts: opts, updating: map[string]context.CancelFunc{}, writing: map[string]*sync.Mutex{},
		progress: map[string]Progress{}, kick: make(chan struct{}, 1)}
	b, err := os.ReadFile(filepath.Join(dir, listFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, nil
	case err != nil:
		return nil, fmt.Errorf("read the mirrored folders: %w", err)
	}
	if err := json.Unmarshal(b, &m.list); err != nil {
		return nil, fmt.Errorf("read the mirrored folders in %s: %w", dir, err)
	}
	for i := range m.list {
		m.list[i].Pending = "" // an update a stop cut off starts again
	}
	return m, nil
}

// Add starts mirroring. With mr.Cid, mr.Path holds that version (in bs),
// just written there whole (by a get, less what mr.Exclude leaves out):
// what is there now is taken as written (Adopt). Without, mr.Path is a
// folder as it is (made if missing): Run brings it to the newest version,
// taking the files that already hold the version's bytes as written and
// keeping the others. A mirror of the same folder is replaced; one that
// follows the same name of the same group keeps what it wrote and, with
// a nil Exclude, what it leaves out; an Exclude (empty: nothing) that
// changed it has the version it holds written again (Reapply): what is
// now left out and was written unchanged goes, what is no longer left out
// is written.
func (m *Mirrors) Add(ctx context.Context, mr Mirror, bs blockstore.Blockstore) (Mirror, error) {
	if !filepath.IsAbs(mr.Path) {
		return Mirror{}, fmt.Errorf("mirror %q: the path must be absolute", mr.Path)
	}
	mr.Path = filepath.Clean(mr.Path)
	x, err := mr.exclusion()
	if err != nil {
		return Mirror{}, err
	}
	if mr.Sync && len(mr.Exclude) > 0 {
		return Mirror{}, fmt.Errorf("mirror %s: %w", mr.Path, ErrSyncExclude)
	}
	var same *Mirror
	for _, o := range m.List() {
		if o.Path != mr.Path && (within(mr.Path, o.Path) || within(o.Path, mr.Path)) {
			return Mirror{}, fmt.Errorf("%w: %s and %s, where %s is mirrored already", ErrOverlap, mr.Path, o.Path, o.Name)
		}
		if o.Path == mr.Path && o.GroupID == mr.GroupID && o.Name == mr.Name && mr.Cid == "" {
			same = &o
		}
	}
	if same != nil {
		if st, err := os.Stat(mr.Path); err == nil && st.IsDir() {
			return m.reexclude(*same, mr.Exclude)
		}
		// Gone: made again below, and the version written whole.
		if mr.Exclude == nil {
			mr.Exclude = same.Exclude
		}
		if x, err = mr.exclusion(); err != nil {
			return Mirror{}, err
		}
	}
	man := Manifest{}
	var updated time.Time
	if mr.Cid != "" {
		c, err := cid.Decode(mr.Cid)
		if err != nil {
			return Mirror{}, fmt.Errorf("mirror %s: %q is no CID: %w", mr.Path, mr.Cid, err)
		}
		var before time.Time
		if mr.Sync {
			before = mr.Updated // when the folder was read or written
		}
		if man, err = Adopt(ctx, bs, c, mr.Path, x, before); err != nil {
			return Mirror{}, err
		}
		updated = time.Now()
	} else if err := os.MkdirAll(mr.Path, 0o755); err != nil {
		return Mirror{}, fmt.Errorf("mirror %s: %w", mr.Path, err)
	}
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return Mirror{}, fmt.Errorf("mirror %s: %w", mr.Path, err)
	}
	mr.Updated, mr.Checked, mr.Error, mr.Failed, mr.Pending, mr.Kept, mr.KeptCount = updated, time.Now(), "", "", "", nil, 0
	mr.Revert, mr.Reapply = false, false
	m.cancelUpdate(mr.Path)
	m.mu.Lock()
	if i := slices.IndexFunc(m.list, func(o Mirror) bool { return o.Path == mr.Path }); i >= 0 {
		mr.Paused = m.list[i].Paused // resumed only when asked
	}
	err = m.saveManifestLocked(mr, man)
	if err == nil {
		list := slices.DeleteFunc(slices.Clone(m.list), func(o Mirror) bool { return o.Path == mr.Path })
		err = m.saveLocked(append(list, mr))
	}
	m.mu.Unlock()
	if err != nil {
		return Mirror{}, err
	}
	m.Kick() // a newer version may be shared already
	return mr, nil
}

// reexclude has the mirror mr, followed again, leave out exclude from now
// on: when that changed, the version it holds is written again (Reapply).
func (m *Mirrors) reexclude(mr Mirror, exclude []string) (Mirror, error) {
	if exclude == nil || slices.Equal(mr.Exclude, exclude) {
		m.Kick()
		return mr, nil
	}
	m.cancelUpdate(mr.Path) // started with the old exclusion
	m.edit(mr.Path, func(x *Mirror) {
		x.Exclude, x.Reapply = slices.Clip(slices.Clone(exclude)), true
		if len(x.Exclude) == 0 {
			x.Exclude = nil
		}
		mr = *x
	})
	m.Kick()
	return mr, nil
}

// within reports whether p is inside the folder dir.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Remove stops mirroring path (the files stay as they are) and returns
// the mirror; none is ErrNotFound.
func (m *Mirrors) Remove(path string) (Mirror, error) {
	path = filepath.Clean(path)
	gone, err := m.removeWhere(func(mr Mirror) bool { return mr.Path == path })
	if err == nil && len(gone) == 0 {
		return Mirror{}, fmt.Errorf("%s is not mirrored: %w", path, ErrNotFound)
	}
	if err != nil {
		return Mirror{}, err
	}
	return gone[0], nil
}

// Revert has the group's version written again over what was changed
// here in the folder path (what Kept names): an update with Revert runs
// at once, even if the folder holds the newest version. What is only here
// (the version has no such path) is left alone, as is a folder made here
// where the version has a file.
func (m *Mirrors) Revert(path string) (Mirror, error) {
	path = filepath.Clean(path)
	var mr Mirror
	found := false
	m.edit(path, func(x *Mirror) {
		x.Revert, found = true, true
		mr = *x
	})
	if !found {
		return Mirror{}, fmt.Errorf("%s is not mirrored: %w", path, ErrNotFound)
	}
	m.Kick()
	return mr, nil
}

// SetPaused pauses (or resumes) the mirror of path: a paused mirror
// writes no newer version in (an update under way stops, as when the
// daemon stops: the next one starts from what was written) until it is
// resumed, when it is brought to the newest at once. Not found is
// ErrNotFound.
func (m *Mirrors) SetPaused(path string, paused bool) (Mirror, error) {
	path = filepath.Clean(path)
	var mr Mirror
	found := false
	m.edit(path, func(x *Mirror) {
		x.Paused, found = paused, true
		if paused {
			x.Pending = ""
		}
		mr = *x
	})
	if !found {
		return Mirror{}, fmt.Errorf("%s is not mirrored: %w", path, ErrNotFound)
	}
	if paused {
		m.cancelUpdate(path)
	} else {
		m.Kick()
	}
	return mr, nil
}

// ForgetGroup removes the mirrors of the group groupID (it was left).
func (m *Mirrors) ForgetGroup(groupID string) ([]Mirror, error) {
	return m.removeWhere(func(mr Mirror) bool { return mr.GroupID == groupID })
}

func (m *Mirrors) removeWhere(gone func(Mirror) bool) ([]Mirror, error) {
	var removed []Mirror
	m.mu.Lock()
	kept := slices.DeleteFunc(slices.Clone(m.list), func(mr Mirror) bool {
		if gone(mr) {
			removed = append(removed, mr)
			return true
		}
		return false
	})
	var err error
	if len(removed) > 0 {
		err = m.saveLocked(kept)
		for _, mr := range removed {
			if cancel := m.updating[mr.Path]; cancel != nil {
				cancel()
			}
			os.Remove(filepath.Join(m.dir, mr.manifestName()))
		}
	}
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// cancelUpdate stops the update of path in progress, if any.
func (m *Mirrors) cancelUpdate(path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cancel := m.updating[path]; cancel != nil {
		cancel()
	}
}

// List returns the mirrors, by path.
func (m *Mirrors) List() []Mirror {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.list)
	for i := range out {
		if p, ok := m.progress[out[i].Path]; ok && out[i].Pending != "" {
			out[i].Progress = &p
		}
	}
	slices.SortFunc(out, func(a, b Mirror) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// edit changes the mirror at path (if it is still there) and saves the
// list when something other than Checked changed.
func (m *Mirrors) edit(path string, fn func(*Mirror)) {
	m.mu.Lock()
	i := slices.IndexFunc(m.list, func(x Mirror) bool { return x.Path == path })
	if i < 0 {
		m.mu.Unlock()
		return
	}
	before := m.list[i]
	after := before
	fn(&after)
	m.list[i] = after
	before.Checked, after.Checked = time.Time{}, time.Time{}
	changed := !reflect.DeepEqual(before, after)
	var err error
	if changed {
		err = m.saveLocked(m.list)
	}
	m.mu.Unlock()
	if err != nil {
		m.opts.Log.Warn("mirror: save the list", "err", err)
	}
	if changed && m.opts.Changed != nil {
		m.opts.Changed()
	}
}

func (m *Mirrors) saveLocked(list []Mirror) error {
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(m.dir, listFile), b, 0o600); err != nil {
		return fmt.Errorf("save the mirrored folders: %w", err)
	}
	m.list = list
	return nil
}

func (m *Mirrors) loadManifestLocked(mr Mirror) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(m.dir, mr.manifestName()))
	if err != nil {
		return nil, fmt.Errorf("read what was written into %s: %w", mr.Path, err)
	}
	man := Manifest{}
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("read what was written into %s: %w", mr.Path, err)
	}
	return man, nil
}

func (m *Mirrors) saveManifestLocked(mr Mirror, man Manifest) error {
	b, err := json.Marshal(man)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(m.dir, mr.manifestName()), b, 0o600); err != nil {
		return fmt.Errorf("save what was written into %s: %w", mr.Path, err)
	}
	return nil
}

// Exclusive keeps updates from writing into the folder path until
// release: a folder that syncs both ways is added (to be shared) while
// nothing is written into it.
func (m *Mirrors) Exclusive(path string) (release func()) {
	m.mu.Lock()
	l, ok := m.writing[path]
	if !ok {
		l = &sync.Mutex{}
		m.writing[path] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}
