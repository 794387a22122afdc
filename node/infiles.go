package node

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// A folder that follows a group's version (kith get --follow, --sync) is
// the copy of the files written into it: the repo need not hold them too.

// keepInFiles has the store keep the blocks of files a mirror wrote into
// dir as where their bytes are in those files rather than the bytes: the
// folder is the copy (as a watched folder's own files are, see
// dag.WithNoCopy), and the repo does not hold the group's version twice.
// A file changed since it was written stays as it was in the store.
func (n *Node) keepInFiles(ctx context.Context, dir string, files map[string]cid.Cid) {
	var refs []blockstore.Referral
	for rel, c := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() < blockstore.FileRefMin {
			continue
		}
		err = dag.FileLeaves(ctx, n.store, c, func(leaf cid.Cid, off int64, size int) error {
			refs = append(refs, blockstore.Referral{Cid: leaf, Ref: blockstore.FileRef{
				Path: p, Off: off, Size: size, FileSize: st.Size(), ModTime: st.ModTime().UnixNano()}})
			return nil
		})
		if err != nil && !errors.Is(err, dag.ErrNotRawLeaves) {
			n.log.Debug("mirror: its blocks stay copied in the repo", "file", p, "err", err)
		}
	}
	if len(refs) == 0 {
		return
	}
	moved, err := n.store.ReferTo(ctx, refs)
	if err != nil {
		n.log.Warn("mirror: could not keep the files written as where their bytes are; the repo keeps a copy", "folder", dir, "err", err)
		return
	}
	n.log.Debug("mirror: the folder is the copy of what it wrote", "folder", dir, "bytes", moved)
}

// referFolder has the store keep the blocks of the version c that the
// folder dir holds (written there by a get before it followed, or a copy
// adopted) as where they are in its files, in the background: what the
// folder holds differently, or lacks, stays as it is in the store.
func (n *Node) referFolder(dir string, c cid.Cid) {
	n.background(func(ctx context.Context) {
		files := map[string]cid.Cid{}
		if err := versionFiles(ctx, n.store, c, "", files); err != nil {
			n.log.Debug("mirror: the folder's blocks stay copied in the repo", "folder", dir, "err", err)
			return
		}
		n.keepInFiles(ctx, dir, files)
	})
}

// versionFiles adds to out the files of the folder c (read from bs), by
// their slash paths under rel, with the CIDs of their roots.
func versionFiles(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, rel string, out map[string]cid.Cid) error {
	es, err := dag.LsLinks(ctx, bs, c)
	if err != nil {
		return err
	}
	for _, e := range es {
		r := path.Join(rel, e.Name)
		switch e.Type {
		case dag.TypeFile:
			if e.Size >= blockstore.FileRefMin {
				out[r] = e.Cid
			}
		case dag.TypeDir:
			if err := versionFiles(ctx, bs, e.Cid, r, out); err != nil && !errors.Is(err, blockstore.ErrNotFound) {
				return err // a folder left out was not fetched
			}
		}
	}
	return nil
}
