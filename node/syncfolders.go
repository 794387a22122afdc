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
	"github.com/kith-p2p/kith/node/mirror"
	"github.com/kith-p2p/kith/node/recent"
	"github.com/kith-p2p/kith/node/watch"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// A folder that syncs both ways (`kith share DIR --sync`, `kith get NAME
// --sync`, as Syncthing's send-receive folders) is a watch and a mirror of
// one path: the watch shares what changes here as the newest version of
// the name, made from the version the folder holds (its meta says which:
// the base), and the mirror writes each newer version another device
// shares in, judging each path against the base it was made from
// (mirror.Version.Sync). While the mirror writes, the watch does not add
// the folder, and a folder with a newer version to write in is shared
// after it (mirror.Exclusive).

// GroupSync has the folder path (absolute), which holds the version c of
// what the group shares as name (just shared from it, or written there by
// a get that started at since), sync both ways: its changes are shared
// with copies (0: as the version is shared), the group's newer versions
// written in, and keep versions before the newest kept shared (at least:
// as many as the version's meta says). A folder that followed the name,
// or was watched in the group, syncs instead.
func (n *Node) GroupSync(ctx context.Context, groupName, name, path, c string, copies, keep int, since time.Time) (api.GroupMirror, error) {
	m, err := n.mirrorsReady()
	if err != nil {
		return api.GroupMirror{}, err
	}
	w, err := n.watcherReady()
	if err != nil {
		return api.GroupMirror{}, err
	}
	g, err := n.findGroup(groupName)
	if err != nil {
		return api.GroupMirror{}, err
	}
	if !filepath.IsAbs(path) {
		return api.GroupMirror{}, fmt.Errorf("sync path %q must be absolute: %w", path, api.ErrInvalid)
	}
	path = filepath.Clean(path)
	root, err := cid.Decode(c)
	if err != nil {
		return api.GroupMirror{}, fmt.Errorf("sync %s: %q is not the CID the folder holds: %w", path, c, api.ErrInvalid)
	}
	in, ok := g.intent(root)
	if !ok || in.Name != name {
		return api.GroupMirror{}, fmt.Errorf("%s does not share %s as %s ('kith status' lists what it shares): %w", g.name, c, name, blockstore.ErrNotFound)
	}
	if copies == 0 {
		copies = in.Copies
	}
	if keep < 0 || keep > mirror.MaxKeep {
		return api.GroupMirror{}, fmt.Errorf("keep must be between 0 and %d earlier versions: %w", mirror.MaxKeep, api.ErrInvalid)
	}
	if api.Overlap(path, n.repo.dir) {
		return api.GroupMirror{}, fmt.Errorf("%s and kith's own repo (%s) are one inside the other: %w", path, n.repo.dir, api.ErrInvalid)
	}
	// What else follows or shares this folder, or one in it or around
	// it, must stop first; the same folder of the same group becomes this.
	for _, o := range m.List() {
		if api.Overlap(path, o.Path) && (o.Path != path || o.GroupID != g.id.String() || o.Name != name) {
			return api.GroupMirror{}, fmt.Errorf("%s follows %s's %s ('kith mirror rm %s' first): %w", o.Path, n.apiMirror(o).Group, o.Name, o.Path, api.ErrInvalid)
		}
	}
	for _, o := range w.List() {
		if api.Overlap(path, o.Path) && (o.Path != path || o.GroupID != g.id.String()) {
			return api.GroupMirror{}, fmt.Errorf("%s is shared with --watch in %s ('kith watch rm %s' first): %w", o.Path, n.apiWatch(o).Group, o.Path, api.ErrInvalid)
		}
	}
	release := n.gcl.Hold(root)
	defer release()
	if st, err := dag.StatRoot(ctx, n.store, root); err != nil {
		return api.GroupMirror{}, fmt.Errorf("sync %s: %w", path, err)
	} else if st.Type != dag.TypeDir {
		return api.GroupMirror{}, fmt.Errorf("%s's %s is a file, not a folder: only a folder syncs: %w", g.name, name, api.ErrInvalid)
	}
	if first, second, ok, err := mirror.CaseClash(ctx, n.store, root, path); err != nil {
		return api.GroupMirror{}, fmt.Errorf("sync %s: %w", path, err)
	} else if ok {
		return api.GroupMirror{}, fmt.Errorf("%s cannot sync %s's %s: it holds %s and %s, and this file system does not tell names apart by case (a folder that syncs must hold every entry, or its next version would remove one on every device): rename one of them where it was shared: %w",
			path, g.name, name, first, second, api.ErrInvalid)
	}
	meta := ""
	var vers mirror.Versions
	if in.Meta.Defined() {
		meta = in.Meta.String() // the folder has them: shared from it, or a get gave them
		// What c was made from: what the versions shared next are
		// judged against. (Its meta is here: the get, or the share, read it.)
		defer n.gcl.Hold(in.Meta)()
		unlock := n.gcl.PinLock()
		_, err := n.ensureLocal(ctx, in.Meta, nil)
		unlock()
		if err != nil {
			return api.GroupMirror{}, fmt.Errorf("sync %s: the file of modes and times of %s: %w", path, c, err)
		}
		if _, vers, err = mirror.LoadMeta(ctx, n.store, in.Meta); err != nil {
			return api.GroupMirror{}, fmt.Errorf("sync %s: %w", path, err)
		}
	}
	keep = max(keep, vers.Keep) // as many as any device asked for
	mr, err := m.Add(ctx, mirror.Mirror{Path: path, GroupID: g.id.String(), Group: g.name, Name: name, Cid: c, Meta: meta, Sync: true, Updated: since, Own: in.Who == n.host.ID(), Ancestors: vers.Ancestors, Keep: keep}, n.store)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return api.GroupMirror{}, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf(
			"the daemon finds no %s, so it cannot sync it: it syncs only folders it reads and writes itself (the same user, on this computer)", path)}
	case err != nil:
		return api.GroupMirror{}, err
	}
	if _, _, err := w.Add(watch.Watch{Path: path, GroupID: g.id.String(), Group: g.name, Copies: copies, Cid: c, Sync: true, Name: name, Keep: keep}, since); err != nil {
		if _, rerr := m.Remove(path); rerr != nil {
			n.log.Warn("sync: could not undo the mirror of a folder whose watch failed", "path", path, "err", rerr)
		}
		return api.GroupMirror{}, fmt.Errorf("sync %s: %w", path, err)
	}
	n.shareAgainIfLeftOut(w, path, c)
	n.log.Info("sync: the folder syncs both ways", "path", path, "group", g.name, "name", name, "cid", c, "keep", keep)
	if keep == 0 {
		n.referFolder(path, root) // the folder is the copy of what it holds of it
	}
	return n.apiMirror(mr), nil
}

