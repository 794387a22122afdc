package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/logfile"
)

// followPoll is how often `kith log -f` looks for new lines.
const followPoll = 250 * time.Millisecond

func logCmd(e *env) *cobra.Command {
	var lines int
	var follow bool
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Print the daemon's log: its last lines, or follow it with -f",
		Long: `Print the end of the daemon's log, which it keeps in the repo
(logs/daemon.log, and logs/daemon.log.1 before it: 10 MiB each). It reads
the file, so it works whether or not the daemon runs: after a failed start
it says why. With -f it goes on printing lines as they are written, across
the file's rotations, until Ctrl-C.

The log holds what 'kith daemon' printed on stderr, at its --log-level,
and libp2p's own errors (more of them with GOLOG_LOG_LEVEL).`,
		Example: `  kith log
  kith log -n 200
  kith log -f`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if lines < 0 {
				return fmt.Errorf("-n %d: give a number of lines, 0 or more", lines)
			}
			path := node.LogPath(e.repo)
			if follow {
				return logfile.Follow(cmd.Context(), path, lines, followPoll, e.printLogLine)
			}
			tail, err := logfile.Tail(path, lines)
			if err != nil {
				return err
			}
			for _, l := range tail {
				if err := e.printLogLine(l); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&lines, "lines", "n", 50, "how many of the last lines to print (with -f, 0 prints only new ones)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing lines as the daemon writes them")
	return cmd
}

// printLogLine prints one line of the log; with --json, as {"line": ...}.
// Tabs, which separate libp2p's fields, are kept; other control
// characters are escaped as printable does.
func (e *env) printLogLine(l string) error {
	if e.json {
		return e.printJSON(struct {
			Line string `json:"line"`
		}{l})
	}
	parts := strings.Split(l, "\t")
	for i, p := range parts {
		parts[i] = printable(p)
	}
	_, err := fmt.Fprintln(e.stdout, strings.Join(parts, "\t"))
	return err
}
