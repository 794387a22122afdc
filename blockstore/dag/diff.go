package dag

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// A Difference is one entry that differs between two versions of a folder.
type Difference struct {
	// Path is slash separated from the folder's top; a folder's ends in /.
	// It is "" when the versions are files rather than folders.
	Path string
	What string // DiffWritten, DiffRemoved or DiffMoved
}

// What a Difference is.
const (
	DiffWritten = "written" // a file or link new in the newer version, or changed
	DiffRemoved = "removed" // in the older version only
	DiffMoved   = "moved"   // a file of the older version at a new path (and gone from its old one)
)

// Diff lists what differs between old and new, two versions of a folder
// (new the newer): the files and links written (new or changed), those
// removed (a folder removed is named with a trailing / and so is each
// entry it held) and the files moved (their bytes were at a path the new
// version no longer has: the old path is not named removed). A folder
// added is named by the files in it. Only folders whose CIDs differ are
// read, and the root blocks of the entries that differ, none of the
// files' data: it costs what changed. The differences
// come in path order, at most limit of them (limit <= 0: all). Two
// files rather than folders give one written Difference with Path "" when
// they differ. Missing blocks give errors matching blockstore.ErrNotFound.
func Diff(ctx context.Context, bs blockstore.Blockstore, old, new cid.Cid, limit int) ([]Difference, error) {
	if old.Equals(new) {
		return nil, nil
	}
	d := differ{bs: bs, removed: map[cid.Cid][]string{}}
	oldDir, err := d.isDir(ctx, old)
	if err != nil {
		return nil, err
	}
	newDir, err := d.isDir(ctx, new)
	if err != nil {
		return nil, err
	}
	if !oldDir || !newDir {
		return []Difference{{What: DiffWritten}}, nil
	}
	if err := d.folders(ctx, "", old, new); err != nil {
		return nil, err
	}
	return d.result(limit), nil
}

// differ gathers the differences of one Diff.
type differ struct {
	bs  blockstore.Blockstore
	out []diffEntry
	// removed holds the files removed, by CID, with their paths: a file
	// added with the same CID was moved.
	removed map[cid.Cid][]string
}

// diffEntry is a Difference, with the file's CID, and whether its path
// is new (only a new path may be where a file moved to).
type diffEntry struct {
	Difference
	c       cid.Cid
	newPath bool
}

func (d *differ) isDir(ctx context.Context, c cid.Cid) (bool, error) {
	if c.Type() == cid.Raw {
		return false, nil // a whole small file
	}
	e, err := StatRoot(ctx, d.bs, c)
	if err != nil {
		return false, err
	}
	return e.Type == TypeDir, nil
}

// typed is e with its Type, read from its root block.
func (d *differ) typed(ctx context.Context, e Entry) (Entry, error) {
	dir, err := d.isDir(ctx, e.Cid)
	if err != nil {
		return e, fmt.Errorf("%s: %w", e.Name, err)
	}
	e.Type = TypeFile // a file or a link: alike here
	if dir {
		e.Type = TypeDir
	}
	return e, nil
}

// links lists the folder at c by name: each entry's Name and Cid, its
// Type not read yet.
func (d *differ) links(ctx context.Context, c cid.Cid) ([]Entry, error) {
	dir, err := openDir(ctx, readDAG{d.bs}, c)
	if err != nil {
		return nil, err
	}
	ls, err := dir.Links(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(ls))
	for i, l := range ls {
		out[i] = Entry{Name: l.Name, Cid: l.Cid}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// folders compares the folders old and new at prefix (ending in / below
// the top).
func (d *differ) folders(ctx context.Context, prefix string, old, new cid.Cid) error {
	olds, err := d.links(ctx, old)
	if err != nil {
		return err
	}
	news, err := d.links(ctx, new)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(olds) || j < len(news) {
		switch {
		case j == len(news) || (i < len(olds) && olds[i].Name < news[j].Name):
			if err := d.all(ctx, prefix, olds[i], DiffRemoved); err != nil {
				return err
			}
			i++
		case i == len(olds) || news[j].Name < olds[i].Name:
			if err := d.all(ctx, prefix, news[j], DiffWritten); err != nil {
				return err
			}
			j++
		default:
			o, n := olds[i], news[j]
			i, j = i+1, j+1
			if o.Cid.Equals(n.Cid) {
				continue
			}
			if o, err = d.typed(ctx, o); err != nil {
				return err
			}
			if n, err = d.typed(ctx, n); err != nil {
				return err
			}
			switch {
			case o.Type == TypeDir && n.Type == TypeDir:
				if err := d.folders(ctx, prefix+n.Name+"/", o.Cid, n.Cid); err != nil {
					return err
				}
			case o.Type != TypeDir && n.Type != TypeDir:
				d.add(prefix+n.Name, DiffWritten, n, false)
			default: // a folder became a file, or a file a folder
				if err := d.all(ctx, prefix, o, DiffRemoved); err != nil {
					return err
				}
				if err := d.all(ctx, prefix, n, DiffWritten); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// all names e, at prefix, and everything under it, as what.
func (d *differ) all(ctx context.Context, prefix string, e Entry, what string) error {
	if e.Type == "" {
		var err error
		if e, err = d.typed(ctx, e); err != nil {
			return err
		}
	}
	if e.Type != TypeDir {
		d.add(prefix+e.Name, what, e, true)
		return nil
	}
	if what == DiffRemoved {
		d.add(prefix+e.Name+"/", what, e, true)
	}
	below, err := d.links(ctx, e.Cid)
	if err != nil {
		return err
	}
	for _, b := range below {
		if err := d.all(ctx, prefix+e.Name+"/", b, what); err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) add(p, what string, e Entry, newPath bool) {
	d.out = append(d.out, diffEntry{Difference{Path: p, What: what}, e.Cid, newPath})
	if what == DiffRemoved && e.Type == TypeFile { // (a link's bytes too)
		d.removed[e.Cid] = append(d.removed[e.Cid], p)
	}
}

// result pairs each file written at a new path with a file removed with
// the same bytes (a move), and returns the differences in path order.
func (d *differ) result(limit int) []Difference {
	moved := map[string]bool{} // removed paths that were moved
	for k, e := range d.out {
		if e.What != DiffWritten || !e.newPath {
			continue
		}
		if from := d.removed[e.c]; len(from) > 0 {
			moved[from[0]] = true
			d.removed[e.c] = from[1:]
			d.out[k].What = DiffMoved
		}
	}
	out := make([]Difference, 0, len(d.out))
	for _, e := range d.out {
		if e.What == DiffRemoved && moved[e.Path] {
			continue
		}
		out = append(out, e.Difference)
	}
	slices.SortStableFunc(out, func(a, b Difference) int { return strings.Compare(a.Path, b.Path) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
