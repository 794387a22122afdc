package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// versionsText is "1 earlier version" or "N earlier versions".
func versionsText(n int) string {
	if n == 1 {
		return "1 earlier version"
	}
	return fmt.Sprintf("%d earlier versions", n)
}

// keepsText says that group keeps keep versions before the newest of a
// folder that syncs both ways ("" for none), as the end of a sentence.
func keepsText(group string, keep int) string {
	if keep <= 0 {
		return ""
	}
	return fmt.Sprintf("; %s keeps %s too", printable(group), versionsText(keep))
}

// watchCmd is `kith watch ls` and `kith watch rm PATH`: the folders whose
// group shares follow them (kith share --watch).
func watchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Folders whose group shares follow them (ls, rm, pause, changes)",
		Long: `A folder shared with 'kith share PATH --watch' is followed: when it
changes, the daemon adds it again and the group keeps the new version in
place of the old one (with --keep N, beside the N versions before it). A
followed folder you moved is followed at its new place once you share it
from there with --watch (the watch of the old path ends); 'kith watch ls'
says when a folder is gone. 'kith watch pause PATH' shares nothing of it
until 'kith watch resume PATH'; 'kith watch changes PATH' lists what its
shares sent out.`,
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the watched folders",
		Long: `List the watched folders: the group, the version shared (and the earlier
ones kept), when it changed, and what went wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			ws, err := c.GroupWatches(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ws)
			}
			if len(ws) == 0 {
				fmt.Fprintln(e.stdout, "no folder is watched: 'kith share PATH --watch' shares one and follows it")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PATH\tGROUP\tCOPIES\tCHANGED\tCID")
			for _, w := range ws {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", printable(w.Path), printable(w.Group), w.Copies, ago(w.Updated), w.Cid)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, w := range ws {
				if w.Error != "" {
					// The sentence names the folder; the group says which watch.
					fmt.Fprintf(e.stdout, "%s: %s\n", printable(w.Group), printable(w.Error))
				}
				if w.Paused {
					fmt.Fprintf(e.stdout, "%s: paused: what changes there is not shared until 'kith watch resume %s'\n", printable(w.Path), printable(w.Path))
				}
				if w.Sync {
					fmt.Fprintf(e.stdout, "%s: syncs both ways ('kith mirror ls' says more)\n", printable(w.Path))
				}
			}
			for _, w := range ws {
				if len(w.Earlier) > 0 {
					fmt.Fprintf(e.stdout, "%s keeps %s of %s (of at most %d; 'kith get CID' brings one back), newest first:\n",
						printable(w.Group), versionsText(len(w.Earlier)), printable(w.Path), w.Keep)
					for i := len(w.Earlier) - 1; i >= 0; i-- {
						fmt.Fprintf(e.stdout, "  %s\n", w.Earlier[i])
					}
				}
			}
			return nil
		},
	}
	var group string
	rm := &cobra.Command{
		Use:   "rm PATH",
		Short: "Stop following a folder (what is shared stays shared)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			gone, err := c.GroupUnwatch(cmd.Context(), group, args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(gone)
			}
			for _, w := range gone {
				fmt.Fprintf(e.stdout, "no longer watching %s in %s: %s stays shared as it is\n", printable(w.Path), printable(w.Group), w.Cid)
			}
			return nil
		},
	}
	rm.Flags().StringVar(&group, "group", "", "stop following it in this group only (default: in every group)")
	pause, resume := pauseCmds(e, "watch")
	cmd.AddCommand(ls, rm, pause, resume, changesCmd(e))
	return cmd
}
