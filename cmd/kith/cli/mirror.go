package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func mirrorCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "Folders that follow what a group shares (ls, rm)",
		Long: `A folder got with 'kith get NAME --group G --follow' follows what the
group shares as NAME: when a device shares a newer version (share --watch
does at each change), the daemon fetches it and writes in what changed,
and removes what the new version no longer has. It is a receive-only
copy: a file you change or add there is yours, never overwritten or
removed (delete your version of a file to have the group's again with
its next version), and nothing you change there is shared. A folder
that is gone (a disk not mounted) is not made again.`,
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the folders that follow a group's share",
		Long: `List the folders that follow a group's share: the group, the name, when
the version it holds was written, and that version's CID; then what went
wrong, and the files changed here that the last update kept as they are.`,
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
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PATH\tGROUP\tNAME\tWRITTEN\tCID")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(m.Path), printable(m.Group), printable(m.Name), ago(m.Updated), m.Cid)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, m := range ms {
				if m.Pending != "" {
					fmt.Fprintf(e.stdout, "%s: fetching and writing the newer version %s\n", printable(m.Path), m.Pending)
				}
				if m.Error != "" {
					fmt.Fprintf(e.stdout, "%s: %s\n", printable(m.Path), printable(m.Error))
				}
				if m.KeptCount > 0 {
					named := make([]string, len(m.Kept))
					for i, k := range m.Kept {
						named[i] = printable(k)
					}
					if more := m.KeptCount - len(m.Kept); more > 0 {
						named = append(named, fmt.Sprintf("and %d more", more))
					}
					fmt.Fprintf(e.stdout, "%s: changed here, kept as they are (delete one to have the group's): %s\n", printable(m.Path), strings.Join(named, ", "))
				}
			}
			return nil
		},
	}
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
			fmt.Fprintf(e.stdout, "%s no longer follows %s's %s: its files stay as they are\n", printable(m.Path), printable(m.Group), printable(m.Name))
			return nil
		},
	}
	cmd.AddCommand(ls, rm)
	return cmd
}
