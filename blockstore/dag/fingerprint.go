package dag

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"
)

// Fingerprint sums what OpenPath(p, x) would read (p's IgnoreFile
// included, whose change is a change of the tree) without reading any
// file: each entry's path, kind, size, modification time and, for a
// symbolic link, its target. Two equal fingerprints mean an add would
// (short of a change that keeps size and time) give the same CID; a
// different one, that something was added, removed, renamed or written.
// It is as cheap as listing the tree, so a folder can be checked often.
// newest is the latest modification time in the tree, folders included:
// an entry written, added or removed while an add was reading the tree is
// newer than the add's start.
func Fingerprint(p string, x Exclusion) (sum string, newest time.Time, err error) {
	st, err := os.Stat(p) // a link given as the path is followed, as OpenPath does
	if err != nil {
		return "", time.Time{}, err
	}
	if st.IsDir() {
		if x, err = x.WithIgnoreFile(p); err != nil {
			return "", time.Time{}, err
		}
	}
	h := sha256.New()
	var num [8]byte
	entry := func(rel string, st fs.FileInfo, target string) {
		if st.ModTime().After(newest) {
			newest = st.ModTime()
		}
		binary.BigEndian.PutUint64(num[:], uint64(len(rel)))
		h.Write(num[:])
		h.Write([]byte(rel))
		binary.BigEndian.PutUint32(num[:4], uint32(st.Mode()))
		h.Write(num[:4])
		// A folder's own size and time say nothing an add reads: its
		// entries do (and its time changes with an excluded entry too).
		var size, mtime int64
		if !st.IsDir() {
			size, mtime = st.Size(), st.ModTime().UnixNano()
		}
		binary.BigEndian.PutUint64(num[:], uint64(size))
		h.Write(num[:])
		binary.BigEndian.PutUint64(num[:], uint64(mtime))
		h.Write(num[:])
		binary.BigEndian.PutUint64(num[:], uint64(len(target)))
		h.Write(num[:])
		h.Write([]byte(target))
	}
	// rel names an entry in the sum (from p's own name); xrel is its
	// path from p, which x's patterns match.
	var walk func(dir, rel, xrel string) error
	walk = func(dir, rel, xrel string) error {
		ents, err := os.ReadDir(dir)
		if err != nil && xrel != "" && errors.Is(err, fs.ErrPermission) {
			// A folder in it that may not be listed counts as its mode and
			// time (OpenPath's add goes on past it, where it may).
			return nil
		}
		if err != nil {
			return err
		}
		// os.ReadDir returns entries sorted by name: the order is stable.
		for _, e := range ents {
			if x.Leaves(dir, xrel, e) {
				continue
			}
			full, r := filepath.Join(dir, e.Name()), rel+"/"+e.Name()
			st, err := os.Lstat(full)
			if err != nil {
				return err
			}
			var target string
			switch mode := st.Mode(); {
			case mode&fs.ModeSymlink != 0:
				if target, err = os.Readlink(full); err != nil {
					return err
				}
			case special(mode):
				continue // left out, as OpenPath does
			}
			entry(r, st, target)
			if st.IsDir() {
				if err := walk(full, r, path.Join(xrel, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	entry(filepath.Base(p), st, "")
	if st.IsDir() {
		if err := walk(p, filepath.Base(p), ""); err != nil {
			return "", time.Time{}, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), newest, nil
}
