package node

import (
	"context"
	"fmt"
	"path"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
)

// addMeta reads the modes and times of what AddPaths just added as root
// from paths (wrapped in a folder when wrap is set), keeps them with the
// user's pin of root, as a share does, and returns their CID (Undef when
// there are none, or they could not be kept: the add stands, without
// them, and the log says why).
func (n *Node) addMeta(ctx context.Context, root cid.Cid, paths []string, wrap string) cid.Cid {
	m, err := n.readAddMeta(ctx, root, paths, wrap)
	if err == nil && len(m) == 0 {
		return cid.Undef
	}
	var meta cid.Cid
	if err == nil {
		unlock := n.gcl.PinLock()
		meta, err = n.keepMeta(ctx, root, m, mirror.Versions{})
		unlock()
	}
	if err != nil {
		n.log.Warn("add: the modes and times are not kept; the content is", "cid", root, "err", err)
		return cid.Undef
	}
	return meta
}

// readAddMeta reads the modes and times of paths, added as root.
func (n *Node) readAddMeta(ctx context.Context, root cid.Cid, paths []string, wrap string) (mirror.Meta, error) {
	if wrap == "" {
		return mirror.ReadMeta(ctx, n.store, root, paths[0])
	}
	entries, err := dag.Ls(ctx, n.store, root)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]cid.Cid, len(entries))
	for _, e := range entries {
		byName[e.Name] = e.Cid
	}
	m := mirror.Meta{}
	for _, p := range paths {
		name := filepath.Base(p)
		c, ok := byName[name]
		if !ok {
			continue
		}
		sub, err := mirror.ReadMeta(ctx, n.store, c, p)
		if err != nil {
			return nil, err
		}
		for r, em := range sub {
			m[path.Join(name, r)] = em // "." is name itself
		}
	}
	return m, nil
}

// keepMeta stores m (with vers, see mirror.EncodeMeta) and keeps it with
// the user's pin of root, which must exist, and returns its CID (Undef
// when m is too large to keep: the pin then keeps none, not an older
// one). The caller holds the pin lock.
func (n *Node) keepMeta(ctx context.Context, root cid.Cid, m mirror.Meta, vers mirror.Versions) (cid.Cid, error) {
	meta, err := n.storeMeta(ctx, m, vers)
	if err != nil {
		return cid.Undef, err
	}
	p, err := n.store.GetPin(ctx, root, blockstore.OwnerUser)
	if err != nil {
		return cid.Undef, fmt.Errorf("keep the modes and times of %s: %w", root, err)
	}
	if !p.Meta.Equals(meta) {
		p.Meta = meta
		if err := n.store.AddPin(ctx, p); err != nil {
			return cid.Undef, fmt.Errorf("keep the modes and times of %s: %w", root, err)
		}
	}
	return meta, nil
}
