package mirror

import (
	"io/fs"
	"path"

	"github.com/ipfs/boxo/files"
)

// CollectMeta wraps nd, a file or folder an import is about to read, so
// that, as the import reads it, m gets the mode and time each entry
// carries: what a CLI streams with the bytes when the daemon cannot read
// the folder itself (boxo's multipart format sends both), so that a share
// of that content still carries its modes and times. Entries are by slash
// path as ReadMeta has them (a file's own at "."; a folder's own is not
// kept); links, and entries sent without a mode, are left out.
func CollectMeta(nd files.Node, m Meta) files.Node {
	switch nd := nd.(type) {
	case *files.Symlink:
	case files.Directory:
		return &metaDir{Directory: nd, rel: ".", m: m}
	case files.File:
		m.collect(".", nd)
	}
	return nd
}

// collect records nd's mode and time at rel, when it has a mode and is a
// file or folder.
func (m Meta) collect(rel string, nd files.Node) {
	mode := nd.Mode()
	if mode.Perm() == 0 || (mode.Type() != 0 && mode.Type() != fs.ModeDir) {
		return
	}
	var mtime int64
	if t := nd.ModTime(); !t.IsZero() && t.Unix() > 0 {
		mtime = t.UnixNano()
	}
	m[rel] = EntryMeta{Mode: uint32(mode.Perm()), Mtime: mtime}
}

// metaDir is a folder CollectMeta reads the entries of.
type metaDir struct {
	files.Directory
	rel string
	m   Meta
}

func (d *metaDir) Entries() files.DirIterator {
	return &metaIter{DirIterator: d.Directory.Entries(), d: d}
}

// metaIter records each entry as the import reaches it.
type metaIter struct {
	files.DirIterator
	d    *metaDir
	node files.Node
}

func (it *metaIter) Next() bool {
	if !it.DirIterator.Next() {
		it.node = nil
		return false
	}
	rel := path.Join(it.d.rel, it.Name())
	it.node = it.DirIterator.Node()
	switch nd := it.node.(type) {
	case *files.Symlink:
	case files.Directory:
		it.d.m.collect(rel, nd)
		it.node = &metaDir{Directory: nd, rel: rel, m: it.d.m}
	case files.File:
		it.d.m.collect(rel, nd)
	}
	return true
}

func (it *metaIter) Node() files.Node { return it.node }
