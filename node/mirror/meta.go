package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// Meta is what a folder's DAG does not carry and a followed folder keeps
// (as Syncthing does): the permission bits and modification time of each
// file and folder of a shared version, by slash path inside it (a shared
// file's own, at "."). The sharer
// reads it from its folder (ReadMeta) and shares it beside the version, as
// a small file of its own (EncodeMeta), so that the version's CIDs stay
// those of a plain add; a mirror applies it to what it wrote (applyMeta).
type Meta map[string]EntryMeta

// EntryMeta is one entry's mode and time.
type EntryMeta struct {
	Mode  uint32 `json:"m"` // permission bits (0o777); 0: not known (a file system that keeps none: openToAll)
	Mtime int64  `json:"t"` // nanoseconds since 1970
}

// metaFile is Meta as it is stored: versioned, its entries sorted (the
// same folder gives the same bytes, so the same CID).
type metaFile struct {
	V       int  `json:"v"`
	Entries Meta `json:"e"`
	// Ancestors are, for a version a folder that syncs both ways shared,
	// the versions it was made from, newest first (the version the folder
	// held, then those that one was made from, and those merged into it;
	// at most MaxAncestors): a device that gets it judges its changes
	// against the newest of them its own folder was made from too.
	Ancestors []string `json:"b,omitempty"`
	// Keep is, for such a version, how many versions before it the group
	// keeps shared (kith share --sync --keep N): every device that syncs
	// the folder keeps as many.
	Keep int `json:"k,omitempty"`
}

// Versions is what a meta file says of the versions of a folder that syncs
// both ways: those it was made from, and how many before it stay shared.
type Versions struct {
	Ancestors []string
	Keep      int
}

// MaxKeep bounds the versions before the newest a folder keeps shared.
const MaxKeep = 100

// MaxMetaSize bounds the meta file a mirror reads: about a million
// entries.
const MaxMetaSize = 64 << 20

// ErrBadMeta is DecodeMeta's error for what is no meta file.
var ErrBadMeta = errors.New("not a file of modes and times")

// MaxAncestors bounds the ancestors a meta file names.
const MaxAncestors = 64

// EncodeMeta is m as the file shared beside the version, with the
// versions of a folder that syncs both ways (none: the zero Versions).
func EncodeMeta(m Meta, v Versions) []byte {
	b, err := json.Marshal(metaFile{V: 1, Entries: m, Ancestors: v.Ancestors, Keep: v.Keep}) // map keys sorted
	if err != nil {
		panic(err) // a map of numbers always encodes
	}
	return b
}

// DecodeMeta reads a meta file, at most MaxMetaSize bytes: its entries
// and its versions.
func DecodeMeta(r io.Reader) (Meta, Versions, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxMetaSize+1))
	if err != nil {
		return nil, Versions{}, err
	}
	if len(b) > MaxMetaSize {
		return nil, Versions{}, fmt.Errorf("%w: larger than %d bytes", ErrBadMeta, MaxMetaSize)
	}
	var f metaFile
	if err := json.Unmarshal(b, &f); err != nil || f.V != 1 {
		return nil, Versions{}, ErrBadMeta
	}
	for p := range f.Entries {
		if !fs.ValidPath(p) {
			return nil, Versions{}, fmt.Errorf("%w: bad path %q", ErrBadMeta, p)
		}
	}
	if len(f.Ancestors) > MaxAncestors {
		return nil, Versions{}, fmt.Errorf("%w: %d ancestors, more than %d", ErrBadMeta, len(f.Ancestors), MaxAncestors)
	}
	for _, a := range f.Ancestors {
		if _, err := cid.Decode(a); err != nil {
			return nil, Versions{}, fmt.Errorf("%w: bad ancestor %q", ErrBadMeta, a)
		}
	}
	if f.Keep < 0 || f.Keep > MaxKeep {
		return nil, Versions{}, fmt.Errorf("%w: %d versions kept, not between 0 and %d", ErrBadMeta, f.Keep, MaxKeep)
	}
	return f.Entries, Versions{Ancestors: f.Ancestors, Keep: f.Keep}, nil
}

