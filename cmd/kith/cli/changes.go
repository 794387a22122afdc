package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

// changesCmd is `kith mirror changes [PATH]` and `kith watch changes
// [PATH]`, the same command: what changed in followed,
// synced and watched folders, as Syncthing's recent changes: written in
// from the group, or made here and shared.
func changesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "changes [PATH]",
		Short: "What changed in followed, synced and watched folders, newest first",
		Long: `List what changed in the folders that follow a group's share, sync both
ways or are shared as they change, newest first: the files written (new
or changed), removed, moved or renamed, and the conflict copies made,
with when, the device that changed them (BY: "this device" for what
changed here and was shared, else the member that shared the version
written in) and the version (its CID). The last 50 of each folder are
kept; given PATH, that folder's only. 'kith mirror changes' and 'kith
watch changes' are the same.`,
		Example: "  kith mirror changes ~/Documents",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			ms, err := c.GroupMirrors(cmd.Context())
			if err != nil {
				return err
			}
			ws, err := c.GroupWatches(cmd.Context())
			if err != nil {
				return err
			}
			// Each folder once: a folder that syncs both ways is a mirror
			// and a watch, and its mirror lists both sides' changes.
			folders := map[string][]api.FolderChange{}
			var order []string
			for _, m := range ms {
				order = append(order, m.Path)
				folders[m.Path] = m.Recent
			}
			for _, w := range ws {
				if _, ok := folders[w.Path]; !ok {
					order = append(order, w.Path)
				}
				if !w.Sync {
					folders[w.Path] = mergeChanges(folders[w.Path], w.Recent)
				}
			}
			if len(args) == 1 {
				abs, err := filepath.Abs(args[0])
				if err != nil {
					return err
				}
				if _, ok := folders[abs]; !ok {
					return fmt.Errorf("%s neither follows a group's share nor is shared as it changes ('kith mirror ls' and 'kith watch ls' list those that do)", printable(abs))
				}
				order = []string{abs}
			}
			if e.json {
				out := map[string][]api.FolderChange{}
				for _, p := range order {
					out[p] = append([]api.FolderChange{}, folders[p]...)
				}
				return e.printJSON(out)
			}
			type row struct {
				folder string
				api.FolderChange
			}
			var rows []row
			for _, p := range order {
				for _, ch := range folders[p] {
					rows = append(rows, row{p, ch})
				}
			}
			slices.SortStableFunc(rows, func(a, b row) int { return b.At.Compare(a.At) })
			if len(rows) == 0 {
				fmt.Fprintln(e.stdout, "no change yet: an update lists one when the group shares a newer version, a share when the folder changes")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			one := len(order) == 1
			if one {
				fmt.Fprintln(tw, "WHEN\tWHAT\tPATH\tBY\tVERSION")
			} else {
				fmt.Fprintln(tw, "WHEN\tFOLDER\tWHAT\tPATH\tBY\tVERSION")
			}
			for _, r := range rows {
				if one {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ago(r.At), r.What, printable(r.Path), changedBy(r.FolderChange), shortID(r.Version))
				} else {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ago(r.At), printable(r.folder), r.What, printable(r.Path), changedBy(r.FolderChange), shortID(r.Version))
				}
			}
			return tw.Flush()
		},
	}
}

// mergeChanges is two lists of changes, newest first, as one: a folder
// watched in two groups shares the same versions in both, each change
// once.
func mergeChanges(a, b []api.FolderChange) []api.FolderChange {
	out := append(slices.Clone(a), b...)
	slices.SortStableFunc(out, func(x, y api.FolderChange) int { return y.At.Compare(x.At) })
	seen := map[[3]string]bool{}
	return slices.DeleteFunc(out, func(c api.FolderChange) bool {
		k := [3]string{c.Path, c.What, c.Version}
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}

// changedBy names the device that made a change: this one, a member by
// its name, else the end of its ID ("-" once the group forgot the
// version).
func changedBy(ch api.FolderChange) string {
	switch {
	case ch.Here:
		return "this device"
	case ch.By != "":
		return printable(ch.By)
	case ch.ByID != "":
		return "…" + ch.ByID[max(0, len(ch.ByID)-6):]
	}
	return "-"
}

// shortID cuts a CID or a peer ID for a table: its start and end tell
// them apart (--json gives it whole).
func shortID(c string) string {
	if len(c) <= 16 {
		return c
	}
	return c[:8] + "…" + c[len(c)-6:]
}
