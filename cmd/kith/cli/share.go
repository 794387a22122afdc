package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// shareCmd is `kith share PATH --group NAME --copies N`: add, then share.
func shareCmd(e *env) *cobra.Command {
	var (
		groupName string
		copies    int
		recursive bool
		replace   bool
		follow    bool
		sync      bool
		keep      int
		exclude   []string
	)
	cmd := &cobra.Command{
		Use:   "share PATH",
		Short: "Add a file or folder and keep N copies of it in a group",
		Long: `Add a file or a folder (a folder always whole, with everything in it,
hidden files included, except what --exclude and the folder's .kithignore
name, as kith add's, kith's own repo, and what systems and office apps
leave there: .DS_Store, Thumbs.db, lock files) and share it in a group: the
group keeps N copies of it among its members.
Modes and times go with it, a file's or each of a folder's (read by the
daemon, when it can): a device that gets the share (kith get NAME
--group G), or follows it, gives its copy the same. What share adds is
private (as kith add --private): it is not announced in the public DHT,
and members find it through the group.

Sharing a folder again after it changed shares the new version beside the
old one (each keeps its own CID); --replace has the group stop keeping the
earlier versions of the same name. Your own pins of them stay.

With --watch the share follows the folder: the daemon looks at it when
the system reports a change in it (Linux: seconds after the change) and
every minute (groups.watch_interval; a listing, nothing is read), and
when it changed and then stayed still for a moment, adds it (reading only
what changed) and shares the new version in place of the old one,
everywhere in the group (members release the old copies, this device
drops its pin of it); --keep N keeps the N versions before the current
one shared too, so that a file deleted or overwritten by mistake can be
got back ('kith watch ls' lists them; the folder holds only the newest,
so those are copied into the repo: what changed takes space). The daemon
must read the folder itself (the same user, on this computer). 'kith
watch ls' lists watched folders, 'kith watch rm PATH' stops following one.

With --sync the folder syncs both ways, as a Syncthing folder does: it is
shared as it changes (as with --watch), and each newer version another
device shares under its name (kith get NAME --group G -o DIR --sync on
that device) is written in: only what changed, deletions too (a file
moved is moved, not sent again; a change of only a mode or a time,
chmod +x, touch or a folder's chmod 700, goes to the others too). Where
this device and another changed the same file before hearing of each
other, the later change keeps the name and the other is written beside
it as NAME.sync-conflict-DATE-TIME-HASH.EXT, the same on every device:
nothing is lost. What should stay on each device alone (caches, build
output) goes in a .kithignore file at the top of the folder. With --keep
N the group keeps the N versions before the newest shared too, whichever
device made them, and every device that syncs the folder keeps as many
(the most any of them asked for): 'kith get NAME --group G' names them,
'kith get CID' brings one back. 'kith mirror ls' lists folders that
sync, 'kith mirror rm PATH' stops.`,
		Example: `  kith share ./photos --group family --copies 3
  kith share ./photos --group family --replace   # after photos changed
  kith share ~/Documents --group family --watch  # follow it as it changes
  kith share ~/Documents --group family --watch --keep 5  # and keep 5 before
  kith share ~/Notes --group family --sync  # changes go both ways
  kith share ~/Notes --group family --sync --keep 10  # and keep 10 before`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if groupName == "" {
				if groupName, err = onlyGroup(cmd.Context(), c, "--group NAME"); err != nil {
					return err
				}
			}
			if sync && follow {
				return errors.New("--sync shares the folder as it changes too: give --sync alone")
			}
			if sync && len(exclude) > 0 {
				return errSyncExclude
			}
			if st, err := os.Stat(args[0]); sync && err == nil && !st.IsDir() {
				return fmt.Errorf("%s is a file: --sync syncs a folder (--watch shares a file as it changes)", printable(args[0]))
			}
			if cmd.Flags().Changed("keep") && !follow && !sync {
				return errors.New("--keep is for a followed folder: add --watch or --sync (or share the folder again with --replace left out: the group keeps every version shared)")
			}
			if keep < 0 || keep > 100 {
				return fmt.Errorf("--keep %d: give a number of earlier versions between 0 and 100", keep)
			}
			if follow {
				if err := notMirrored(cmd.Context(), c, args[0]); err != nil {
					return err
				}
			}
			since := time.Now() // what changes after this is shared again (--watch)
			watching := follow || sync
			p := e.newProgress("adding", true)
			add := c.AddPath
			if watching {
				// The daemon looks at a watched folder again and again: one
				// it cannot read is refused now, before anything is shared.
				add = c.AddPathByDaemon
			}
			// What a group keeps is the group's: not announced in the
			// public DHT (members find each other through the group). A
			// folder followed is the copy of its newest version: the repo
			// keeps where its bytes are (unless earlier ones are kept).
			opts := api.AddOptions{Exclude: exclude, Private: true, NoCopy: watching && keep == 0}
			if watching {
				// A file the daemon cannot read is left out and tried
				// again by the watch, as Syncthing does, unless the
				// group already shares the name: its followers would
				// take the file as deleted.
				if opts.SkipUnreadable, err = newShareName(cmd.Context(), c, groupName, args[0]); err != nil {
					return err
				}
			}
			shareKeep := 0
			if sync {
				shareKeep = keep // in the version's meta: every device that syncs keeps as many
			}
			res, err := add(cmd.Context(), args[0], true, opts, p.event)
			p.done()
			var ae *api.Error
			if watching && errors.As(err, &ae) && (ae.Kind == api.KindNotFound || ae.Kind == api.KindPermission) && !api.IsUnreadableInside(ae.Message) {
				return fmt.Errorf("%w (with --watch or --sync the daemon reads the folder itself: one that runs as another user, or in a container, shares it only without them)", err)
			}
			if err != nil {
				return err
			}
			if !e.json {
				e.printSkipped(res)
				e.printUnreadable(res, "1 file the daemon may not read (the watch tries it again every 10 minutes, and 'kith watch ls' names it until it is shared)",
					"%d files the daemon may not read (the watch tries them again every 10 minutes, and 'kith watch ls' names them until they are shared)")
			}
			// The daemon reads the folder's modes and times (when it can)
			// and shares them beside it, for the devices that follow it.
			abs, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			in, err := c.GroupShare(cmd.Context(), groupName, res.Cid, api.ShareOptions{Copies: copies, Replace: replace, Path: abs, Keep: shareKeep})
			if err != nil {
				return err
			}
			var w *api.GroupWatch
			var m *api.GroupMirror
			if sync {
				gm, err := c.GroupSync(cmd.Context(), in.Group, in.Name, abs, in.Cid, copies, keep, since)
				if err != nil {
					return fmt.Errorf("shared %s in %s, but it does not sync: %w", in.Cid, printable(in.Group), err)
				}
				m = &gm
			}
			if follow {
				gw, err := c.GroupWatch(cmd.Context(), in.Group, args[0], api.WatchOptions{Copies: copies, Exclude: exclude, Cid: in.Cid, Since: since, Keep: keep})
				if err != nil {
					return fmt.Errorf("shared %s in %s, but not watched: %w", in.Cid, printable(in.Group), err)
				}
				w = &gw
			}
			if e.json {
				return e.printJSON(struct {
					api.GroupIntent
					Watch *api.GroupWatch  `json:"watch,omitempty"`
					Sync  *api.GroupMirror `json:"sync,omitempty"`
				}{in, w, m})
			}
			fmt.Fprintf(e.stdout, "shared %s %s (%s) in %s: %s\n", in.Cid, printable(in.Name), humanBytes(in.Size), printable(in.Group), copiesText(in.Copies))
			if in.Members > 0 && in.Members < in.Copies {
				copies := "copies"
				if in.Members == 1 {
					copies = "copy"
				}
				fmt.Fprintf(e.stdout, "note: %s has %d member%s, so it keeps %d %s until more join\n",
					printable(in.Group), in.Members, plural(in.Members), in.Members, copies)
			}
			e.printVersions(cmd.Context(), c, in)
			if m != nil {
				fmt.Fprintln(e.stdout, syncingText(*m))
			}
			if w != nil {
				kept := "in place of this one"
				if w.Keep > 0 {
					kept = fmt.Sprintf("and the %s before it", versionsText(w.Keep))
					kept = strings.Replace(kept, "earlier ", "", 1)
				}
				fmt.Fprintf(e.stdout, "watching %s: when it changes, %s keeps the new version %s ('kith watch rm %s' stops)\n",
					printable(w.Path), printable(w.Group), kept, printable(w.Path))
				for _, m := range w.Moved {
					fmt.Fprintf(e.stdout, "no longer watching %s, which is gone: the folder moved to %s\n", printable(m), printable(w.Path))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&groupName, "group", "", "the group to share in (may be left out when you are in one group)")
	cmd.Flags().IntVar(&copies, "copies", 2, "how many members keep a copy")
	cmd.Flags().BoolVar(&follow, "watch", false, "follow the folder: share it again, in place of this version, whenever it changes")
	cmd.Flags().BoolVar(&sync, "sync", false, "sync the folder both ways: share it as it changes, and write in what other devices share under its name")
	cmd.Flags().IntVar(&keep, "keep", 0, "with --watch or --sync: the group keeps the N versions before the current one too (a file deleted or overwritten by mistake can be got back)")
	cmd.Flags().BoolVar(&replace, "replace", false, "stop keeping the group's earlier shares of the same name (the older versions of a folder shared again)")
	excludeFlag(cmd, &exclude)
	// Folders are always shared whole; -r stays accepted for scripts
	// written when it was needed.
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "(no longer needed: a folder is always shared whole)")
	_ = cmd.Flags().MarkHidden("recursive")
	return cmd
}

// unshareCmd is `kith unshare CID --group NAME`.
func unshareCmd(e *env) *cobra.Command {
	var groupName string
	cmd := &cobra.Command{
		Use:   "unshare CID|NAME",
		Short: "Stop keeping copies of content in a group (your own pin stays)",
		Long: `Stop keeping copies of content in a group: the other members drop
their copies once the group's release delay has passed
(groups.release_delay); your own pin stays. A folder the share followed
(share --watch) is no longer followed.

Give the CID (or a ticket), or the name the group shares it as ('kith
status' lists them): every version of that name is unshared.`,
		Example: "  kith unshare bafy...\n  kith unshare Documents --group family",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseCID(args[0]); err != nil {
				return e.unshareName(cmd.Context(), args[0], groupName)
			}
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			if groupName == "" {
				if groupName, err = sharingGroup(cmd.Context(), c, id); err != nil {
					return err
				}
			}
			if err := c.GroupUnshare(cmd.Context(), groupName, id); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"group": groupName, "cid": id})
			}
			fmt.Fprintf(e.stdout, "unshared %s in %s: %s\n", id, groupName, unsharedNote)
			return nil
		},
	}
	cmd.Flags().StringVar(&groupName, "group", "", "the group to unshare in (may be left out when one group shares it)")
	return cmd
}

