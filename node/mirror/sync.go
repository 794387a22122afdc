package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/recent"
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

// madeHere reports whether the manifest's rec at r, in a folder that
// syncs both ways, was made or changed here since the base.
func (a *applier) madeHere(r string, rec Record) bool {
	b, ok := a.base(r)
	return a.v.Sync && (!ok || b != recordKey(rec))
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

// conflict resolves r (p on disk, st), which this device and the version
// both changed: the later change (by modification time; the larger
// content hash if equal) keeps the name, the other goes beside it as a
// conflict copy named by its time and the end of its content's hash, so
// that every device that resolves the same conflict gives the copy the
// same name, and two copies of different bytes never share one.
func (a *applier) conflict(e dag.Entry, r, p string, st fs.FileInfo) error {
	if e.Type == dag.TypeDir {
		a.keptChanged(r) // a folder there: what it holds is judged in turn
		return nil
	}
	ours, theirs := st.ModTime().UnixNano(), a.v.Times[r]
	if st.IsDir() {
		return a.writeConflict(e, r, p, theirs) // a folder made here stays
	}
	oursKey, err := contentKey(a.ctx, p, st)
	if err != nil {
		return fmt.Errorf("compare %s with the version's: %w", p, err)
	}
	if theirs < ours || theirs == ours && e.Cid.String() <= oursKey {
		return a.writeConflict(e, r, p, theirs)
	}
	// Theirs keeps the name: this device's goes aside, then theirs in.
	name := conflictName(path.Base(r), oursKey, time.Unix(0, ours))
	aside := filepath.Join(filepath.Dir(p), name)
	if _, err := os.Lstat(aside); err != nil {
		if err := os.Rename(p, aside); err != nil {
			return fmt.Errorf("move %s aside as a conflict copy: %w", p, err)
		}
		a.res.Conflicts = append(a.res.Conflicts, path.Join(path.Dir(r), name))
		a.res.changed(path.Join(path.Dir(r), name), recent.Conflict)
	} else if err := os.Remove(p); err != nil { // the same bytes are aside already
		return fmt.Errorf("replace %s: %w", p, err)
	}
	if e.Type == dag.TypeFile {
		if err := a.ensure(e.Cid); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	if err := a.writeTo(e.Cid, p, nil, dag.WithoutSweep()); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	a.res.Written++
	a.res.wrote(r, e)
	a.res.changed(r, recent.Written)
	if st, err = os.Lstat(p); err != nil {
		return err
	}
	a.record(r, e, st)
	return nil
}

// contentKey is what names the bytes at p (st) in a conflict copy's name:
// a file's CID (as an add gives it), a link's target hashed.
func contentKey(ctx context.Context, p string, st fs.FileInfo) (string, error) {
	if st.Mode()&fs.ModeSymlink != 0 {
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256([]byte(t))
		return hex.EncodeToString(sum[:]), nil
	}
	c, err := dag.HashFile(ctx, p, nil)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// writeConflict writes the version's e beside r (p on disk) as a conflict
// copy changed at t (nanoseconds; 0: unknown, now).
func (a *applier) writeConflict(e dag.Entry, r, p string, t int64) error {
	if e.Type == dag.TypeFile {
		if err := a.ensure(e.Cid); err != nil {
			return fmt.Errorf("write the conflict copy of %s: %w", p, err)
		}
	}
	when := time.Now()
	if t > 0 {
		when = time.Unix(0, t)
	}
	name := conflictName(path.Base(r), e.Cid.String(), when)
	err := a.writeTo(e.Cid, filepath.Join(filepath.Dir(p), name), nil, dag.WithoutSweep())
	if errors.Is(err, fs.ErrExist) {
		return nil // the same bytes: written before
	}
	if err != nil {
		return fmt.Errorf("write the conflict copy of %s: %w", p, err)
	}
	copyRel := path.Join(path.Dir(r), name)
	a.res.Conflicts = append(a.res.Conflicts, copyRel)
	a.res.changed(copyRel, recent.Conflict)
	a.res.wrote(copyRel, e) // it holds the version's bytes: the store may read them there
	return nil
}

// conflictName is the name of a conflict copy of name, changed at t, of
// the bytes key names (as Syncthing names them, with the end of the
// content's hash where Syncthing has the device's):
// notes.sync-conflict-20261206-071500-q3x7k2m.txt.
func conflictName(name, key string, t time.Time) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if stem == "" { // .bashrc
		stem, ext = name, ""
	}
	return fmt.Sprintf("%s.sync-conflict-%s-%s%s", stem, t.UTC().Format("20060102-150405"), key[max(0, len(key)-7):], ext)
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
