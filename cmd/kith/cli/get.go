package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
)

func getCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Write a file or folder out of the repo",
		Long: `Write the file or folder CID to a path (default: ./CID). The path must not
exist yet. Names inside the content that would escape the output folder are
refused.`,
		Example: "  kith get bafy... -o holiday",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCID(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = id
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return fmt.Errorf("output path %s: %w", out, err)
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			p := e.newProgress("getting", true)
			res, err := c.Get(cmd.Context(), id, abs, p.event)
			p.done()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			fmt.Fprintf(e.stdout, "saved %s to %s (%s)\n", res.Cid, res.Path, humanBytes(int64(res.Size)))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write (default ./CID)")
	return cmd
}
