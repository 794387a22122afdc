package mirror

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// What a folder that syncs both ways is judged against: the newest common
// ancestor of a version and the folder (syncBase), and the ancestors a
// version names (Lineage).

// Synced records that the folder path, which syncs both ways, was just
// shared as the version v (which bs holds), added by an add that started
// at since: the folder holds v now (a file changed since is not taken as
// written: Adopt), and what another device shares next is judged against
// it. The caller holds Exclusive(path).
//
// own says the version was shared from the folder, with ancestors (else
// it is the version the folder held already, as it is).
func (m *Mirrors) Synced(ctx context.Context, path string, v Shared, bs blockstore.Blockstore, since time.Time, own bool, ancestors []string) error {
	man, err := Adopt(ctx, bs, v.Root, path, dag.Exclusion{}, since)
	if err != nil {
		return err
	}
	for _, r := range v.Unread {
		// Not what the disk holds: changed here, as far as updates go
		// (a newer version's change to it gets a conflict copy).
		delete(man, r)
	}
	v.Seen.record(man)
	m.mu.Lock()
	i := slices.IndexFunc(m.list, func(x Mirror) bool { return x.Path == path && x.Sync })
	if i < 0 {
		m.mu.Unlock()
		return fmt.Errorf("%s does not sync both ways: %w", path, ErrNotFound)
	}
	list := slices.Clone(m.list)
	mr := &list[i]
	mr.Cid, mr.Meta, mr.Updated, mr.Checked = v.Root.String(), metaString(v.Meta), time.Now(), time.Now()
	mr.Error, mr.Failed, mr.Kept, mr.KeptCount, mr.Merged = "", "", nil, 0, false
	mr.Own = own || (mr.Own && mr.Cid == v.Root.String())
	if own {
		mr.Ancestors = ancestors
	}
	err = m.saveManifestLocked(*mr, man)
	if err == nil {
		err = m.saveLocked(list)
	}
	m.mu.Unlock()
	if err == nil && m.opts.Changed != nil {
		m.opts.Changed()
	}
	return err
}

// syncBase is the Version.Base v is written with into the folder mr,
// which syncs both ways: nil when v was made from the version the folder
// holds, as it holds it (its manifest is the base); else the entries of
// the newest of v's ancestors that the folder's version was made from too
// (their common ancestor), fetched; none (an empty base: every
// difference gets a conflict copy) when there is none or it cannot be
// fetched. meta and vers are v's (its file of modes and times).
func (m *Mirrors) syncBase(ctx context.Context, mr Mirror, v Shared) (base map[string]string, meta Meta, vers Versions, err error) {
	if v.Meta.Defined() {
		bs, release := m.src.Hold(v.Meta)
		defer release()
		if _, err := m.src.Fetch(ctx, v.Meta, nil, nil); err != nil {
			return nil, nil, Versions{}, fmt.Errorf("fetch the file of modes and times of %s: %w", v.Root, err)
		}
		if meta, vers, err = LoadMeta(ctx, bs, v.Meta); err != nil {
			return nil, nil, Versions{}, err
		}
	}
	if mr.Cid == "" || mr.Cid == v.Root.String() {
		return nil, meta, vers, nil // the version it holds (its modes and times changed)
	}
	ours := map[string]bool{mr.Cid: true}
	for _, a := range mr.Ancestors {
		ours[a] = true
	}
	common := ""
	for _, a := range vers.Ancestors {
		if ours[a] {
			common = a
			break
		}
	}
	switch {
	case common == mr.Cid && !mr.Merged:
		return nil, meta, vers, nil // made from what the folder holds
	case common == "" && len(vers.Ancestors) == 0 && !mr.Own && !mr.Merged:
		// Shared by a device that does not sync (kith share --watch):
		// made from its own folder, and this one holds another device's
		// version as it was (its manifest).
		return nil, meta, vers, nil
	case common == "":
		m.opts.Log.Info("mirror: a newer version was made from nothing this folder was; what differs here gets a conflict copy", "path", mr.Path, "cid", v.Root)
		return map[string]string{}, meta, vers, nil
	}
	bc, err := cid.Decode(common)
	if err != nil {
		return nil, nil, Versions{}, err
	}
	bs, release := m.src.Hold(bc)
	defer release()
	fctx, cancel := context.WithTimeout(ctx, baseFetchTimeout)
	_, err = m.src.Fetch(fctx, bc, func(cid.Cid) bool { return false }, nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, Versions{}, ctx.Err()
		}
		m.opts.Log.Info("mirror: the version both were made from cannot be fetched; what differs here gets a conflict copy", "path", mr.Path, "cid", v.Root, "base", bc, "err", err)
		return map[string]string{}, meta, vers, nil
	}
	base, err = BaseOf(ctx, bs, bc)
	return base, meta, vers, err
}

