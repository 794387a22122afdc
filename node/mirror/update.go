package mirror

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/node/recent"
)

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
	if mr.Paused {
		return
	}
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
			if errors.As(err, new(*FilesError)) {
				// Written but for those files: what it did is said.
				x.Error = fmt.Sprintf("wrote %s's newer %s into %s, but %v", x.Group, x.Name, x.Path, err)
				x.Recent = recent.Prepend(res.Changes, c.String(), v.By, now, x.Recent)
				x.Kept, x.KeptCount = res.Kept, res.KeptCount
			}
			return
		}
		x.Cid, x.Updated, x.Error, x.Failed = c.String(), now, "", ""
		x.Kept, x.KeptCount = res.Kept, res.KeptCount
		x.Recent = recent.Prepend(res.Changes, c.String(), v.By, now, x.Recent)
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
	if (err == nil || errors.As(err, new(*FilesError))) && v.Meta.Defined() {
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
