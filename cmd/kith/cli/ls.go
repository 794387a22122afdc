package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func lsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "ls CID",
		Short: "List a folder",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := e.cidClient(args[0])
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
}