// Sub is the part of m for the entry at slash path p in the version
// (a folder or file in it), as that entry's own meta: p's entries by their
// path inside p, and p itself at ".". A get of a path inside a shared
// folder gives what it writes the modes and times the folder's meta holds.
func (m Meta) Sub(p string) Meta {
	if p == "." || p == "" {
		return m
	}
	sub := Meta{}
	for r, em := range m {
		if r == p {
			sub["."] = em
		} else if rest, ok := strings.CutPrefix(r, p+"/"); ok {
			sub[rest] = em
		}
	}
	return sub
}

// Without is m less the entries at the slash paths ps and all they hold
// (entries a get left out: the path of one holds another's, whose modes
// and times are not these).
func (m Meta) Without(ps []string) Meta {
	if len(ps) == 0 {
		return m
	}
	rest := Meta{}
	for r, em := range m {
		if !slices.ContainsFunc(ps, func(p string) bool { return r == p || strings.HasPrefix(r, p+"/") }) {
			rest[r] = em
		}
	}
	return rest
}

// record gives the manifest's files and folders the modes and times m
// read (a mode not known keeps the manifest's): the manifest then says
// what was shared, and a change the disk got since is a change here.
func (m Meta) record(man Manifest) {
	for r, em := range m {
		rec, ok := man[r]
		if !ok {
			continue
		}
		switch rec.Type {
		case dag.TypeFile:
			rec.Mtime = em.Mtime
		case dag.TypeDir: // its mode alone: its time changes with what is in it
		default:
			continue
		}
		if em.Mode != 0 {
			rec.Mode = em.Mode
		}
		man[r] = rec
	}
}

// LoadMeta reads the meta file c from bs (which must hold it): its
// entries and its versions.
func LoadMeta(ctx context.Context, bs blockstore.Blockstore, c cid.Cid) (Meta, Versions, error) {
	r, _, err := dag.Open(ctx, bs, c)
	if err != nil {
		return nil, Versions{}, err
	}
	defer r.Close()
	m, v, err := DecodeMeta(r)
	if err != nil {
		return nil, Versions{}, fmt.Errorf("read %s: %w", c, err)
	}
	return m, v, nil
}

// ReadMeta is the meta of the version root as the folder dir holds it:
// each file of the version's size and each folder there, by its path.
// What differs from the version (changed since it was read) or is a link
// is left out: a mirror writes it as it would without a meta. Of a file
// (root a file, dir its path), the meta is its own, at ".".
func ReadMeta(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, dir string) (Meta, error) {
	if e, err := dag.StatRoot(ctx, bs, root); err != nil {
		return nil, err
	} else if e.Type == dag.TypeFile {
		m := Meta{}
		if st, err := os.Lstat(dir); err == nil && st.Mode().IsRegular() && uint64(st.Size()) == e.Size {
			m["."] = EntryMeta{Mode: uint32(st.Mode().Perm()), Mtime: st.ModTime().UnixNano()}
		}
		if openToAll(filepath.Dir(dir), m) {
			m = m.WithoutModes()
		}
		return m, nil
	}
	a := &applier{ctx: ctx, v: Version{Root: root, Store: bs}, want: map[string]bool{}}
	items, err := a.list(root, ".", nil)
	if err != nil {
		return nil, err
	}
	m := Meta{}
	for _, it := range items {
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(it.rel)))
		if err != nil {
			continue
		}
		switch e := it.e; {
		case e.Type == dag.TypeDir && st.IsDir(),
			e.Type == dag.TypeFile && st.Mode().IsRegular() && uint64(st.Size()) == e.Size:
			m[it.rel] = EntryMeta{Mode: uint32(st.Mode().Perm()), Mtime: st.ModTime().UnixNano()}
		}
	}
	if openToAll(dir, m) {
		m = m.WithoutModes()
	}
	return m, nil
}

