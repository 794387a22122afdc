package dag

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// HoldsTree reports whether the folder at p holds the folder c exactly
// (what a get of c wrote there, nothing added, removed or changed), and
// c's size: the same names, each of the same kind (file, folder, link),
// each link to the same target, and each file hashing to its CID there
// (as HashFile does). The names and sizes are compared first, from c's
// folder nodes and its files' root blocks (which must be in bs) and a
// listing of p, so that a folder that differs is mostly told without
// reading a file; then every file is read. progress, if not nil, is
// called with the bytes read so far, of the size. Anything p holds that
// c does not (a socket, a file a get would not write) makes it differ,
// but for SystemFiles (a .DS_Store Finder wrote since).
func HoldsTree(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, p string, progress func(done, total int64)) (bool, uint64, error) {
	var files []sameFile
	var total int64
	same, err := sameTree(ctx, bs, c, p, &files, &total)
	if err != nil || !same {
		return false, 0, err
	}
	var done int64
	for _, f := range files {
		base := done
		got, err := HashFile(ctx, f.path, func(n int64) {
			if progress != nil {
				progress(base+n, total)
			}
		})
		if err != nil {
			return false, 0, err
		}
		if got != f.c {
			return false, 0, nil
		}
		done += f.size
	}
	if progress != nil {
		progress(total, total)
	}
	return true, uint64(total), nil
}

type sameFile struct {
	path string
	c    cid.Cid
	size int64
}

// sameTree compares the folder c with the folder at p by names, kinds,
// links' targets and files' sizes, recursively, and lists the files to
// read.
func sameTree(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, p string, files *[]sameFile, total *int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() {
		return false, nil
	}
	entries, err := Ls(ctx, bs, c)
	if err != nil {
		return false, fmt.Errorf("list %s: %w", c, err)
	}
	disk, err := os.ReadDir(p)
	if err != nil {
		return false, fmt.Errorf("compare %s: %w", p, err)
	}
	// What the system left there since (Finder's .DS_Store), when c has
	// none of that name, is not the folder's content.
	disk = slices.DeleteFunc(disk, func(d fs.DirEntry) bool {
		return slices.ContainsFunc(systemFiles, func(pt pattern) bool { return pt.matches(d.Name(), d.IsDir()) }) &&
			!slices.ContainsFunc(entries, func(e Entry) bool { return e.Name == d.Name() })
	})
	// Both sorted by name (Ls sorts; ReadDir does too).
	if len(disk) != len(entries) || !slices.EqualFunc(entries, disk, func(e Entry, d fs.DirEntry) bool { return e.Name == d.Name() }) {
		return false, nil
	}
	for i, e := range entries {
		at := filepath.Join(p, e.Name)
		switch e.Type {
		case TypeDir:
			if !disk[i].IsDir() {
				return false, nil
			}
			if same, err := sameTree(ctx, bs, e.Cid, at, files, total); err != nil || !same {
				return false, err
			}
		case TypeSymlink:
			if disk[i].Type() != fs.ModeSymlink {
				return false, nil
			}
			if target, err := os.Readlink(at); err != nil || target != e.Target {
				return false, nil
			}
		case TypeFile:
			info, err := disk[i].Info()
			if err != nil || !info.Mode().IsRegular() || uint64(info.Size()) != e.Size {
				return false, nil
			}
			*files = append(*files, sameFile{at, e.Cid, info.Size()})
			*total += info.Size()
		default:
			return false, nil
		}
	}
	return true, nil
}