// reshareSync is Reshare for a folder that syncs both ways: shared, made
// from the version the mirror says it holds, once no newer version is to
// be written in first; the version it was made from is withdrawn (the
// new one holds all it had, and what changed here); the mirror then knows
// the folder holds the new one.
func (s watchSharer) reshareSync(ctx context.Context, w watch.Watch) (watch.Shared, error) {
	n := s.n
	m, err := n.mirrorsReady()
	if err != nil {
		return watch.Shared{}, err
	}
	defer m.Exclusive(w.Path)()
	list := m.List()
	i := slices.IndexFunc(list, func(mr mirror.Mirror) bool { return mr.Path == w.Path && mr.Sync })
	if i < 0 {
		return watch.Shared{}, fmt.Errorf("%s no longer follows the group's versions: 'kith watch rm %s', then sync it again", w.Path, w.Path)
	}
	mr := list[i]
	if v, ok, err := (mirrorSource{n}).Newest(mr.GroupID, mr.Name); err != nil {
		return watch.Shared{}, err
	} else if ok && v.Root.String() != mr.Cid && v.Root.String() != mr.Failed {
		// Written in first; the watch looks again after. (A newer version
		// that could not be written, its holders away, does not hold back
		// what changed here: shared from what the folder holds, the two
		// are merged by whichever device gets both.)
		m.Kick()
		return watch.Shared{}, watch.ErrNotNow
	}
	// Versions before the newest kept shared need their bytes in the
	// repo: the folder holds only the newest.
	keep := max(w.Keep, mr.Keep)
	since := time.Now()
	var unread unreadFiles
	res, err := n.addPaths(ctx, []string{w.Path}, api.AddOptions{Recursive: true, Private: true, Name: mr.Name, NoCopy: keep == 0}, nil, false, append(reuseOf(w), unread.option())...)
	if err != nil {
		return watch.Shared{}, err
	}
	c, err := cid.Decode(res.Cid)
	if err != nil {
		return watch.Shared{}, fmt.Errorf("add %s: %w", w.Path, err)
	}
	unread.forgetAdd(n, w.Path)
	meta := cid.Undef
	var seen mirror.Meta // the modes and times the folder had when read
	var changes []recent.Change
	// (Not itself: the folder may be back as it was at an earlier version.)
	ancestors := slices.DeleteFunc(mirror.Lineage([]string{mr.Cid}, mr.Ancestors), func(a string) bool { return a == res.Cid })
	if res.Cid != mr.Cid {
		in, err := n.groupShare(ctx, mr.GroupID, c, api.ShareOptions{Copies: w.Copies, Path: w.Path}, mirror.Versions{Ancestors: ancestors, Keep: keep})
		if err != nil {
			return watch.Shared{}, err
		}
		meta, _ = cid.Decode(in.Meta)
		seen = n.metaRead(ctx, meta)
		// What changed here: the folder held mr.Cid (the newest version
		// written in, or the one it shared last).
		changes = n.changesSince(ctx, mr.Cid, c, w.Path)
		n.withdrawMerged(ctx, mr, c, ancestors, keep)
		n.log.Info("sync: shared what changed in the folder", "path", w.Path, "cid", c, "from", mr.Cid)
	} else if changed, seen0, err := m.ModesChangedHere(ctx, w.Path, c, n.store); err == nil && changed {
		// The same bytes, other modes or times (chmod +x, touch, a
		// folder's chmod): the same version, shared with the folder's
		// modes and times now.
		in, err := n.groupShare(ctx, mr.GroupID, c, api.ShareOptions{Copies: w.Copies, Path: w.Path}, mirror.Versions{Ancestors: ancestors, Keep: keep})
		if err != nil {
			return watch.Shared{}, err
		}
		meta, _ = cid.Decode(in.Meta)
		seen = n.metaRead(ctx, meta)
		n.log.Info("sync: shared the new modes and times in the folder", "path", w.Path, "cid", c, "meta", meta)
	} else {
		meta, _ = cid.Decode(mr.Meta) // the folder holds that version as it is
		seen = seen0
	}
	if err := m.Synced(ctx, w.Path, mirror.Shared{Root: c, Meta: meta, Unread: unread.paths, Seen: seen}, n.store, since, res.Cid != mr.Cid, ancestors); err != nil {
		return watch.Shared{}, err
	}
	// What another device withdrew is heard here when its version is
	// written in, which shares the folder again (nothing new to share).
	w = n.dropWithdrawn(ctx, w)
	w.Keep = keep // this device's own earlier versions: as many kept
	earlier, err := n.retireEarlier(ctx, w, res.Cid)
	return watch.Shared{Cid: res.Cid, Earlier: earlier, Changes: changes, Unread: unread.sentences(), UnreadCount: unread.count}, err
}

