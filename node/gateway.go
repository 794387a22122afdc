package node

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// The node serves its content to the web gateway.
var _ api.Gateway = (*Node)(nil)

// Resolve walks path from root through folders, reading the local repo
// only. Each step lists one folder, which is linear in its size; fine for
// the folders people open in a browser.
func (n *Node) Resolve(ctx context.Context, root cid.Cid, path string) (api.Entry, error) {
	cur, err := dag.Stat(ctx, n.store, root)
	if err != nil {
		return api.Entry{}, fmt.Errorf("resolve %s: %w", root, err)
	}
	walked := root.String()
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." {
			continue
		}
		if cur.Type != dag.TypeDir {
			return api.Entry{}, fmt.Errorf("resolve %s/%s: %s is a file, not a folder: %w", root, path, walked, blockstore.ErrNotFound)
		}
		entries, err := dag.Ls(ctx, n.store, cur.Cid)
		if err != nil {
			return api.Entry{}, fmt.Errorf("resolve %s/%s: %w", root, path, err)
		}
		found := false
		for _, e := range entries {
			if e.Name == name {
				cur, found = e, true
				break
			}
		}
		if !found {
			return api.Entry{}, fmt.Errorf("resolve %s/%s: %s has no entry %q: %w", root, path, walked, name, blockstore.ErrNotFound)
		}
		walked += "/" + name
	}
	return toAPIEntry(cur), nil
}

// Open returns a seekable reader over file c from the local repo.
func (n *Node) Open(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, uint64, error) {
	r, size, err := dag.Open(ctx, n.store, c)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", c, err)
	}
	return r, size, nil
}