const unsharedNote = "your own pin stays; the other members drop their copies once the group's release delay has passed (groups.release_delay)"

// unshareName unshares every version of what a group shares as name: in
// group (a name or ID), else in the one group that shares that name.
func (e *env) unshareName(ctx context.Context, name, group string) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	if group != "" {
		gs, err := c.Groups(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(gs, func(g api.Group) bool { return g.Name == group || g.ID == group })
		if i < 0 {
			return fmt.Errorf("you are in no group called %s ('kith group ls' lists yours)", printable(group))
		}
		group = gs[i].Name
	}
	sts, err := c.GroupStatuses(ctx)
	if err != nil {
		return err
	}
	byGroup := map[string][]string{} // group: CIDs shared as name, newest first
	slices.SortStableFunc(sts, func(a, b api.GroupStatus) int { return b.Created.Compare(a.Created) })
	for _, st := range sts {
		if st.Name == name && (group == "" || st.Group == group) && !slices.Contains(byGroup[st.Group], st.Cid) {
			byGroup[st.Group] = append(byGroup[st.Group], st.Cid)
		}
	}
	switch {
	case len(byGroup) == 0 && group != "":
		return fmt.Errorf("%s shares nothing named %s, and %s is no CID or ticket ('kith status' lists what your groups share)", printable(group), printable(name), printable(name))
	case len(byGroup) == 0:
		return fmt.Errorf("%s is neither a CID, a ticket nor a name your groups share something as ('kith status' lists them)", printable(name))
	case len(byGroup) > 1:
		groups := slices.Sorted(maps.Keys(byGroup))
		for i, g := range groups {
			groups[i] = printable(g)
		}
		return fmt.Errorf("%s is shared in %s: say which with --group NAME", printable(name), strings.Join(groups, ", "))
	}
	for g, cids := range byGroup {
		for i, id := range cids {
			if err := c.GroupUnshare(ctx, g, id); err != nil {
				if i > 0 {
					return fmt.Errorf("unshared %s of %d versions of %s in %s, then: %w", strings.Join(cids[:i], ", "), len(cids), printable(name), printable(g), err)
				}
				return err
			}
		}
		if e.json {
			return e.printJSON(map[string]any{"group": g, "name": name, "cids": cids})
		}
		versions := cids[0]
		if len(cids) > 1 {
			versions = fmt.Sprintf("%d versions: %s", len(cids), strings.Join(cids, ", "))
		}
		fmt.Fprintf(e.stdout, "unshared %s in %s (%s): %s\n", printable(name), printable(g), versions, unsharedNote)
	}
	return nil
}

