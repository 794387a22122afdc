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
	"maps"
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

// Kick has Run look at every mirror now rather than at the next interval
// (the groups changed).
func (m *Mirrors) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run keeps the mirrors up to date until ctx ends: it looks at each at
// once, when kicked and every interval.
func (m *Mirrors) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		m.CheckAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
	}
}

// CheckAll brings every mirror to its group's newest version.
func (m *Mirrors) CheckAll(ctx context.Context) {
	for _, mr := range m.List() {
		if ctx.Err() != nil {
			return
		}
		m.check(ctx, mr)
	}
}

// check brings mr to its group's newest version, if it is not there.
func (m *Mirrors) check(ctx context.Context, mr Mirror) {
	now := time.Now()
	if st, err := os.Stat(mr.Path); err != nil || !st.IsDir() {
		// Not made again: it may be a disk not mounted now.
		m.edit(mr.Path, func(x *Mirror) {
			x.Checked = now
			x.Error = fmt.Sprintf("%s is gone: %s's newer versions of %s are written into it once it is back ('kith mirror rm %s' stops)", x.Path, x.Group, x.Name, x.Path)
		})
		return
	}
	v, ok, err := m.src.Newest(mr.GroupID, mr.Name)
	c := v.Root
	switch {
	case err != nil:
		m.edit(mr.Path, func(x *Mirror) { x.Checked, x.Error = now, err.Error() })
		return
	case !ok:
		m.edit(mr.Path, func(x *Mirror) {
			x.Checked = now
			x.Error = fmt.Sprintf("%s shares nothing called %s any more: %s stays as it is", x.Group, x.Name, x.Path)
		})
		return
	case c.String() == mr.Cid && metaString(v.Meta) == mr.Meta && !mr.Revert && !mr.Reapply:
		m.edit(mr.Path, func(x *Mirror) { x.Checked, x.Error, x.Failed = now, "", "" })
		return
	case c.String() == mr.Failed && now.Sub(mr.FailedAt) < m.opts.Interval && !mr.Revert && !mr.Reapply:
		return // tried a moment ago
	}
	m.update(ctx, mr, v)
}

// update fetches the version v and writes it into mr's folder.
func (m *Mirrors) update(ctx context.Context, mr Mirror, v Shared) {
	c := v.Root
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	m.updating[mr.Path] = cancel
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.updating, mr.Path)
		delete(m.progress, mr.Path)
		m.mu.Unlock()
	}()
	m.edit(mr.Path, func(x *Mirror) { x.Pending = c.String() })
	log := m.opts.Log.With("path", mr.Path, "group", mr.Group, "name", mr.Name, "cid", c)
	res, metaErr, err := m.write(uctx, mr, v)
	now := time.Now()
	if errors.Is(err, errMoved) {
		m.edit(mr.Path, func(x *Mirror) { x.Pending = "" })
		m.Kick()
		return
	}
	if err != nil && uctx.Err() != nil {
		// Removed or replaced meanwhile, or the daemon stops: the next
		// run starts again from what the manifest says was written.
		return
	}
	m.edit(mr.Path, func(x *Mirror) {
		x.Pending, x.Checked = "", now
		if err != nil {
			x.Error = fmt.Sprintf("could not write %s's newer %s into %s: %v", x.Group, x.Name, x.Path, err)
			x.Failed, x.FailedAt = c.String(), now
			return
		}
		x.Cid, x.Updated, x.Error, x.Failed = c.String(), now, "", ""
		x.Kept, x.KeptCount = res.Kept, res.KeptCount
		x.Meta = metaString(v.Meta)
		if metaErr != nil {
			// The files are the version's; their modes and times are
			// tried again after the interval.
			x.Meta = ""
			x.Error = fmt.Sprintf("wrote %s's newer %s into %s, but not yet its files' modes and times: %v", x.Group, x.Name, x.Path, metaErr)
			x.Failed, x.FailedAt = c.String(), now
		}
		if mr.Revert {
			x.Revert = false // done (asked again meanwhile: done too)
		}
		if slices.Equal(x.Exclude, mr.Exclude) {
			x.Reapply = false // written with what it leaves out now
		}
		if mr.Sync {
			x.Merged = res.Merged || (x.Merged && c.String() == mr.Cid)
			x.Own = x.Own && c.String() == mr.Cid
			if c.String() != mr.Cid {
				// What it holds now: v's changes, and what it held.
				x.Ancestors = Lineage(res.Ancestors, []string{mr.Cid}, mr.Ancestors)
			}
			x.Keep = max(x.Keep, res.Keep)
		}
		if len(res.Conflicts) > 0 {
			// The newest first; those the user deleted go (List).
			x.Conflicts = slices.Compact(append(slices.Clone(res.Conflicts), x.Conflicts...))
			x.Conflicts = x.Conflicts[:min(len(x.Conflicts), maxKeptNamed)]
		}
	})
	if mr.Sync && err == nil && m.opts.Wrote != nil {
		m.opts.Wrote(mr.Path)
	}
	if err != nil {
		log.Warn("mirror: could not write the newer version", "err", err)
		return
	}
	what := "mirror: wrote the newer version"
	switch {
	case mr.Revert:
		what = "mirror: wrote the group's version over what was changed here"
	case mr.Reapply && mr.Cid == c.String():
		what = "mirror: wrote the version again, leaving out what it now leaves out"
	case mr.Cid == c.String():
		what = "mirror: gave the files the newer modes and times of the same version"
	}
	log.Info(what, "written", res.Written, "moved", res.Moved, "removed", res.Removed, "bytes", res.Bytes, "fetched", res.Fetched, "kept", res.KeptCount, "modes_and_times", res.Touched, "conflicts", len(res.Conflicts))
	if metaErr != nil {
		log.Warn("mirror: could not give the files their modes and times; trying again later", "meta", v.Meta, "err", metaErr)
	}
}