// Lineage is the ancestors of a version made from the versions first and
// rest (each list newest first, and first's own head before them):
// both, without repeats, at most MaxAncestors.
func Lineage(first []string, rest ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range append([][]string{first}, rest...) {
		for _, a := range l {
			if a != "" && !seen[a] && len(out) < MaxAncestors {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// baseFetchTimeout bounds the fetch of the listing of the version a newer
// one was made from (no member may hold it any more).
const baseFetchTimeout = time.Minute

// ModesChangedHere reports whether, in the folder path (which syncs both
// ways, and held the version root when it was just read: bs holds its
// folders), a file's mode or time, or a folder's mode, changed on this
// device since the mirror last wrote it, gave it a meta's or took it as
// written (its manifest): what the version's bytes do not say, and its
// meta should (chmod +x, touch, chmod 700 on a folder). What the mirror
// set and the disk did not keep (a file system without modes) is no
// change here. seen is what it read, each entry's mode and time (for
// Shared.Seen). A folder that no longer holds root (changed since it was
// read) reports none, and no seen: what looks at it next sees the change.
// The caller holds Exclusive(path).
func (m *Mirrors) ModesChangedHere(ctx context.Context, path string, root cid.Cid, bs blockstore.Blockstore) (changed bool, seen Meta, err error) {
	m.mu.Lock()
	i := slices.IndexFunc(m.list, func(x Mirror) bool { return x.Path == path && x.Sync })
	if i < 0 {
		m.mu.Unlock()
		return false, nil, fmt.Errorf("%s does not sync both ways: %w", path, ErrNotFound)
	}
	man, err := m.loadManifestLocked(m.list[i])
	m.mu.Unlock()
	if err != nil {
		return false, nil, err
	}
	a := &applier{ctx: ctx, v: Version{Root: root, Store: bs}, want: map[string]bool{}}
	items, err := a.list(root, ".", nil)
	if err != nil {
		return false, nil, err
	}
	seen = Meta{}
	for _, it := range items {
		if it.e.Type == dag.TypeSymlink {
			continue
		}
		st, err := os.Lstat(filepath.Join(path, filepath.FromSlash(it.rel)))
		if err != nil {
			return false, nil, nil
		}
		rec, ok := man[it.rel]
		if it.e.Type == dag.TypeDir {
			// Its mode alone: its time changes with what is in it.
			if !st.IsDir() {
				return false, nil, nil
			}
			seen[it.rel] = EntryMeta{Mode: uint32(st.Mode().Perm()), Mtime: st.ModTime().UnixNano()}
			if ok && rec.Type == dag.TypeDir && rec.Mode != 0 && rec.Mode != uint32(st.Mode().Perm()) {
				changed = true
			}
			continue
		}
		if !st.Mode().IsRegular() || uint64(st.Size()) != it.e.Size {
			return false, nil, nil
		}
		seen[it.rel] = EntryMeta{Mode: uint32(st.Mode().Perm()), Mtime: st.ModTime().UnixNano()}
		if !ok || rec.Type != dag.TypeFile || rec.Cid != it.e.Cid.String() {
			continue // not known as written here: nothing to judge by
		}
		if rec.Mtime != st.ModTime().UnixNano() || rec.Mode != 0 && rec.Mode != uint32(st.Mode().Perm()) {
			changed = true
		}
	}
	return changed, seen, nil
}