// notMirrored refuses, before anything is added, a folder to share with
// --watch that a mirror writes into (the daemon refuses its watch too,
// but only once it is shared).
func notMirrored(ctx context.Context, c *client.Client, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	ms, err := c.GroupMirrors(ctx)
	if err != nil {
		return nil // an older daemon: it has none
	}
	for _, m := range ms {
		if api.Overlap(abs, m.Path) {
			return fmt.Errorf("%s follows %s's %s (kith get --follow): a folder that follows a group's version cannot also be shared as it changes ('kith mirror rm %s' first)", printable(m.Path), printable(m.Group), printable(m.Name), printable(m.Path))
		}
	}
	return nil
}

// groupArg is the group cmd names as its argument, or when it names none
// (args is empty) the one group this device is in.
func groupArg(cmd *cobra.Command, c *client.Client, args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	return onlyGroup(cmd.Context(), c, "`"+cmd.CommandPath()+" NAME`")
}

// onlyGroup is the group meant when none was named: the one group this
// device is in. how says how to name one (a flag or an argument).
func onlyGroup(ctx context.Context, c *client.Client, how string) (string, error) {
	gs, err := c.Groups(ctx)
	if err != nil {
		return "", err
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = printable(g.Name)
	}
	switch len(gs) {
	case 0:
		return "", errors.New("this device is in no group yet: create one with `kith group create NAME`, or join one with `kith group join`")
	case 1:
		return gs[0].Name, nil
	}
	return "", fmt.Errorf("say which group with %s: this device is in %s", how, strings.Join(names, ", "))
}