// write applies the version v to mr's folder (fetching what it needs of
// it), then its modes and times (metaErr says why not), saving the
// manifest after, also when Apply failed half-way (it holds what was
// done).
func (m *Mirrors) write(ctx context.Context, mr Mirror, v Shared) (res Result, metaErr, err error) {
	c := v.Root
	bs, release := m.src.Hold(c)
	defer release()
	defer m.Exclusive(mr.Path)()
	m.mu.Lock()
	if i := slices.IndexFunc(m.list, func(x Mirror) bool { return x.Path == mr.Path }); i >= 0 && m.list[i].Cid != mr.Cid {
		// Its watch shared it while this update waited: the next look
		// judges again what is newer.
		m.mu.Unlock()
		return Result{}, nil, errMoved
	}
	man, err := m.loadManifestLocked(mr)
	m.mu.Unlock()
	if err != nil {
		return Result{}, nil, err
	}
	x, err := mr.exclusion()
	if err != nil {
		return Result{}, nil, err
	}
	ver := Version{Root: c, Store: bs, Fetch: m.src.Fetch, Revert: mr.Revert, Exclude: x}
	var vers Versions
	var meta Meta // a syncing folder's version's, loaded once
	if mr.Sync {
		ver.Sync = true
		if ver.Base, meta, vers, err = m.syncBase(ctx, mr, v); err != nil {
			return Result{}, nil, err
		}
		ver.Times = make(map[string]int64, len(meta))
		for p, em := range meta {
			ver.Times[p] = em.Mtime
		}
	}
	res, err = Apply(ctx, ver, mr.Path, man, func(p Progress) { m.progressed(mr.Path, p) })
	res.Ancestors, res.Keep = vers.Ancestors, vers.Keep
	if err == nil && v.Meta.Defined() {
		if mr.Revert {
			// The version's modes back too, also where only they changed.
			for r, rec := range man {
				rec.Mode = 0
				man[r] = rec
			}
		}
		// A syncing folder's: not what this device changed and shared (the
		// version's times are those of the base's bytes, not of these).
		res.Touched, metaErr = m.applyMeta(ctx, mr.Path, v.Meta, man, res.listed, meta)
	}
	// Once the files have their times (a reference notes them). Not for a
	// folder whose group keeps earlier versions: their blocks stay in the
	// repo, since the folder holds only the newest.
	if m.opts.Written != nil && len(res.files) > 0 && err == nil && metaErr == nil && max(mr.Keep, res.Keep) == 0 {
		m.opts.Written(ctx, mr.Path, res.files)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.ContainsFunc(m.list, func(x Mirror) bool { return x.Path == mr.Path }) {
		return res, metaErr, err // removed meanwhile: its manifest is gone with it
	}
	if serr := m.saveManifestLocked(mr, man); err == nil {
		err = serr
	}
	return res, metaErr, err
}

// applyMeta applies the file of modes and times meta (em, when it was
// loaded already, else fetched) to what man says was written into dir;
// with only (the version's entries, Version.Base's way), to the files man
// holds as the version has them.
func (m *Mirrors) applyMeta(ctx context.Context, dir string, meta cid.Cid, man Manifest, only map[string]string, em Meta) (int, error) {
	if em == nil {
		bs, release := m.src.Hold(meta)
		defer release()
		if _, err := m.src.Fetch(ctx, meta, nil, nil); err != nil {
			return 0, err
		}
		var err error
		if em, _, err = LoadMeta(ctx, bs, meta); err != nil {
			return 0, err
		}
	} else {
		em = maps.Clone(em) // only's filter below must not touch the caller's
	}
	if only != nil {
		for r := range em {
			if rec, ok := man[r]; !ok || recordKey(rec) != only[r] {
				delete(em, r)
			}
		}
	}
	return applyMeta(dir, man, em)
}

// progressed notes how far the update of path is, and says so (Changed)
// at most once a second, and at each new phase.
func (m *Mirrors) progressed(path string, p Progress) {
	m.mu.Lock()
	before := m.progress[path]
	m.progress[path] = p
	tell := m.opts.Changed != nil && (p.Phase != before.Phase || time.Since(m.told) >= time.Second)
	if tell {
		m.told = time.Now()
	}
	m.mu.Unlock()
	if tell {
		m.opts.Changed()
	}
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
