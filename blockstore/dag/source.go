package dag

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/boxo/files"
)

// OpenPath opens the file or folder at p for Importer.Add, following p if
// it is a symbolic link. A folder comes with everything in it, hidden
// files included, except what x and the folder's IgnoreFile exclude and
// the special files in it (a socket, a named pipe, a device: no content
// to add; x.Reporting names them); the symbolic links in it are links
// (Importer.Add stores each as a link). A p that is itself a special file
// is refused. Entries are opened one at a time, as the import reaches
// them; excluded ones are never opened.
func OpenPath(p string, x Exclusion) (files.Node, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		// A folder that may not be read says so itself, before its
		// .kithignore is looked for in it.
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		f.Close()
		if x, err = x.WithIgnoreFile(p); err != nil {
			return nil, err
		}
	}
	return openEntry(p, "", st, x)
}

// openEntry opens the entry at p, whose slash path from the top of what
// is added is rel ("" for the top).
func openEntry(p, rel string, st fs.FileInfo, x Exclusion) (files.Node, error) {
	mode := st.Mode()
	switch {
	case mode.IsDir():
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		return &pathDir{path: p, rel: rel, stat: st, ents: ents, x: x}, nil
	case mode.IsRegular(), mode&fs.ModeSymlink != 0:
		return files.NewSerialFileWithOptions(p, st, files.SerialFileOptions{})
	default:
		return nil, fmt.Errorf("%s is not a file, a folder or a symbolic link (%s): it holds nothing to add", p, kindOf(mode))
	}
}

// pathDir is a folder on disk as a files.Directory, read without the
// entries its Exclusion leaves out.
type pathDir struct {
	path string
	rel  string // from the top of what is added ("" for the top)
	stat fs.FileInfo
	ents []fs.DirEntry
	x    Exclusion
}

func (d *pathDir) Close() error       { return nil }
func (d *pathDir) Mode() os.FileMode  { return d.stat.Mode() }
func (d *pathDir) ModTime() time.Time { return d.stat.ModTime() }
func (d *pathDir) Entries() files.DirIterator {
	return &pathIter{d: d, ents: d.ents}
}

// Size is the length of every file the folder holds, less what is
// excluded: the total an import of it reads.
func (d *pathDir) Size() (int64, error) { return treeBytes(d.path, d.rel, d.ents, d.x) }

func treeBytes(dir, rel string, ents []fs.DirEntry, x Exclusion) (int64, error) {
	var total int64
	for _, e := range ents {
		if x.Leaves(dir, rel, e) {
			continue
		}
		switch {
		case e.IsDir():
			p := filepath.Join(dir, e.Name())
			sub, err := os.ReadDir(p)
			if errors.Is(err, fs.ErrPermission) {
				continue // not to be listed: not read (unreadableFile)
			}
			if err != nil {
				return total, err
			}
			n, err := treeBytes(p, path.Join(rel, e.Name()), sub, x)
			total += n
			if err != nil {
				return total, err
			}
		case e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				return total, err
			}
			total += info.Size()
		}
	}
	return total, nil
}

type pathIter struct {
	d    *pathDir
	ents []fs.DirEntry
	name string
	node files.Node
	err  error
}

func (it *pathIter) Name() string     { return it.name }
func (it *pathIter) Node() files.Node { return it.node }
func (it *pathIter) Err() error       { return it.err }

func (it *pathIter) Next() bool {
	for len(it.ents) > 0 && it.err == nil {
		e := it.ents[0]
		it.ents = it.ents[1:]
		if it.d.x.Leaves(it.d.path, it.d.rel, e) {
			continue
		}
		p := filepath.Join(it.d.path, e.Name())
		info, err := e.Info() // not following a link
		if err == nil && special(info.Mode()) {
			it.d.x.skipped.add(p, info.Mode())
			continue
		}
		if err == nil {
			it.node, err = openEntry(p, path.Join(it.d.rel, e.Name()), info, it.d.x)
			if err != nil && (info.Mode().IsRegular() || info.IsDir()) && !errors.Is(err, fs.ErrNotExist) {
				// Not to be read (no permission, held by another program; a
				// folder not to be listed): left out here when asked
				// (LeavingUnreadable), else the import says what becomes
				// of it.
				if it.d.x.unread != nil {
					it.d.x.unread.add(path.Join(it.d.rel, e.Name()), err)
					continue
				}
				it.node, err = &unreadableFile{path: p, stat: info, err: err}, nil
			}
		}
		if err != nil {
			it.err = err
			return false
		}
		it.name = e.Name()
		return true
	}
	return false
}

