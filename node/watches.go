package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/recent"
	"github.com/kith-p2p/kith/node/watch"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// watchesFile, in the repo, lists the folders shared with --watch.
const watchesFile = "watches.json"

// maxKeep bounds the earlier versions a watch keeps shared.
const maxKeep = 100

// startWatches loads the watched folders and starts following them. Until
// it has run (a node that is not started), the watch calls say so.
func (n *Node) startWatches() error {
	g := n.cfg.Groups
	w, err := watch.Open(filepath.Join(n.repo.dir, watchesFile), watchSharer{n}, watch.Options{
		Interval: time.Duration(g.WatchInterval),
		Settle:   time.Duration(g.WatchSettle),
		Log:      n.log.With("component", "watch"),
		Repo:     n.repo.dir,
		Notify:   g.WatchNotify,
		Changed:  n.groupWatch.notify, // a page shows a watch's version and error
	})
	if err != nil {
		return err
	}
	n.watcher = w
	n.background(w.Run)
	return nil
}

// watchSharer shares a watched folder again for the watcher.
type watchSharer struct{ n *Node }

// Reshare adds the folder and shares the new version; the version shared
// before joins the earlier ones the watch keeps, and those beyond w.Keep
// stop being shared (withdrawVersion).
func (s watchSharer) Reshare(ctx context.Context, w watch.Watch) (watch.Shared, error) {
	if w.Sync {
		return s.reshareSync(ctx, w)
	}
	n := s.n
	// The files that did not change since the earlier version was read
	// are linked from it, not read again: a small change to a large
	// folder costs the change.
	reuse := reuseOf(w)
	// The folder is the copy of its newest version: the repo keeps where
	// its bytes are, not the bytes (unless earlier versions are kept,
	// whose files are gone once changed).
	opts := api.AddOptions{Recursive: true, Exclude: w.Exclude, Private: true, NoCopy: w.Keep == 0}
	var unread unreadFiles
	res, err := n.addPaths(ctx, []string{w.Path}, opts, nil, false, append(reuse, unread.option())...)
	if err != nil {
		return watch.Shared{}, err
	}
	c, err := cid.Decode(res.Cid)
	if err != nil {
		return watch.Shared{}, fmt.Errorf("add %s: %w", w.Path, err)
	}
	unread.forgetAdd(n, w.Path)
	if _, err := n.GroupShare(ctx, w.GroupID, c, api.ShareOptions{Copies: w.Copies, Path: w.Path}); err != nil {
		return watch.Shared{}, err
	}
	changes := n.changesSince(ctx, w.Cid, c, w.Path) // before the version before may be unpinned
	earlier, err := n.retireEarlier(ctx, w, res.Cid)
	return watch.Shared{Cid: res.Cid, Earlier: earlier, Changes: changes, Unread: unread.sentences(), UnreadCount: unread.count}, err
}

// changesSince is what changed in the folder at path from the version
// from to the version to (dag.Diff), as its recent changes name it (a
// watched file by its name); none when from is not known here.
func (n *Node) changesSince(ctx context.Context, from string, to cid.Cid, path string) []recent.Change {
	old, err := cid.Decode(from)
	if err != nil {
		return nil
	}
	diffs, err := dag.Diff(ctx, n.store, old, to, recent.Max)
	if err != nil {
		n.log.Debug("what changed in a shared folder", "path", path, "from", from, "to", to, "err", err)
		return nil
	}
	out := make([]recent.Change, 0, len(diffs))
	for _, d := range diffs {
		p := d.Path
		if p == "" {
			p = filepath.Base(path)
		}
		out = append(out, recent.Change{Path: p, What: d.What})
	}
	return out
}

// reuseOf links, in an add of w's folder, the files unchanged since the
// version shared before was read from it (dag.Reuse).
func reuseOf(w watch.Watch) []dag.ImportOption {
	prev, err := cid.Decode(w.Cid)
	if err != nil || w.AddedAt.IsZero() {
		return nil
	}
	return []dag.ImportOption{dag.WithReuse(dag.Reuse{Prev: prev, Since: w.AddedAt})}
}

