package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func repoCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Inspect the repo (stat, verify)",
	}
	stat := &cobra.Command{
		Use:   "stat",
		Short: "Show the repo's size, blocks and pins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "repo stat")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			st, err := c.RepoStat(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(st)
			}
			fmt.Fprintf(e.stdout, "repo:    %s\nblocks:  %d (%s)\non disk: %s\npins:    %d\n",
				st.Path, st.Blocks, humanBytes(st.Bytes), humanBytes(st.DiskUsage), st.Pins)
			fmt.Fprintf(e.stdout, "cache:   %s of finished downloads, unpinned (fetch.cache_max %s; kith gc empties it)\n",
				humanBytes(st.Cache), humanBytes(st.CacheMax))
			if st.InFilesCount > 0 {
				fmt.Fprintf(e.stdout, "in files: %s in %d %s, read from there, not copied (folders shared as they change, add --nocopy)\n",
					humanBytes(st.InFiles), st.InFilesCount, map[bool]string{true: "file", false: "files"}[st.InFilesCount == 1])
			}
			if st.DiskFree >= 0 {
				fmt.Fprintf(e.stdout, "free:    %s (what adds and fetches may still use on this disk)\n", humanBytes(st.DiskFree))
			}
			return nil
		},
	}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every block and report those that do not match their CID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "repo verify")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			p := e.newProgress("verifying", false)
			res, err := c.Verify(cmd.Context(), p.event)
			p.done()
			if err != nil {
				return err
			}
			if e.json {
				if err := e.printJSON(res); err != nil {
					return err
				}
			} else {
				for _, b := range res.Bad {
					fmt.Fprintf(e.stdout, "corrupt: %s\n", b)
				}
				for _, c := range res.Changed {
					fmt.Fprintf(e.stdout, "changed: %s (its bytes were in a file that changed since it was added without a copy; its record is dropped)\n", c)
				}
				for _, p := range res.Incomplete {
					fmt.Fprintf(e.stdout, "incomplete pin: %s (some of its blocks are missing; kith pin add fetches them)\n", p)
				}
				changed := ""
				if len(res.Changed) > 0 {
					changed = fmt.Sprintf(", %d changed in their files", len(res.Changed))
				}
				fmt.Fprintf(e.stdout, "checked %d blocks, %d corrupt%s; %d incomplete pins\n", res.Checked, len(res.Bad), changed, len(res.Incomplete))
			}
			switch {
			case len(res.Bad) > 0:
				return fmt.Errorf("%d blocks do not match their CID", len(res.Bad))
			case len(res.Incomplete) > 0:
				return fmt.Errorf("%d pins point at content that is not all here", len(res.Incomplete))
			}
			return nil
		},
	}
	cmd.AddCommand(stat, verify)
	return cmd
}
