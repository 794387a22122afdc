package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func gcCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "Remove every block no pin needs and give the disk space back",
		Long: `Remove every block that no pin reaches, then compact the store so the repo
really shrinks on disk. Blocks of an add that is still running are kept, and
so is what a transfer of the web UI's Get fetched while it runs or is paused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "gc")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			p := e.newProgress("collecting garbage", false)
			res, err := c.GC(cmd.Context(), p.event)
			p.done()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			fmt.Fprintf(e.stdout, "removed %d blocks (%s); kept %d; repo on disk %s -> %s\n",
				res.Removed, humanBytes(res.RemovedBytes), res.Kept, humanBytes(res.DiskBefore), humanBytes(res.DiskAfter))
			if res.Missing > 0 {
				fmt.Fprintf(e.stdout, "warning: %d pinned blocks are missing from the repo\n", res.Missing)
			}
			return nil
		},
	}
}