// retireEarlier has the version w shared before c join the earlier ones
// w keeps, and stops sharing those beyond w.Keep (withdrawVersion); it
// returns the earlier versions still shared.
func (n *Node) retireEarlier(ctx context.Context, w watch.Watch, c string) ([]string, error) {
	earlier := slices.DeleteFunc(slices.Clone(w.Earlier), func(e string) bool { return e == c })
	if w.Cid == "" || w.Cid == c {
		return earlier, nil
	}
	earlier = append(earlier, w.Cid)
	for len(earlier) > max(w.Keep, 0) {
		if err := n.withdrawVersion(ctx, w, earlier[0]); err != nil {
			return earlier, fmt.Errorf("shared %s again as %s, but could not stop sharing the earlier %s: %w", w.Path, c, earlier[0], err)
		}
		earlier = earlier[1:]
	}
	return earlier, nil
}

// withdrawVersion stops sharing an earlier version v of w's folder in its
// group, and drops the pin it was added with, unless another watch still
// shares or keeps it.
func (n *Node) withdrawVersion(ctx context.Context, w watch.Watch, v string) error {
	old, err := cid.Decode(v)
	if err != nil {
		return nil // nothing to withdraw: the watch file was edited by hand
	}
	if _, err := n.unshare(ctx, w.GroupID, old); err != nil && !errors.Is(err, blockstore.ErrNotFound) {
		return err
	}
	for _, other := range n.watcher.List() {
		if other.GroupID == w.GroupID && other.Path == w.Path {
			continue
		}
		if other.Cid == v || slices.Contains(other.Earlier, v) {
			return nil // another watch still shares it
		}
	}
	if err := n.PinRm(ctx, old); err != nil && !errors.Is(err, blockstore.ErrNotFound) {
		n.log.Warn("unpin the earlier version of a watched folder", "path", w.Path, "cid", v, "err", err)
	}
	return nil
}

// watcherReady is the watcher, or an error saying the node is not running.
func (n *Node) watcherReady() (*watch.Watcher, error) {
	if n.watcher == nil {
		return nil, fmt.Errorf("watched folders are not followed on this daemon (see its log): %w", api.ErrUnavailable)
	}
	return n.watcher, nil
}

// GroupWatch has the share of opts.Cid in groupName follow the folder at
// path.
func (n *Node) GroupWatch(ctx context.Context, groupName, path string, opts api.WatchOptions) (api.GroupWatch, error) {
	w, err := n.watcherReady()
	if err != nil {
		return api.GroupWatch{}, err
	}
	g, err := n.findGroup(groupName)
	if err != nil {
		return api.GroupWatch{}, err
	}
	if !filepath.IsAbs(path) {
		return api.GroupWatch{}, fmt.Errorf("watch path %q must be absolute: %w", path, api.ErrInvalid)
	}
	if opts.Copies < group.MinCopies || opts.Copies > group.MaxCopies {
		return api.GroupWatch{}, fmt.Errorf("copies must be between %d and %d: %w", group.MinCopies, group.MaxCopies, api.ErrInvalid)
	}
	if _, err := cid.Decode(opts.Cid); err != nil {
		return api.GroupWatch{}, fmt.Errorf("watch %s: %q is not the CID shared: %w", path, opts.Cid, api.ErrInvalid)
	}
	if opts.Keep < 0 || opts.Keep > maxKeep {
		return api.GroupWatch{}, fmt.Errorf("keep must be between 0 and %d earlier versions: %w", maxKeep, api.ErrInvalid)
	}
	if err := n.mirroredHere(path); err != nil {
		return api.GroupWatch{}, err
	}
	wt, moved, err := w.Add(watch.Watch{Path: path, GroupID: g.id.String(), Group: g.name, Copies: opts.Copies, Exclude: opts.Exclude, Cid: opts.Cid, Keep: opts.Keep}, opts.Since)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return api.GroupWatch{}, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf(
			"the daemon finds no %s, so it cannot follow it: it follows only folders it reads itself (the same user, on this computer)", path)}
	case errors.Is(err, fs.ErrPermission):
		return api.GroupWatch{}, &api.Error{Kind: api.KindPermission, Message: fmt.Sprintf(
			"the daemon may not read %s, so it cannot follow it: it follows only folders it reads itself", path)}
	case errors.Is(err, dag.ErrBadPattern):
		return api.GroupWatch{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	case err != nil:
		return api.GroupWatch{}, err
	}
	n.shareAgainIfLeftOut(w, path, opts.Cid)
	out := n.apiWatch(wt)
	for _, m := range moved {
		out.Moved = append(out.Moved, m.Path)
	}
	return out, nil
}

