package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/node/watch"
	"github.com/kith-p2p/kith/web/api"
)

// GroupPause pauses (paused) or resumes the folder path: whatever follows
// a group's share into it (its mirror) writes no newer version in, and
// whatever shares it as it changes (its watches, in every group) neither
// looks at it nor shares it, until it is resumed; then both catch up at
// once, as after a time offline (a folder that syncs both ways merges
// what changed on each side meanwhile). Syncthing pauses a folder so.
func (n *Node) GroupPause(ctx context.Context, path string, paused bool) (api.FolderPause, error) {
	if !filepath.IsAbs(path) {
		return api.FolderPause{}, fmt.Errorf("path %q must be absolute: %w", path, api.ErrInvalid)
	}
	path = filepath.Clean(path)
	out := api.FolderPause{Path: path, Paused: paused, Mirrors: []api.GroupMirror{}, Watches: []api.GroupWatch{}}
	if n.mirrors != nil {
		mr, err := n.mirrors.SetPaused(path, paused)
		switch {
		case err == nil:
			out.Mirrors = append(out.Mirrors, n.apiMirror(mr))
		case !errors.Is(err, mirror.ErrNotFound):
			return api.FolderPause{}, err
		}
	}
	if n.watcher != nil {
		ws, err := n.watcher.SetPaused(path, paused)
		switch {
		case err == nil:
			for _, wt := range ws {
				out.Watches = append(out.Watches, n.apiWatch(wt))
			}
		case !errors.Is(err, watch.ErrNotFound):
			return out, err
		}
	}
	if len(out.Mirrors) == 0 && len(out.Watches) == 0 {
		return api.FolderPause{}, fmt.Errorf("%s neither follows a group's share nor is shared as it changes (`kith mirror ls` and `kith watch ls` list those that do): %w", path, blockstore.ErrNotFound)
	}
	return out, nil
}
