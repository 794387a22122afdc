package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

// mirrorChangesCmd is `kith mirror changes [PATH]`: what the updates of
// followed folders changed there, as Syncthing's recent changes.
func mirrorChangesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "changes [PATH]",
		Short: "What updates changed in followed folders, newest first",
		Long: `List what the updates of a followed (or synced) folder changed there, newest
first: the files written (new or changed), removed, moved, and the
conflict copies made, with when, and the version written (its CID). The
last 50 of each folder are kept; given PATH, that folder's only.`,
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
			if len(args) == 1 {
				abs, err := filepath.Abs(args[0])
				if err != nil {
					return err
				}
				i := slices.IndexFunc(ms, func(m api.GroupMirror) bool { return m.Path == abs })
				if i < 0 {
					return fmt.Errorf("%s follows no group's share ('kith mirror ls' lists those that do)", printable(abs))
				}
				ms = ms[i : i+1]
			}
			type row struct {
				folder string
				api.MirrorChange
			}
			var rows []row
			for _, m := range ms {
				for _, ch := range m.Recent {
					rows = append(rows, row{m.Path, ch})
				}
			}
			slices.SortStableFunc(rows, func(a, b row) int { return b.At.Compare(a.At) })
			if e.json {
				out := map[string][]api.MirrorChange{}
				for _, m := range ms {
					out[m.Path] = append([]api.MirrorChange{}, m.Recent...)
				}
				return e.printJSON(out)
			}
			if len(rows) == 0 {
				fmt.Fprintln(e.stdout, "no change written in yet: an update writes one when the group shares a newer version")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			if len(args) == 1 {
				fmt.Fprintln(tw, "WHEN\tWHAT\tPATH\tVERSION")
			} else {
				fmt.Fprintln(tw, "WHEN\tFOLDER\tWHAT\tPATH\tVERSION")
			}
			for _, r := range rows {
				if len(args) == 1 {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ago(r.At), r.What, printable(r.Path), shortCID(r.Version))
				} else {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ago(r.At), printable(r.folder), r.What, printable(r.Path), shortCID(r.Version))
				}
			}
			return tw.Flush()
		},
	}
}

// shortCID cuts a CID for a table: its start and end tell versions apart
// (--json gives it whole).
func shortCID(c string) string {
	if len(c) <= 16 {
		return c
	}
	return c[:8] + "…" + c[len(c)-6:]
}
