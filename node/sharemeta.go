package node

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// shareMeta stores the modes and times of the folder (or file) dir, added
// as the version c, as a small file kept with the user's pin of c
// (blockstore.Pin.Meta), and returns its CID for the group's intent: the
// devices that follow or get the share give their copies the same modes
// (a script stays executable) and times. dir "" (nothing to read), or a
// path the daemon cannot read (the CLI read it and streamed it), gives
// those this device keeps for c, if any (keptMeta). The user's pin of c
// must exist. vers are the meta's (mirror.EncodeMeta).
func (n *Node) shareMeta(ctx context.Context, c cid.Cid, dir string, vers mirror.Versions) (cid.Cid, error) {
	if dir != "" && !filepath.IsAbs(dir) {
		return cid.Undef, fmt.Errorf("share %s: the folder %q must be an absolute path: %w", c, dir, api.ErrInvalid)
	}
	var statErr error
	if dir != "" {
		_, statErr = os.Stat(dir)
	}
	if dir == "" || statErr != nil {
		meta, err := n.keptMeta(ctx, c)
		if statErr != nil {
			n.log.Info("share: the daemon cannot read what was added; it shares the modes and times it keeps for it, if any", "path", dir, "err", statErr, "kept", meta.Defined())
		}
		return meta, err
	}
	m, err := mirror.ReadMeta(ctx, n.store, c, dir)
	if err != nil {
		return cid.Undef, fmt.Errorf("share %s: read the modes and times in %s: %w", c, dir, err)
	}
	unlock := n.gcl.PinLock()
	defer unlock()
	meta, err := n.keepMeta(ctx, c, m, vers)
	if err != nil {
		return cid.Undef, fmt.Errorf("share %s: %w", c, err)
	}
	return meta, nil
}

// keptMeta is the meta this device keeps for c, the user's pin of which
// exists: the one kept with the pin (sent with a streamed add, read by an
// earlier share), else the one a group of ours shares with c when this
// device holds it (it keeps or follows a copy), which the pin then keeps
// too: content shared again, in another group, keeps its modes and times.
func (n *Node) keptMeta(ctx context.Context, c cid.Cid) (cid.Cid, error) {
	unlock := n.gcl.PinLock()
	defer unlock()
	p, err := n.store.GetPin(ctx, c, blockstore.OwnerUser)
	if err != nil {
		return cid.Undef, fmt.Errorf("share %s: %w", c, err)
	}
	if p.Meta.Defined() {
		return p.Meta, nil
	}
	meta := n.sharedMeta(c)
	if !meta.Defined() {
		return cid.Undef, nil
	}
	if has, err := n.store.Has(ctx, meta); err != nil || !has {
		return cid.Undef, nil
	}
	p.Meta = meta
	if err := n.store.AddPin(ctx, p); err != nil {
		return cid.Undef, fmt.Errorf("share %s: keep its modes and times: %w", c, err)
	}
	return meta, nil
}

// storeMeta stores m as the file shared beside a version, and returns its
// CID; for more than a mirror reads (mirror.MaxMetaSize: about a million
// entries), it stores nothing and returns cid.Undef. The caller holds the
// pin lock until it pins the CID.
func (n *Node) storeMeta(ctx context.Context, m mirror.Meta, vers mirror.Versions) (cid.Cid, error) {
	b := mirror.EncodeMeta(m, vers)
	if len(b) > mirror.MaxMetaSize {
		n.log.Warn("modes and times not kept: too many entries", "entries", len(m), "bytes", len(b))
		return cid.Undef, nil
	}
	res, err := dag.NewImporter(n.store).Add(ctx, files.NewBytesFile(b), nil)
	if err != nil {
		return cid.Undef, fmt.Errorf("store the modes and times: %w", err)
	}
	return res.Root, nil
}

// sharedMeta is the meta the groups of ours share with root (the newest
// intent's that has one), or cid.Undef.
func (n *Node) sharedMeta(root cid.Cid) cid.Cid {
	gs, err := n.groupSet()
	if err != nil {
		return cid.Undef
	}
	var best group.Intent
	for _, g := range gs.list() {
		g.net.Read(func(s *group.State, _ *group.Liveness) {
			if in, ok := s.Intent(root); ok && !in.Withdrawn && in.Meta.Defined() && (!best.Meta.Defined() || in.Version.Compare(best.Version) > 0) {
				best = in
			}
		})
	}
	return best.Meta
}

// applySharedMeta gives out, just written whole by a get of r, the modes
// and times a group shares with r's root, else those r's ticket carries,
// if any: what a device that brings back a shared folder, or a folder or
// file in it, expects (a script executable, the photos' times), and what
// a friend sent a folder expects too. A ticket's sharer may be a
// stranger: its modes give nobody but the owner the right to write
// (ticketModes). What the get left out (the slash paths left) is given
// nothing: the path of one holds another entry. It says how many entries
// it changed; an error leaves the files as written.
func (n *Node) applySharedMeta(ctx context.Context, r resolved, out string, left []string) (int, error) {
	root := r.root
	meta, limit := n.sharedMeta(root), fs.ModePerm
	if !meta.Defined() {
		meta, limit = r.meta, ticketModes
	}
	if !meta.Defined() {
		return 0, nil
	}
	defer n.gcl.Hold(meta)()
	unlock := n.gcl.PinLock()
	_, err := n.ensureLocal(ctx, meta, nil)
	unlock()
	if err != nil {
		return 0, fmt.Errorf("fetch the modes and times of %s: %w", root, err)
	}
	m, _, err := mirror.LoadMeta(ctx, n.store, meta)
	if err != nil {
		return 0, fmt.Errorf("the modes and times of %s: %w", root, err)
	}
	m = m.Sub(path.Join(r.names...)).Without(left)
	for p, em := range m {
		em.Mode &= uint32(limit)
		m[p] = em
	}
	return mirror.ApplyMetaTo(ctx, n.store, r.c, out, m)
}

// ticketModes bounds the modes a ticket's sharer gives what a get writes:
// read and run for everyone, write for the owner (as tar does for a user
// other than root, with the usual umask).
const ticketModes fs.FileMode = 0o755