// applyMeta gives what the mirror wrote in dir (man), and still holds as
// written, the modes and times of m, folders last (writing in a folder
// changes its time), and records each file's and folder's new mode and
// time in man: what it so changed is still as written. A file or folder
// whose mode changed here (chmod) keeps it, as an edit here is kept. The
// owner keeps reading a file and changing a folder (the mirror must
// compare and write). It returns how many entries it changed.
func applyMeta(dir string, man Manifest, m Meta) (int, error) {
	var dirs []string
	n := 0
	// Nothing is changed through a link: a folder replaced by one here
	// could lead outside dir.
	walk := &applier{real: map[string]bool{".": true}}
	for r, rec := range man {
		em, ok := m[r]
		if !ok || rec.Type == dag.TypeSymlink || !walk.under(dir, path.Dir(r)) {
			continue
		}
		if rec.Type == dag.TypeDir {
			dirs = append(dirs, r)
			continue
		}
		if (em.Mode == 0 || rec.Mode == uint32(fileMode(em))) && rec.Mtime == em.Mtime {
			continue // given them before, and not written since
		}
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() != rec.Size || st.ModTime().UnixNano() != rec.Mtime ||
			rec.Mode != 0 && uint32(st.Mode().Perm()) != rec.Mode {
			continue // changed here (chmod too): this device's now
		}
		changed, err := setMeta(p, st, em, 0o400)
		if err != nil {
			return n, err
		}
		if changed {
			n++
			if st, err = os.Lstat(p); err != nil {
				return n, err
			}
		}
		rec.Mtime, rec.Mode = st.ModTime().UnixNano(), uint32(st.Mode().Perm())
		man[r] = rec
	}
	deepestFirst(dirs) // a folder's time is set after those in it
	for _, r := range dirs {
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Lstat(p)
		rec := man[r]
		if err != nil || !st.IsDir() || rec.Mode != 0 && uint32(st.Mode().Perm()) != rec.Mode {
			continue // a chmod here: this device's now
		}
		changed, err := setMeta(p, st, m[r], 0o700)
		if err != nil {
			return n, err
		}
		if changed {
			n++
			if st, err = os.Lstat(p); err != nil {
				return n, err
			}
		}
		rec.Mtime, rec.Mode = st.ModTime().UnixNano(), uint32(st.Mode().Perm())
		man[r] = rec
	}
	return n, nil
}

// fileMode is the mode applyMeta gives a file of em.
func fileMode(em EntryMeta) fs.FileMode { return fs.FileMode(em.Mode)&fs.ModePerm | 0o400 }

// ApplyMetaTo gives the folder dir, just written whole as the version
// root (by a get), the modes and times of m, as a mirror would: to each
// entry that holds what the version has there (Adopt), then to dir itself
// what m has at "." (a folder got from inside a share: Sub). It returns
// how many entries it changed.
func ApplyMetaTo(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, dir string, m Meta) (int, error) {
	st, err := os.Lstat(dir)
	if err != nil {
		return 0, err
	}
	if st.Mode().IsRegular() { // a file, its meta at "."
		em, ok := m["."]
		if !ok {
			return 0, nil
		}
		if changed, err := setMeta(dir, st, em, 0o400); err != nil || !changed {
			return 0, err
		}
		return 1, nil
	}
	man, err := Adopt(ctx, bs, root, dir, dag.Exclusion{})
	if err != nil {
		return 0, err
	}
	n, err := applyMeta(dir, man, m)
	if em, ok := m["."]; ok && err == nil && st.IsDir() {
		var changed bool
		if changed, err = setMeta(dir, st, em, 0o700); changed {
			n++
		}
	}
	return n, err
}

// setMeta gives p (st) em's mode, with the bits of keep, and em's time.
// A mode not known (0: shared from a file system that keeps none) leaves
// p's as it is.
func setMeta(p string, st fs.FileInfo, em EntryMeta, keep fs.FileMode) (bool, error) {
	changed := false
	if mode := fs.FileMode(em.Mode)&fs.ModePerm | keep; em.Mode != 0 && st.Mode().Perm() != mode {
		if err := os.Chmod(p, mode); err != nil {
			return false, fmt.Errorf("set the mode of %s: %w", p, err)
		}
		changed = true
	}
	if em.Mtime != 0 && st.ModTime().UnixNano() != em.Mtime {
		t := time.Unix(0, em.Mtime)
		if err := os.Chtimes(p, t, t); err != nil {
			return changed, fmt.Errorf("set the time of %s: %w", p, err)
		}
		changed = true
	}
	return changed, nil
}
