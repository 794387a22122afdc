package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

func mirrorCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "Folders that follow a group's share (add, ls, revert, changes...)",
		Long: `A folder got with 'kith get NAME --group G --follow' (or one you have,
with 'kith mirror add NAME PATH') follows what the group shares as NAME:
when a device shares a newer version (share --watch does at each
change), the daemon fetches it and writes in what changed, and removes
what the new version no longer has, giving files and folders the
sharer's modes (a script stays executable) and times. It is a
receive-only copy: a file you change or add there is yours, never
overwritten or removed (delete your version of a file to have the
group's again with its next version, or 'kith mirror revert PATH' for
all of them), and nothing you change there is shared. A folder that is
gone (a disk not mounted) is not made again. 'kith mirror pause PATH'
stops it until 'kith mirror resume PATH'; 'kith mirror changes PATH'
lists what the updates wrote in.`,
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the folders that follow a group's share",
		Long: `List the folders that follow a group's share: the group, the name, when
the version it holds was written, and that version's CID; then what went
wrong, what each folder leaves out (--exclude), the files changed here
that the last update kept as they are, which folders sync both ways
(kith share --sync, kith get --sync) and the conflict copies the last
update of one wrote.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			ms, err := c.GroupMirrors(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ms)
			}
			if len(ms) == 0 {
				fmt.Fprintln(e.stdout, "no folder follows a group's share: 'kith get NAME --group G --follow' gets one that does")
				return nil
			}
			// A folder that syncs both ways is shared as it changes too:
			// what went wrong sharing it is said here as well.
			shareErr := map[string]string{}
			if ws, err := c.GroupWatches(cmd.Context()); err == nil {
				for _, w := range ws {
					if w.Sync && w.Error != "" {
						shareErr[w.Path] = w.Error
					}
				}
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PATH\tGROUP\tNAME\tWRITTEN\tCID")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(m.Path), printable(m.Group), printable(m.Name), ago(m.Updated), cmp.Or(m.Cid, "-"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, m := range ms {
				if m.Pending != "" {
					fmt.Fprintf(e.stdout, "%s: %s\n", printable(m.Path), mirrorDoing(m))
				}
				if m.Paused {
					fmt.Fprintf(e.stdout, "%s: paused: no newer version is written in until 'kith mirror resume %s'\n", printable(m.Path), printable(m.Path))
				}
				if m.Error != "" {
					fmt.Fprintf(e.stdout, "%s: %s\n", printable(m.Path), printable(m.Error))
				}
				if len(m.Exclude) > 0 {
					fmt.Fprintf(e.stdout, "%s: leaves out %s\n", printable(m.Path), patternList(m.Exclude))
				}
				if m.Sync {
					fmt.Fprintf(e.stdout, "%s: syncs both ways: what changes here is shared too%s\n", printable(m.Path), keepsText(m.Group, m.Keep))
				}
				if msg := shareErr[m.Path]; msg != "" {
					fmt.Fprintf(e.stdout, "%s: %s\n", printable(m.Path), printable(msg))
				}
				if len(m.Conflicts) > 0 {
					fmt.Fprintf(e.stdout, "%s: changed on two devices at once, the later change kept the name, the other is beside it (delete it once settled): %s\n", printable(m.Path), printable(strings.Join(m.Conflicts, ", ")))
				}
				if m.KeptCount > 0 {
					fmt.Fprintf(e.stdout, "%s: changed here, kept as they are (delete one, or 'kith mirror revert' them all, to have the group's): %s\n", printable(m.Path), keptNames(m))
				}
			}
			return nil
		},
	}
	var group string
	var exclude []string
	add := &cobra.Command{
		Use:   "add NAME PATH",
		Short: "Have a folder as it is follow what a group shares as NAME",
		Long: `Have the folder at PATH (made if missing) follow what the group shares
as NAME: the daemon fetches the newest version and writes in what the
folder lacks, in the background ('kith mirror ls' shows how it goes),
then each newer version. For a folder you already have a copy of (from
before kith, or from another tool): a file that already holds the
group's bytes is taken as it is, one that differs is kept, never
overwritten, and named by 'kith mirror ls'; files the group does not
have are left alone. For a new folder, 'kith get NAME --group G -o PATH
--follow' does the same with a progress bar.

