package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// A folder that syncs both ways (Version.Sync) is written by the rules
// Syncthing's send-receive folders follow, judged path by path against
// the base: what the folder held when it was last in sync with the group
// (the manifest, or Version.Base when another device changed the folder
// meanwhile too). What only the version changed is written (a deletion
// too); what only this device changed stays, to be shared by the folder's
// watch; where both changed a file, this device's stays and the version's
// is written beside it as a conflict copy; a change wins over a deletion.

// recordKey is what the base says of a manifest record: a file's or
// link's CID, "/" for a folder.
func recordKey(rec Record) string {
	if rec.Type == dag.TypeDir {
		return "/"
	}
	return rec.Cid
}

// entryKey is what the base says of an entry of the version.
func entryKey(e dag.Entry) string {
	if e.Type == dag.TypeDir {
		return "/"
	}
	return e.Cid.String()
}

// base is what the folder held at r when it was last in sync, and
// whether it held anything there.
func (a *applier) base(r string) (string, bool) {
	if a.v.Base != nil {
		b, ok := a.v.Base[r]
		return b, ok
	}
	rec, ok := a.man[r]
	return recordKey(rec), ok
}

// theirsUnchanged reports whether the version holds at r what the
// folder held when last in sync: only this device may have changed it.
func (a *applier) theirsUnchanged(r string, e dag.Entry) bool {
	if !a.v.Sync {
		return false
	}
	b, ok := a.base(r)
	return ok && b == entryKey(e)
}

// oursChanged reports whether this device changed r since the base while
// the disk is as the manifest says: its last share changed it (Base set).
func (a *applier) oursChanged(r string) bool {
	if !a.v.Sync || a.v.Base == nil {
		return false
	}
	b, ok := a.v.Base[r]
	return !ok || b != recordKey(a.man[r])
}

// keptChanged notes r, changed here, left as it is: named for a
// receive-only folder; a folder that syncs both ways shares it.
func (a *applier) keptChanged(r string) {
	if !a.v.Sync {
		a.res.keep(r)
	}
}

// markNeeded marks, for a folder that syncs both ways, the folders the
// version's changes are written into: a folder deleted here that the
// version did not change stays deleted unless something in it changed.
func (a *applier) markNeeded(items []item) {
	a.needDir = map[string]bool{}
	for _, it := range items {
		if a.theirsUnchanged(it.rel, it.e) {
			continue
		}
		d := it.rel
		if it.e.Type != dag.TypeDir {
			d = path.Dir(d)
		}
		for ; d != "." && !a.needDir[d]; d = path.Dir(d) {
			a.needDir[d] = true
		}
	}
}

// conflict writes the version's e, where this device changed r too (p on
// disk), beside it as a conflict copy, and leaves this device's as it is.
func (a *applier) conflict(e dag.Entry, r, p string) error {
	if e.Type == dag.TypeFile {
		if err := a.ensure(e.Cid); err != nil {
			return fmt.Errorf("write the conflict copy of %s: %w", p, err)
		}
	}
	name := conflictName(path.Base(r), a.v.ConflictTag, time.Now())
	err := dag.WriteTo(a.ctx, a.v.Store, e.Cid, filepath.Join(filepath.Dir(p), name), nil, dag.WithoutSweep())
	if errors.Is(err, fs.ErrExist) {
		return nil // written a moment ago, by an update cut off since
	}
	if err != nil {
		return fmt.Errorf("write the conflict copy of %s: %w", p, err)
	}
	a.res.Conflicts = append(a.res.Conflicts, path.Join(path.Dir(r), name))
	return nil
}

// conflictName is the name of a conflict copy of name, as Syncthing
// names them: notes.sync-conflict-20261206-071500-ABCDEFG.txt.
func conflictName(name, tag string, t time.Time) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if stem == "" { // .bashrc
		stem, ext = name, ""
	}
	if tag == "" {
		tag = "group"
	}
	return fmt.Sprintf("%s.sync-conflict-%s-%s%s", stem, t.Format("20060102-150405"), tag, ext)
}

// BaseOf lists the folder version root (which bs must hold: its folders
// and each entry's first block) as a Version.Base.
func BaseOf(ctx context.Context, bs blockstore.Blockstore, root cid.Cid) (map[string]string, error) {
	a := &applier{ctx: ctx, v: Version{Root: root, Store: bs}, want: map[string]bool{}}
	items, err := a.list(root, ".", nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		out[it.rel] = entryKey(it.e)
	}
	return out, nil
}
