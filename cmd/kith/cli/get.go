package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

func getCmd(e *env) *cobra.Command {
	var out, group string
	cmd := &cobra.Command{
		Use:   "get CID|TICKET|NAME",
		Short: "Fetch a file or folder (from peers if needed) and write it out",
		Long: `Write the file or folder CID to a path: -o PATH, or, when -o names a
folder that exists, into it. The name is the one a ticket carries (what the
sharer called it), else the CID: without -o, ./NAME or ./CID. kith never
overwrites: the path written must not exist yet.

Whatever the repo lacks is fetched from every peer that has it at once
(connected peers first, then providers found through the DHT), each block
checked against its CID. IPFS nodes (Kubo and others) are asked over
Bitswap, kith peers over kith's own protocol. Interrupted? Run the same
command again: only what is missing is fetched. Names inside the content
that would escape the output folder are refused.

Given a ticket (what kith add prints: kith1...), kith dials the sharer
directly first, through its relay if it is behind a NAT, with no DHT
lookup; the DHT is still asked if the sharer cannot be reached.

With --group, the argument is the name the group shares something as
('kith status' lists them), and a path inside it: what a new device needs
to bring back a folder that another device shared. Of a name shared in
several versions (a folder followed with --keep, or shared again), the
newest is got, and a note names the others.`,
		Example: "  kith get kith1ab...                  # ./holiday, as the sharer named it\n" +
			"  kith get kith1ab... -o ~/Downloads   # ~/Downloads/holiday\n" +
			"  kith get bafy... -o holiday\n" +
			"  kith get Documents --group family -o ~/Documents  # what family keeps",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, name, c, err := e.refClient(cmd.Context(), args[0], group)
			if err != nil {
				return err
			}
			if out == "" {
				out = name
			} else if st, err := os.Stat(out); err == nil && st.IsDir() {
				out = filepath.Join(out, name)
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return fmt.Errorf("output path %s: %w", out, err)
			}
			p := e.newProgress("getting", true)
			res, err := c.Get(cmd.Context(), id, abs, p.event)
			p.done()
			if err != nil && cmd.Context().Err() != nil {
				return p.stopped("get")
			}
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(res)
			}
			fmt.Fprintf(e.stdout, "saved %s to %s (%s)\n", res.Cid, res.Path, humanBytes(int64(res.Size)))
			if f := res.Fetched; f.Blocks > 0 {
				rate := float64(f.Bytes) / max(f.Seconds, 1e-3)
				fmt.Fprintf(e.stdout, "fetched %s in %d blocks from %d peer%s in %.1fs (%s/s)%s\n",
					humanBytes(f.Bytes), f.Blocks, f.Peers, plural(f.Peers), f.Seconds, humanBytes(int64(rate)), bitswapShare(f))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write, or a folder to write into (default ./NAME from a ticket, else ./CID)")
	groupFlag(cmd, &group)
	return cmd
}

// bitswapShare says what IPFS nodes carried over Bitswap, if anything.
func bitswapShare(f api.FetchStats) string {
	b := f.Protocols["bitswap"]
	if b.Blocks == 0 {
		return ""
	}
	return fmt.Sprintf("; %s of it over Bitswap from %d IPFS node%s", humanBytes(b.Bytes), b.Peers, plural(b.Peers))
}
