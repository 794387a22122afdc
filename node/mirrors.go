package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/node/recent"
	"github.com/kith-p2p/kith/node/watch"
	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// mirrorsDir, in the repo, holds the folders that follow what a group
// shares (kith get --follow) and what was written into each.
const mirrorsDir = "mirrors"

// startMirrors loads the mirrored folders and keeps them up to date: at
// every change of the groups (a new version shared), and every
// groups.watch_interval.
func (n *Node) startMirrors() error {
	m, err := mirror.Open(filepath.Join(n.repo.dir, mirrorsDir), mirrorSource{n}, mirror.Options{
		Interval: time.Duration(n.cfg.Groups.WatchInterval),
		Log:      n.log.With("component", "mirror"),
		Changed:  n.groupWatch.notify, // a page may show a mirror's state
		Wrote: func(path string) {
			if n.watcher != nil {
				n.watcher.ShareAgain(path) // a folder that syncs: its watch shares the merge
			}
		},
		Written: n.keepInFiles,
	})
	if err != nil {
		return err
	}
	n.mirrors = m
	stop := n.groupWatch.watch(m.Kick)
	n.background(func(ctx context.Context) {
		defer stop()
		m.Run(ctx)
	})
	return nil
}

// mirrorSource is the node as the mirrors see it.
type mirrorSource struct{ n *Node }

// Newest is the newest version the group groupID shares as name.
func (s mirrorSource) Newest(groupID, name string) (mirror.Shared, bool, error) {
	gs, err := s.n.groupSet()
	if err != nil {
		return mirror.Shared{}, false, err
	}
	g, err := gs.find(groupID)
	if err != nil {
		return mirror.Shared{}, false, err // not a group of ours any more: it says why
	}
	in, ok := newestShare(g, name)
	return mirror.Shared{Root: in.Root, Meta: in.Meta, By: in.Who.String()}, ok, nil
}

// newestShare is the newest share of g called name.
func newestShare(g *localGroup, name string) (in group.Intent, found bool) {
	g.net.Read(func(s *group.State, _ *group.Liveness) { in, found = newestNamed(s.Intents(), name) })
	return in, found
}

// newestNamed is the newest of the live intents called name.
func newestNamed(intents []group.Intent, name string) (group.Intent, bool) {
	var best group.Intent
	found := false
	for _, in := range intents {
		if in.Name == name && (!found || in.Created.Compare(best.Created) > 0) {
			best, found = in, true
		}
	}
	return best, found
}

// Hold keeps the version c from gc until release. What was fetched of it
// meanwhile is then the downloads' cache (cacheGot), as a finished get's
// is: the folder holds the files, and the next version fetches only what
// changed.
func (s mirrorSource) Hold(c cid.Cid) (blockstore.Blockstore, func()) {
	release := s.n.gcl.Hold(c)
	return s.n.store, sync.OnceFunc(func() {
		release()
		if b := s.n.mirrorFetched.take(c); b > 0 && s.n.ctx.Err() == nil {
			s.n.background(func(ctx context.Context) { s.n.cacheGot(ctx, c, b) })
		}
	})
}

// Fetch makes present the folders of c, each file's first block and the
// files named whole: a followed folder fetches only what it writes, also
// after a gc took the blocks of what it wrote before.
func (s mirrorSource) Fetch(ctx context.Context, c cid.Cid, files func(cid.Cid) bool, progress func(int64)) (int64, error) {
	var opts []fetch.FetchOption
	if files != nil {
		opts = append(opts, fetch.OnlyFiles(files))
	}
	var report func(api.Progress)
	if progress != nil {
		report = func(p api.Progress) { progress(p.Bytes - p.Have) }
	}
	st, err := s.n.ensureLocal(ctx, c, report, opts...)
	if err != nil {
		return st.Bytes, fmt.Errorf("fetch %s: %w", c, err)
	}
	s.n.mirrorFetched.add(c, st.Bytes)
	return st.Bytes, nil
}

// fetchedBytes counts, by version, what mirrors fetched while they held it.
type fetchedBytes struct {
	mu sync.Mutex
	m  map[cid.Cid]int64
}

func (f *fetchedBytes) add(c cid.Cid, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[cid.Cid]int64{}
	}
	f.m[c] += n
}

func (f *fetchedBytes) take(c cid.Cid) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.m[c]
	delete(f.m, c)
	return n
}

// mirrorsReady is the mirrors, or an error saying the node is not running.
func (n *Node) mirrorsReady() (*mirror.Mirrors, error) {
	if n.mirrors == nil {
		return nil, fmt.Errorf("mirrored folders are not followed on this daemon (see its log): %w", api.ErrUnavailable)
	}
	return n.mirrors, nil
}