// newShareName reports whether the group (by name or ID) shares nothing
// yet under the name a share of path would have (its base name).
func newShareName(ctx context.Context, c *client.Client, group, path string) (bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, err
	}
	gs, err := c.Groups(ctx)
	if err != nil {
		return false, err
	}
	i := slices.IndexFunc(gs, func(g api.Group) bool { return g.Name == group || g.ID == group })
	if i < 0 {
		return false, nil // the share says it is not a group
	}
	sts, err := c.GroupStatuses(ctx)
	if err != nil {
		return false, err
	}
	name := filepath.Base(abs)
	return !slices.ContainsFunc(sts, func(st api.GroupStatus) bool { return st.Group == gs[i].Name && st.Name == name }), nil
}

// sharingGroup is the group to unshare in when none was named: the one
// group that shares id.
func sharingGroup(ctx context.Context, c *client.Client, id string) (string, error) {
	sts, err := c.GroupStatus(ctx, id)
	if err != nil {
		return "", err
	}
	names := make([]string, len(sts))
	for i, st := range sts {
		names[i] = printable(st.Group)
	}
	switch len(sts) {
	case 0: // the daemon says so in an error; this is for an older one
		return "", fmt.Errorf("%s is not shared in any of your groups (`kith status` lists what is)", id)
	case 1:
		return sts[0].Group, nil
	}
	return "", fmt.Errorf("%s is shared in %s: say which with --group NAME", id, strings.Join(names, ", "))
}

// printVersions says what a share did to the group's other shares of the
// same name: withdrawn (--replace), or kept beside it, and how to stop
// keeping them.
func (e *env) printVersions(ctx context.Context, c *client.Client, in api.GroupIntent) {
	line := func(v api.SharedVersion) string {
		return fmt.Sprintf("  %s  %s  shared %s\n", v.Cid, humanBytes(v.Size), ago(v.Created))
	}
	name, group := printable(in.Name), printable(in.Group)
	if len(in.Replaced) > 0 {
		fmt.Fprintf(e.stdout, "%s no longer keeps the earlier %s (its members release their copies):\n", group, name)
		var mine []string
		pinned := map[string]bool{}
		if pins, err := c.Pins(ctx); err == nil {
			for _, p := range pins {
				pinned[p.Cid] = !p.Replica
			}
		}
		for _, v := range in.Replaced {
			fmt.Fprint(e.stdout, line(v))
			if pinned[v.Cid] {
				mine = append(mine, v.Cid)
			}
		}
		if len(mine) > 0 {
			fmt.Fprintln(e.stdout, "your own pin stays on this device; to free the space:")
			for _, c := range mine {
				fmt.Fprintf(e.stdout, "  kith pin rm %s\n", c)
			}
		}
	}
	if len(in.Earlier) > 0 {
		versions := "an earlier version"
		if len(in.Earlier) > 1 {
			versions = fmt.Sprintf("%d earlier versions", len(in.Earlier))
		}
		fmt.Fprintf(e.stdout, "note: %s also keeps %s of %s:\n", group, versions, name)
		for _, v := range in.Earlier {
			fmt.Fprint(e.stdout, line(v))
		}
		fmt.Fprintf(e.stdout, "to keep only this one, share it again with --replace (or 'kith unshare CID --group %s')\n", group)
	}
}
