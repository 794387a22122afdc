package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

func catCmd(e *env) *cobra.Command {
	var offset, length int64
	var group string
	cmd := &cobra.Command{
		Use:   "cat CID|NAME",
		Short: "Stream a file to stdout",
		Long: `Write a file's bytes to standard output, or with --offset and --length a
range of them. Give its CID (or CID/PATH, a file inside a folder), a
ticket, the name of one of your pins ('kith pin ls' lists them;
NAME/PATH too), or with --group the name a group of yours shares it as
and the path of the file in it. What this repo lacks is fetched from connected
peers and kept, unpinned, in the downloads' cache (fetch.cache_max). With
no daemon running, cat starts one for itself and stops it after, as get
does.`,
		Example: "  kith cat bafk... > copy.bin\n  kith cat --offset 100 --length 20 bafk...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if offset < 0 {
				return fmt.Errorf("--offset must not be negative")
			}
			stop, err := e.daemonForRef(cmd.Context(), args[0], group, "cat")
			if err != nil {
				return err
			}
			defer stop()
			id, _, c, err := e.refClient(cmd.Context(), args[0], group)
			if err != nil {
				return err
			}
			r, err := c.Cat(cmd.Context(), id, offset, length)
			if err != nil {
				return err
			}
			defer r.Close()
			// The daemon waits for a peer that has the rest when the one the
			// bytes came from went away: say so, once per pause.
			stalled := time.AfterFunc(catStall, func() {
				fmt.Fprintf(e.stderr, "kith: nothing came for %s: waiting for a peer that has the rest (up to 10 minutes after the last bytes; Ctrl-C stops)\n", catStall)
			})
			defer stalled.Stop()
			if _, err := io.Copy(e.stdout, readFunc(func(p []byte) (int, error) {
				n, err := r.Read(p)
				if n > 0 {
					stalled.Reset(catStall)
				}
				return n, err
			})); err != nil {
				return fmt.Errorf("cat %s: %w", id, err)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&offset, "offset", 0, "byte to start at")
	groupFlag(cmd, &group)
	cmd.Flags().Int64Var(&length, "length", -1, "number of bytes to write")
	// Shown as "(default to the end)" rather than "(default -1)".
	cmd.Flags().Lookup("length").DefValue = "to the end"
	return cmd
}

// catStall is how long a cat's stream may pause before cat says it waits.
const catStall = 10 * time.Second

// readFunc is a function as an io.Reader.
type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
