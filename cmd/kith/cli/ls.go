package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func lsCmd(e *env) *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "ls CID|NAME",
		Short: "List a folder",
		Long: `List a folder, one row per entry: CID, size and name (a folder's name
ends in /, a symbolic link shows its target). Give its CID (or CID/PATH,
a folder inside it), a ticket, the name of one of your pins ('kith pin
ls' lists them; NAME/PATH too), or with --group the name a group of
yours shares it as ('kith status' lists them) and a path in it. What
this repo lacks is fetched from connected peers (or, given a ticket,
from its sharer). With no daemon running, ls starts one for itself and
stops it after, as get does.`,
		Example: "  kith ls bafy...\n  kith ls bafy.../day-1\n  kith ls holiday-2026/day-1   # by the name of a pin\n  kith ls Documents --group family   # what family keeps of Documents",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRef(cmd.Context(), args[0], group, "ls")
			if err != nil {
				return err
			}
			defer stop()
			id, _, c, err := e.refClient(cmd.Context(), args[0], group)
			if err != nil {
				return err
			}
			entries, err := c.Ls(cmd.Context(), id)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(entries)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, en := range entries {
				name := printable(en.Name)
				switch en.Type {
				case "dir":
					name += "/"
				case "symlink":
					name += " -> " + printable(en.Target)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", en.Cid, humanBytes(int64(en.Size)), name)
			}
			return tw.Flush()
		},
	}
	groupFlag(cmd, &group)
	return cmd
}
