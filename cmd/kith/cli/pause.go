package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// pauseCmds are `pause PATH` and `resume PATH` of kith mirror and kith
// watch (of, the command they are under): both pause or resume the
// folder whole, its mirror and its watches, as Syncthing pauses a folder.
func pauseCmds(e *env, of string) (pause, resume *cobra.Command) {
	mk := func(paused bool) *cobra.Command {
		verb, short, long := "resume", "Resume a paused folder: it catches up at once", `Resume a folder paused with 'kith `+of+` pause': a newer version its group
shares is written in, and what changed there meanwhile is shared, at once
(a folder that syncs both ways merges what changed on each side, as after
a time offline).`
		if paused {
			verb, short, long = "pause", "Stop following and sharing a folder until you resume it", `Pause a folder that follows a group's share or is shared as it changes
(or both: a folder that syncs both ways): no newer version is written in
(an update under way stops), and what changes there is not shared (a
share under way finishes), until 'kith `+of+` resume PATH'. The folder
stays paused across restarts of the daemon; 'kith mirror ls' and 'kith
watch ls' say so. Pause a folder while you reorganise it, so that no
half-done state is shared.`
		}
		var all bool
		cmd := &cobra.Command{
			Use:     verb + " [PATH]",
			Short:   short,
			Long:    long,
			Example: "  kith " + of + " " + verb + " ~/Documents\n  kith " + of + " " + verb + " --all",
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if (len(args) == 1) == all {
					return fmt.Errorf("give the folder to %s, or --all for every folder", verb)
				}
				c, err := e.client()
				if err != nil {
					return err
				}
				paths := args
				if all {
					if paths, err = followedPaths(cmd.Context(), c); err != nil {
						return err
					}
					if len(paths) == 0 {
						return fmt.Errorf("no folder follows a group's share or is shared as it changes")
					}
				}
				var out []api.FolderPause
				for _, p := range paths {
					res, err := c.GroupPause(cmd.Context(), p, paused)
					if err != nil {
						return err
					}
					out = append(out, res)
					if !e.json {
						fmt.Fprintln(e.stdout, pauseText(res))
					}
				}
				if e.json {
					if all {
						return e.printJSON(out)
					}
					return e.printJSON(out[0])
				}
				return nil
			},
		}
		cmd.Flags().BoolVar(&all, "all", false, verb+" every folder that follows a share or is shared as it changes")
		return cmd
	}
	return mk(true), mk(false)
}

// pauseText says what pausing or resuming res's folder does (and which
// command resumes it: kith mirror's for a folder that follows a share).
func pauseText(res api.FolderPause) string {
	path := printable(res.Path)
	of := "watch"
	var groups []string
	for _, w := range res.Watches {
		if g := printable(w.Group); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	shared := strings.Join(groups, " and ")
	var follows string
	if len(res.Mirrors) > 0 {
		of = "mirror"
		m := res.Mirrors[0]
		follows = fmt.Sprintf("%s's newer versions of %s", printable(m.Group), printable(m.Name))
	}
	if res.Paused {
		switch {
		case follows != "" && shared != "":
			return fmt.Sprintf("paused %s: what changes there is not shared in %s, nor are %s written in, until 'kith %s resume %s'", path, shared, follows, of, path)
		case follows != "":
			return fmt.Sprintf("paused %s: %s are not written in until 'kith %s resume %s'", path, follows, of, path)
		default:
			return fmt.Sprintf("paused %s: what changes there is not shared in %s until 'kith %s resume %s'", path, shared, of, path)
		}
	}
	switch {
	case follows != "" && shared != "":
		return fmt.Sprintf("resumed %s: what changed there is shared in %s, and %s written in, from now on", path, shared, follows)
	case follows != "":
		return fmt.Sprintf("resumed %s: %s are written in from now on, the newest at once", path, follows)
	default:
		return fmt.Sprintf("resumed %s: what changed there is shared in %s from now on", path, shared)
	}
}

// followedPaths lists every folder that a mirror writes or a watch
// shares, each once, in order.
func followedPaths(ctx context.Context, c *client.Client) ([]string, error) {
	ms, err := c.GroupMirrors(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := c.GroupWatches(ctx)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, m := range ms {
		paths = append(paths, m.Path)
	}
	for _, w := range ws {
		paths = append(paths, w.Path)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}