--exclude leaves out of the folder what matches (a name at any depth, or
a path from its top, as kith add's; selective sync): it is not fetched
or written, and what is there that matches is left alone.
For a folder that already follows NAME, it replaces what the folder left
out: what the group's version had written there and is now left out is
removed (unless you changed it; the group still keeps it), what is no
longer left out is written. Without --exclude such a folder keeps what
it left out; --exclude '' leaves out nothing any more.`,
		Example: "  kith mirror add Documents ~/Documents --group family\n" +
			"  kith mirror add Photos ~/Pictures/family --exclude '*.mov' --exclude Raw/",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, path := strings.Trim(args[0], "/"), args[1]
			if strings.Contains(name, "/") {
				return fmt.Errorf("a whole share is followed: give its name (%s), not a path in it", strings.SplitN(name, "/", 2)[0])
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			if group == "" {
				if group, err = onlyGroup(cmd.Context(), c, "--group NAME"); err != nil {
					return err
				}
			}
			ref, _, _, err := groupShareRef(cmd.Context(), c, group, name)
			if err != nil {
				return err
			}
			if st, err := c.StatFromPeers(cmd.Context(), ref); err == nil && st.Type != "dir" {
				return fmt.Errorf("%s is a file, not a folder: only a folder is followed (kith get it)", printable(name))
			}
			m, err := c.GroupMirror(cmd.Context(), group, name, path, "", exclude...)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(m)
			}
			if m.Reapply {
				fmt.Fprintf(e.stdout, "%s follows %s's %s, now leaving out %s: what kith wrote there and is now left out is removed (unless you changed it), what no longer is gets written ('kith mirror ls' shows how it goes)\n",
					printable(m.Path), printable(m.Group), printable(m.Name), patternList(m.Exclude))
				return nil
			}
			fmt.Fprintf(e.stdout, "%s follows %s's %s%s: its newest version is being written in ('kith mirror ls' shows how it goes); files there that differ from the group's are kept, never overwritten\n",
				printable(m.Path), printable(m.Group), printable(m.Name), leavingOut(m.Exclude))
			return nil
		},
	}
	add.Flags().StringVar(&group, "group", "", "the group that shares NAME (may be left out when you are in one group)")
	excludeFlag(add, &exclude)
	rm := &cobra.Command{
		Use:   "rm PATH",
		Short: "Stop following a group's share into a folder (its files stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			m, err := c.GroupUnmirror(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(m)
			}
			if m.Sync {
				fmt.Fprintf(e.stdout, "%s no longer syncs with %s's %s, either way: its files stay as they are\n", printable(m.Path), printable(m.Group), printable(m.Name))
				return nil
			}
			fmt.Fprintf(e.stdout, "%s no longer follows %s's %s: its files stay as they are\n", printable(m.Path), printable(m.Group), printable(m.Name))
			return nil
		},
	}
	revert := &cobra.Command{
		Use:   "revert PATH",
		Short: "Write the group's version over your changes in a followed folder",
		Long: `Write the group's version again over what was changed in a folder that
follows a group's share (what 'kith mirror ls' names as kept): your edits
of its files, and files of the group's you replaced by links or folders by
files. What the group's version does not have is left alone, as is a
folder you made where the group has a file. It waits until it is done.`,
		Example: "  kith mirror revert ~/Documents",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			asked := time.Now()
			m, err := c.GroupMirrorRevert(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			m, err = e.waitReverted(cmd.Context(), c, m.Path, asked)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(m)
			}
			if m.Error != "" {
				return fmt.Errorf("%s", m.Error)
			}
			fmt.Fprintf(e.stdout, "%s holds %s's %s again where it was changed here\n", printable(m.Path), printable(m.Group), printable(m.Name))
			if m.KeptCount > 0 {
				fmt.Fprintf(e.stdout, "%s: still kept (a folder made where the group has a file): %s\n", printable(m.Path), keptNames(m))
			}
			return nil
		},
	}
	pause, resume := pauseCmds(e, "mirror")
	cmd.AddCommand(add, ls, rm, revert, pause, resume, changesCmd(e))
	return cmd
}

// waitReverted waits until the revert asked of the mirror at path at
// asked is done (or failed since), saying how it goes on stderr.
func (e *env) waitReverted(ctx context.Context, c *client.Client, path string, asked time.Time) (api.GroupMirror, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	said := ""
	for {
		ms, err := c.GroupMirrors(ctx)
		if err != nil {
			return api.GroupMirror{}, err
		}
		i := slices.IndexFunc(ms, func(m api.GroupMirror) bool { return m.Path == path })
		if i < 0 {
			return api.GroupMirror{}, fmt.Errorf("%s no longer follows a group's share", path)
		}
		m := ms[i]
		if !m.Revert || (m.Error != "" && m.Pending == "" && m.Checked.After(asked)) {
			return m, nil
		}
		if m.Pending != "" && !e.json {
			if now := mirrorDoing(m); now != said {
				fmt.Fprintf(e.stderr, "%s: %s\n", printable(m.Path), now)
				said = now
			}
		}
		select {
		case <-ctx.Done():
			return api.GroupMirror{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// keptNames names m's paths changed here (the first ones, and how many
// more).
func keptNames(m api.GroupMirror) string {
	named := make([]string, len(m.Kept))
	for i, k := range m.Kept {
		named[i] = printable(k)
	}
	if more := m.KeptCount - len(m.Kept); more > 0 {
		named = append(named, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(named, ", ")
}

// mirrorDoing says what the update of m in progress does, and how far it
// is.
func mirrorDoing(m api.GroupMirror) string {
	texts := map[string]string{
		"":        "fetching and writing the newer version " + m.Pending,
		"compare": "comparing the files there with the newer version",
		"fetch":   "fetching what the newer version changed",
		"write":   "writing the newer version in",
	}
	switch {
	case m.Pending == m.Cid && m.Reapply: // what it leaves out changed
		texts = map[string]string{
			"":        "writing the version again, with what it leaves out now",
			"compare": "comparing the files there with the version",
			"fetch":   "fetching what is no longer left out",
			"write":   "writing what is no longer left out",
		}
	case m.Pending == m.Cid: // a revert: the version the folder follows
		texts = map[string]string{
			"":        "writing the group's version over what was changed there",
			"compare": "comparing the files there with the group's version",
			"fetch":   "fetching the group's files changed there",
			"write":   "writing the group's version over what was changed there",
		}
	}
	what, ok := texts[m.Phase]
	if !ok || m.Phase == "" || m.Total <= 0 {
		return texts[""]
	}
	return fmt.Sprintf("%s: %s of %s", what, humanBytes(m.Done), humanBytes(m.Total))
}