// shareAgainIfLeftOut has the new watch of the folder at path, which
// shares c, add and share it again at once when the add that made c left
// out files it could not read (AddOptions.SkipUnreadable): that share
// names them (kith watch ls), and they are tried again until they can be
// read, as those of any later version.
func (n *Node) shareAgainIfLeftOut(w *watch.Watcher, path, c string) {
	if left := n.adds.leftOut(filepath.Clean(path), c); left > 0 {
		n.log.Info("watch: the folder's first share left out files it could not read; looking again", "path", path, "files", left)
		w.ShareAgain(path)
	}
}

// GroupWatches lists the watched folders.
func (n *Node) GroupWatches(ctx context.Context) ([]api.GroupWatch, error) {
	w, err := n.watcherReady()
	if err != nil {
		return nil, err
	}
	out := []api.GroupWatch{}
	for _, wt := range w.List() {
		out = append(out, n.apiWatch(wt))
	}
	return out, nil
}

// GroupUnwatch stops following path in groupName ("": every group).
func (n *Node) GroupUnwatch(ctx context.Context, groupName, path string) ([]api.GroupWatch, error) {
	w, err := n.watcherReady()
	if err != nil {
		return nil, err
	}
	id := ""
	if groupName != "" {
		g, err := n.findGroup(groupName)
		if err != nil {
			return nil, err
		}
		id = g.id.String()
	}
	gone, err := w.Remove(path, id)
	if errors.Is(err, watch.ErrNotFound) {
		where := ""
		if groupName != "" {
			where = " in group " + groupName
		}
		return nil, fmt.Errorf("%s is not watched%s (`kith watch ls` lists what is): %w", path, where, blockstore.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	out := []api.GroupWatch{}
	for _, wt := range gone {
		if wt.Sync {
			n.endSync(wt.Path)
		}
		n.copyIntoRepo(wt.Cid) // shared still, the folder no longer its copy
		out = append(out, n.apiWatch(wt))
	}
	return out, nil
}

// apiWatch is a watch as the API shows it, named after its group's
// current name.
func (n *Node) apiWatch(wt watch.Watch) api.GroupWatch {
	name := wt.Group
	earlier, keep := wt.Earlier, wt.Keep
	if g, err := n.findGroup(wt.GroupID); err == nil {
		name = g.name
		if wt.Sync && wt.Name != "" {
			earlier = keptEarlier(g, wt.Name)
		}
	}
	if wt.Sync && n.mirrors != nil {
		// As many as a version written in asked for, if more.
		for _, m := range n.mirrors.List() {
			if m.Path == wt.Path {
				keep = max(keep, m.Keep)
			}
		}
	}
	return api.GroupWatch{Path: wt.Path, Group: name, Copies: wt.Copies, Exclude: wt.Exclude, Cid: wt.Cid,
		Updated: wt.Updated, Checked: wt.Checked, Error: wt.Error, Keep: keep, Earlier: earlier, Sync: wt.Sync, Paused: wt.Paused,
		Recent: n.apiChanges(wt.GroupID, nil, wt.Recent)}
}

// keptEarlier is, for a folder that syncs both ways as name, the versions
// before the newest the group still shares, whichever device made them,
// oldest first.
func keptEarlier(g *localGroup, name string) []string {
	newest, ok := newestShare(g, name)
	if !ok {
		return nil
	}
	var out []string
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		for _, in := range sameName(s.Intents(), name, newest.Root) {
			out = append(out, in.Root.String())
		}
	})
	return out
}