// metaRead is the entries of the meta file c a share just stored (read
// from the folder); none when there is no meta or it cannot be read (the
// manifest then records what the disk holds).
func (n *Node) metaRead(ctx context.Context, c cid.Cid) mirror.Meta {
	if !c.Defined() {
		return nil
	}
	m, _, err := mirror.LoadMeta(ctx, n.store, c)
	if err != nil {
		n.log.Warn("sync: could not read back the modes and times just shared", "cid", c, "err", err)
		return nil
	}
	return m
}

// intent is g's live share of root.
func (g *localGroup) intent(root cid.Cid) (in group.Intent, ok bool) {
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		in, ok = s.Intent(root)
		ok = ok && !in.Withdrawn
	})
	return in, ok
}

// endSync stops writing the group's versions into path, whose watch (it
// synced both ways) ended.
func (n *Node) endSync(path string) {
	if n.mirrors == nil {
		return
	}
	if _, err := n.mirrors.Remove(path); err != nil && !errors.Is(err, mirror.ErrNotFound) {
		n.log.Warn("sync: could not stop writing the group's versions into the folder", "path", path, "err", err)
	}
}

// withdrawMerged withdraws the group's shares of mr's name that the new
// version c was made from (its ancestors): it holds all they had. The
// keep newest of them stay shared (kith share --sync --keep N): a file
// deleted or overwritten by mistake, on any device, can be got back.
func (n *Node) withdrawMerged(ctx context.Context, mr mirror.Mirror, c cid.Cid, ancestors []string, keep int) {
	g, err := n.findGroup(mr.GroupID)
	if err != nil {
		return
	}
	merged := map[string]bool{}
	for _, a := range ancestors {
		merged[a] = true
	}
	var made []group.Intent
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		for _, in := range s.Intents() {
			if in.Name == mr.Name && !in.Root.Equals(c) && merged[in.Root.String()] {
				made = append(made, in)
			}
		}
	})
	slices.SortFunc(made, func(a, b group.Intent) int { return b.Created.Compare(a.Created) }) // newest first
	for _, in := range made[min(keep, len(made)):] {
		old := in.Root
		if _, err := n.unshare(ctx, mr.GroupID, old); err != nil && !errors.Is(err, blockstore.ErrNotFound) {
			n.log.Warn("sync: could not withdraw a version the new one was made from", "path", mr.Path, "cid", old, "err", err)
		}
	}
}

// dropWithdrawn is w without the versions it shared (w.Cid, w.Earlier)
// that its group no longer shares (this device's next version, or
// another's, was made from them): their pins go, as retireEarlier's do.
func (n *Node) dropWithdrawn(ctx context.Context, w watch.Watch) watch.Watch {
	g, err := n.findGroup(w.GroupID)
	if err != nil {
		return w
	}
	live := map[string]bool{}
	g.net.Read(func(s *group.State, _ *group.Liveness) {
		for _, in := range s.Intents() {
			live[in.Root.String()] = true
		}
	})
	gone := func(v string) bool {
		if v == "" || live[v] {
			return false
		}
		if err := n.withdrawVersion(ctx, w, v); err != nil {
			n.log.Warn("sync: could not drop the pin of a version no longer shared", "path", w.Path, "cid", v, "err", err)
		}
		return true
	}
	w.Earlier = slices.DeleteFunc(slices.Clone(w.Earlier), gone)
	if gone(w.Cid) {
		w.Cid = ""
	}
	return w
}
