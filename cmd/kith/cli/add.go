package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

func addCmd(e *env) *cobra.Command {
	var (
		recursive bool
		name      string
		noPin     bool
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "add PATH",
		Short: "Add a file or folder to the repo and pin it",
		Long: `Add a file (or, with -r, a folder) to the repo and pin it, printing its CID.

The DAG follows the IPIP-499 "unixfs-v1-2025" profile (CIDv1, raw leaves,
sha2-256, 1 MiB chunks), so any IPFS implementation using that profile gives
the same CID for the same bytes. When add prints the CID, every block is on
disk.`,
		Example: "  kith add photo.jpg\n  kith add -r ./holiday --name holiday-2026",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			p := e.newProgress("adding", true)
			res, err := c.AddPath(cmd.Context(), args[0], recursive, api.AddOptions{Name: name, NoPin: noPin}, p.event)
			p.done()
			if err != nil {
				return err
			}
			switch {
			case e.json:
				return e.printJSON(res)
			case quiet:
				fmt.Fprintln(e.stdout, res.Cid)
			default:
				fmt.Fprintf(e.stdout, "added %s %s (%s)\n", res.Cid, res.Name, humanBytes(int64(res.Size)))
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "add a folder and everything in it")
	cmd.Flags().StringVar(&name, "name", "", "name to record on the pin (default: the file or folder name)")
	cmd.Flags().BoolVar(&noPin, "no-pin", false, "store the blocks without pinning them")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the CID")
	return cmd
}

// humanBytes formats a byte count with binary units ("1.5 MiB").
func humanBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