// GroupMirror has the folder path, holding the version c of what
// groupName shares as name, follow that name; with c "", the folder as
// it is (made if missing) is brought to the newest version in the
// background, what is there and differs kept. exclude names what the
// folder leaves out; a folder that follows the name already takes it in
// place of its own, unless it is nil (an empty pattern counts as none:
// what the API's exclude= asks to leave out nothing).
func (n *Node) GroupMirror(ctx context.Context, groupName, name, path, c string, exclude []string) (api.GroupMirror, error) {
	m, err := n.mirrorsReady()
	if err != nil {
		return api.GroupMirror{}, err
	}
	if exclude != nil {
		// Given, even empty (exclude=): it replaces a mirror's own.
		exclude = slices.DeleteFunc(slices.Clone(exclude), func(p string) bool { return strings.TrimSpace(p) == "" })
	}
	if _, err := dag.NewExclusion(exclude); err != nil {
		return api.GroupMirror{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	g, err := n.findGroup(groupName)
	if err != nil {
		return api.GroupMirror{}, err
	}
	if !filepath.IsAbs(path) {
		return api.GroupMirror{}, fmt.Errorf("mirror path %q must be absolute: %w", path, api.ErrInvalid)
	}
	var root cid.Cid
	if c != "" {
		if root, err = cid.Decode(c); err != nil {
			return api.GroupMirror{}, fmt.Errorf("mirror %s: %q is not the CID written there: %w", path, c, api.ErrInvalid)
		}
	}
	newest, ok := newestShare(g, name)
	if !ok {
		return api.GroupMirror{}, fmt.Errorf("%s shares nothing called %s ('kith status' lists what your groups share): %w", g.name, name, blockstore.ErrNotFound)
	}
	if api.Overlap(path, n.repo.dir) {
		return api.GroupMirror{}, fmt.Errorf("%s and kith's own repo (%s) are one inside the other: a folder that follows a share is written and removed from, the repo never: %w", path, n.repo.dir, api.ErrInvalid)
	}
	if err := n.watchedHere(path); err != nil {
		return api.GroupMirror{}, err
	}
	// Only a folder is followed: known from the version written, or, for
	// a folder as it is, from the newest version's root block when it is
	// here (else the first update says so).
	look := root
	if !look.Defined() {
		look = newest.Root
	}
	release := n.gcl.Hold(look)
	defer release()
	st, err := dag.StatRoot(ctx, n.store, look)
	switch {
	case err != nil && root.Defined():
		return api.GroupMirror{}, fmt.Errorf("mirror %s: %w", path, err)
	case err == nil && st.Type != dag.TypeDir:
		return api.GroupMirror{}, fmt.Errorf("%s's %s is a file, not a folder: only a folder is followed (get it again when it changes): %w", g.name, name, api.ErrInvalid)
	}
	mr, err := m.Add(ctx, mirror.Mirror{Path: path, GroupID: g.id.String(), Group: g.name, Name: name, Cid: c, Exclude: exclude}, n.store)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return api.GroupMirror{}, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf(
			"the daemon finds no %s, so it cannot write into it: it follows only folders it writes itself (the same user, on this computer)", path)}
	case errors.Is(err, mirror.ErrOverlap):
		return api.GroupMirror{}, fmt.Errorf("%w: a folder is followed into once", err)
	case err != nil:
		return api.GroupMirror{}, err
	}
	if root.Defined() {
		n.referFolder(path, root) // the folder is the copy of what it holds of it
	}
	return n.apiMirror(mr), nil
}

// watchedHere refuses a mirror of a folder a watch shares, inside one or
// holding one: each version written in would be shared again.
func (n *Node) watchedHere(path string) error {
	if n.watcher == nil {
		return nil
	}
	for _, w := range n.watcher.List() {
		if api.Overlap(path, w.Path) {
			return fmt.Errorf("%s is shared with --watch (%s): a folder this device shares as it changes cannot also follow a group's version ('kith watch rm %s' first): %w", path, w.Path, w.Path, api.ErrInvalid)
		}
	}
	return nil
}

// mirroredHere refuses a watch of a folder a mirror writes, inside one or
// holding one: each version written in would be shared again.
func (n *Node) mirroredHere(path string) error {
	if n.mirrors == nil {
		return nil
	}
	for _, m := range n.mirrors.List() {
		if api.Overlap(path, m.Path) {
			return fmt.Errorf("%s follows %s's %s (kith get --follow): a folder that follows a group's version cannot also be shared as it changes ('kith mirror rm %s' first): %w", m.Path, n.apiMirror(m).Group, m.Name, m.Path, api.ErrInvalid)
		}
	}
	return nil
}

