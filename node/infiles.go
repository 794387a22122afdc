package node

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
)

// A folder that follows a group's version (kith get --follow, --sync) is
// the copy of the files written into it, as a watched folder is of its
// own (dag.WithNoCopy): the repo need not hold them too (keepInFiles,
// referFolder). A folder that no longer is (copyIntoRepo) is the user's
// again: what stays pinned of its version goes back into the repo.

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
		err = dag.FileLeavesOf(ctx, n.store, c, st.Size(), func(leaf cid.Cid, off int64, size int) error {
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
		if n.mirrors == nil || !slices.ContainsFunc(n.mirrors.List(), func(m mirror.Mirror) bool { return m.Path == dir }) {
			return // no longer followed meanwhile
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

// copyIntoRepo puts into the repo, with their bytes, the blocks of the
// version c that are kept as where they are in files, in the background,
// if something keeps c pinned: a folder no longer watched or followed is
// the user's again (to edit, move, delete) while the version stays shared
// or kept. A block whose file no longer holds it stays as it is (the
// group's other copies, and the walk of repairCopies, have it).
func (n *Node) copyIntoRepo(c string) {
	root, err := cid.Decode(c)
	if err != nil || !n.store.HasFileRefs(n.ctx) {
		return
	}
	n.background(func(ctx context.Context) {
		if ps, err := n.store.PinsOf(ctx, root); err != nil || len(ps) == 0 {
			return
		}
		files := map[string]cid.Cid{}
		if err := versionFiles(ctx, n.store, root, "", files); err != nil {
			n.log.Debug("could not list a version to copy it into the repo", "cid", root, "err", err)
			return
		}
		var batch []blocks.Block
		var size, copied int64
		flush := func() {
			if len(batch) == 0 {
				return
			}
			if err := n.store.PutMany(ctx, batch); err != nil {
				n.log.Warn("could not copy a version into the repo: it stays read from its folder", "cid", root, "err", err)
			}
			copied += size
			batch, size = nil, 0
		}
		for _, f := range files {
			_ = dag.FileLeaves(ctx, n.store, f, func(leaf cid.Cid, _ int64, _ int) error {
				if !n.store.IsFileRef(leaf) {
					return nil // its bytes are in the repo already (or it is not here)
				}
				b, err := n.store.Get(ctx, leaf)
				if err != nil {
					return nil // not here, or its file changed
				}
				// A plain block: its bytes replace the reference.
				plain, err := blocks.NewBlockWithCid(b.RawData(), leaf)
				if err != nil {
					return nil
				}
				batch = append(batch, plain)
				if size += int64(len(plain.RawData())); size >= 8<<20 {
					flush()
				}
				return nil
			})
		}
		flush()
		n.log.Info("a folder no longer followed: the version it was the copy of is copied into the repo", "cid", root, "bytes", copied)
	})
}