// OpenAdd opens what one add of paths reads, and names it: the file or
// folder at the one path (OpenPath), named by its last element, or, with
// wrap set, the paths as the entries of one new folder named wrap
// (OpenPaths).
func OpenAdd(paths []string, wrap string, x Exclusion) (files.Node, string, error) {
	if wrap != "" {
		nd, err := OpenPaths(paths, x)
		return nd, wrap, err
	}
	if len(paths) != 1 {
		return nil, "", fmt.Errorf("%d paths and no folder to put them in", len(paths))
	}
	nd, err := OpenPath(paths[0], x)
	return nd, filepath.Base(paths[0]), err
}

// ErrSameName is returned (wrapped) by OpenPaths for two paths that would
// be entries of the same name.
var ErrSameName = errors.New("two entries of the folder would have the same name")

// OpenPaths is a folder made here for Importer.Add, whose entries are the
// files and folders at paths (each followed if it is a symbolic link, as
// OpenPath does), named by their last element: `kith add --wrap NAME a b`.
// Two paths with the same last element are refused, naming it. What is
// in the folders among them is read as OpenPath reads it, SystemFiles
// left out, but no IgnoreFile is read. Entries are opened one at a time,
// as the import reaches them.
func OpenPaths(paths []string, x Exclusion) (files.Directory, error) {
	d := &pathsDir{x: x.WithSystemFiles(), byName: map[string]string{}}
	for _, p := range paths {
		name := filepath.Base(filepath.Clean(p))
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if other, dup := d.byName[name]; dup {
			return nil, fmt.Errorf("%w: %s and %s would both be %q: rename one, or add them apart", ErrSameName, other, p, name)
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		d.byName[name] = p
		d.entries = append(d.entries, pathEntry{name: name, path: p, stat: st})
	}
	slices.SortFunc(d.entries, func(a, b pathEntry) int { return strings.Compare(a.name, b.name) })
	return d, nil
}

type pathEntry struct {
	name, path string
	stat       fs.FileInfo
}

// pathsDir is OpenPaths' folder.
type pathsDir struct {
	entries []pathEntry
	byName  map[string]string
	x       Exclusion
}

func (d *pathsDir) Close() error       { return nil }
func (d *pathsDir) Mode() os.FileMode  { return fs.ModeDir | 0o755 }
func (d *pathsDir) ModTime() time.Time { return time.Time{} }

// Size is what an import of the folder reads: every file's length, less
// what is excluded.
func (d *pathsDir) Size() (int64, error) {
	var total int64
	for _, e := range d.entries {
		switch {
		case e.stat.IsDir():
			ents, err := os.ReadDir(e.path)
			if err != nil {
				return total, err
			}
			n, err := treeBytes(e.path, e.name, ents, d.x)
			total += n
			if err != nil {
				return total, err
			}
		case e.stat.Mode().IsRegular():
			total += e.stat.Size()
		}
	}
	return total, nil
}

func (d *pathsDir) Entries() files.DirIterator { return &pathsIter{d: d, i: -1} }

type pathsIter struct {
	d    *pathsDir
	i    int
	node files.Node
	err  error
}

func (it *pathsIter) Name() string     { return it.d.entries[it.i].name }
func (it *pathsIter) Node() files.Node { return it.node }
func (it *pathsIter) Err() error       { return it.err }

func (it *pathsIter) Next() bool {
	if it.err != nil || it.i+1 >= len(it.d.entries) {
		return false
	}
	it.i++
	e := it.d.entries[it.i]
	if it.node, it.err = openEntry(e.path, e.name, e.stat, it.d.x); it.err != nil {
		return false
	}
	return true
}