// GroupMirrors lists the mirrored folders.
func (n *Node) GroupMirrors(ctx context.Context) ([]api.GroupMirror, error) {
	m, err := n.mirrorsReady()
	if err != nil {
		return nil, err
	}
	out := []api.GroupMirror{}
	for _, mr := range m.List() {
		out = append(out, n.apiMirror(mr))
	}
	return out, nil
}

// GroupUnmirror stops following into path.
func (n *Node) GroupUnmirror(ctx context.Context, path string) (api.GroupMirror, error) {
	m, err := n.mirrorsReady()
	if err != nil {
		return api.GroupMirror{}, err
	}
	mr, err := m.Remove(path)
	if err == nil {
		n.copyIntoRepo(mr.Cid) // what keeps it (the group, this device) no longer reads the folder
	}
	if err == nil && mr.Sync && n.watcher != nil {
		// Its changes are no longer shared either.
		if _, err := n.watcher.Remove(mr.Path, mr.GroupID); err != nil && !errors.Is(err, watch.ErrNotFound) {
			return n.apiMirror(mr), fmt.Errorf("stopped writing the group's versions into %s, but its changes are still shared: %w", mr.Path, err)
		}
	}
	return n.mirrorAnswer(path, mr, err)
}

// GroupMirrorRevert has the group's version written again over what was
// changed in the followed folder path.
func (n *Node) GroupMirrorRevert(ctx context.Context, path string) (api.GroupMirror, error) {
	m, err := n.mirrorsReady()
	if err != nil {
		return api.GroupMirror{}, err
	}
	mr, err := m.Revert(path)
	return n.mirrorAnswer(path, mr, err)
}

// mirrorAnswer is the API's answer for what was done to the mirror of
// path (mr, err): a mirror that does not exist is a sentence.
func (n *Node) mirrorAnswer(path string, mr mirror.Mirror, err error) (api.GroupMirror, error) {
	if errors.Is(err, mirror.ErrNotFound) {
		return api.GroupMirror{}, fmt.Errorf("%s follows no group's share (`kith mirror ls` lists those that do): %w", path, blockstore.ErrNotFound)
	}
	if err != nil {
		return api.GroupMirror{}, err
	}
	return n.apiMirror(mr), nil
}

// forgetMirrors ends the mirrors of a group this device is no longer in
// (their folders stay as they are).
func (n *Node) forgetMirrors(groupID string) {
	if n.mirrors == nil {
		return
	}
	gone, err := n.mirrors.ForgetGroup(groupID)
	if err != nil {
		n.log.Warn("forget the mirrors of a group left", "group", groupID, "err", err)
	}
	for _, mr := range gone {
		n.log.Info("left the group: no longer following its share into a folder", "path", mr.Path, "name", mr.Name)
	}
}

// apiMirror is a mirror as the API shows it, named after its group's
// current name.
func (n *Node) apiMirror(mr mirror.Mirror) api.GroupMirror {
	name := mr.Group
	if g, err := n.findGroup(mr.GroupID); err == nil {
		name = g.name
	}
	out := api.GroupMirror{Path: mr.Path, Group: name, Name: mr.Name, Cid: mr.Cid, Updated: mr.Updated, Checked: mr.Checked,
		Pending: mr.Pending, Error: mr.Error, Kept: mr.Kept, KeptCount: mr.KeptCount, Revert: mr.Revert, Exclude: mr.Exclude, Reapply: mr.Reapply,
		Sync: mr.Sync, Keep: mr.Keep, Paused: mr.Paused}
	for _, c := range mr.Conflicts {
		// Those the user deleted (the conflict settled) are not named.
		if _, err := os.Lstat(filepath.Join(mr.Path, filepath.FromSlash(c))); err == nil {
			out.Conflicts = append(out.Conflicts, c)
		}
	}
	if p := mr.Progress; p != nil {
		out.Phase, out.Done, out.Total = p.Phase, p.Done, p.Total
	}
	var shared []recent.Change // what a folder that syncs shared from here
	if mr.Sync && n.watcher != nil {
		for _, w := range n.watcher.List() {
			if w.Path == mr.Path && w.Sync {
				shared = w.Recent
			}
		}
	}
	out.Recent = n.apiChanges(mr.GroupID, mr.Recent, shared)
	return out
}
