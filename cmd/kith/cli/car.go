package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

func exportCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "export CID",
		Short:   "Write a DAG as a CAR file (stdout or -o FILE)",
		Example: "  kith export bafy... > holiday.car",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "export")
			if err != nil {
				return err
			}
			defer stop()
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			var w io.Writer = e.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("export: cannot write %s: %w", out, api.PathReason(err))
				}
				defer f.Close()
				w = f
			}
			if _, err := c.Export(cmd.Context(), id, w); err != nil {
				return fmt.Errorf("export %s: %w", id, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

func importCmd(e *env) *cobra.Command {
	var allowPartial bool
	var name string
	cmd := &cobra.Command{
		Use:   "import FILE.car",
		Short: "Import a CAR file (verifying every block) and pin its roots",
		Long: `Import a CAR file (v1 or v2; - reads stdin). Every block is checked
against its CID, and CIDs with weak or truncated hashes are refused. A root
is pinned (and announced) only when its whole DAG is then in the repo; roots
the CAR names without all their blocks are listed as incomplete and left
unpinned, unless --allow-partial.

The pins are named after the CAR file (holiday.car pins "holiday"; the
roots of a CAR with several are numbered), or --name. From stdin without
--name, a folder is named after its first entry. A root you already
pinned under a name keeps it.`,
		Example: "  kith import holiday.car\n  curl -s https://example.org/album.car | kith import --name album -",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = e.stdin
			var total int64
			opts := api.ImportOptions{AllowPartial: allowPartial, Name: name}
			if args[0] != "-" {
				if opts.Name == "" {
					opts.Name = filepath.Base(args[0])
				}
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("import %s: %w", args[0], api.PathReason(err))
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					total = st.Size()
				}
				r = f
			}
			stop, err := e.daemonFor(cmd.Context(), "import")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			p := e.newProgress("importing", true)
			res, err := c.Import(cmd.Context(), r, opts, func(ev apiEvent) {
				ev.Total = total
				p.event(ev)
			})
			p.done()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			for _, root := range res.Roots {
				fmt.Fprintf(e.stdout, "imported and pinned %s\n", root)
			}
			for _, root := range res.Incomplete {
				fmt.Fprintf(e.stdout, "not pinned: %s is incomplete (the CAR lacks some of its blocks; --allow-partial pins it anyway)\n", root)
			}
			fmt.Fprintf(e.stdout, "%d block%s read, each checked against its CID\n", res.Blocks, plural(res.Blocks))
			return nil
		},
	}
	cmd.Flags().BoolVar(&allowPartial, "allow-partial", false, "pin roots even when the CAR lacks some of their blocks")
	cmd.Flags().StringVar(&name, "name", "", "name the pins NAME (default: the CAR file's name without .car)")
	return cmd
}
