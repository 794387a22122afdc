package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

func pinCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Keep content from garbage collection (add, rm, ls)",
	}
	var name string
	var private bool
	add := &cobra.Command{
		Use:   "add CID",
		Short: "Pin content, fetching from peers whatever the repo lacks",
		Long: `Pin content as yours, fetching from peers whatever the repo lacks (every
block checked against its CID); gc never removes it. As with kith get, a
fetch whose peers go away in the middle waits for one that has the rest
(up to 10 minutes), and an interrupted one resumes when run again.

Your pins are announced in the DHT, as IPFS does, so the CID alone finds
you, except content a group of yours keeps or shares, which stays
private. --private keeps a pin out of the DHT, and stops announcing one
that was; --private=false announces it.`,
		Example: "  kith pin add bafy...\n  kith pin add bafy... --private   # no longer announced in the DHT",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := api.PinOptions{Name: name}
			if cmd.Flags().Changed("private") {
				opts.Private = &private
			}
			pin, _, stop, err := e.pinRef(cmd.Context(), args[0], "pin add", opts)
			defer stop()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(pin)
			}
			switch {
			case pin.Private:
				fmt.Fprintf(e.stdout, "pinned %s (private: not announced in the DHT)\n", pin.Cid)
			case cmd.Flags().Changed("private"):
				fmt.Fprintf(e.stdout, "pinned %s (announced in the DHT)\n", pin.Cid)
			default:
				fmt.Fprintf(e.stdout, "pinned %s\n", pin.Cid)
			}
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "name to record on the pin")
	add.Flags().BoolVar(&private, "private", false, "keep it out of the DHT (and stop announcing it if it was); --private=false announces it")
	rm := &cobra.Command{
		Use:   "rm CID",
		Short: "Remove your pin",
		Long: `Remove your pin: its blocks go at the next gc, unless a group keeps a
copy here (then they stay, for the group).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "pin rm")
			if err != nil {
				return err
			}
			defer stop()
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			if err := c.PinRm(cmd.Context(), id); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"cid": id})
			}
			fmt.Fprintf(e.stdout, "unpinned %s\n", id)
			return nil
		},
	}
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List pinned roots: CID, name, size, date",
		Long: `List pinned roots, oldest first: CID, name, size, date, and after them
  · GROUP · replica      a copy only your groups keep
    ..., no longer shared  one no group shares any more (a folder's version
                           before its newest): released after
                           groups.release_delay
  · also kept for GROUP  your pin, kept by a group too
  · private              not announced in the DHT`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, err := e.daemonForRepo(cmd.Context(), "pin ls")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			pins, err := c.Pins(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(pins)
			}
			if len(pins) == 0 {
				fmt.Fprintln(e.stdout, "nothing is pinned: 'kith add PATH' adds a file or folder and pins it, 'kith pin add CID' pins what peers have")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CID\tNAME\tSIZE\tPINNED")
			for _, p := range pins {
				name := printable(p.Name) + pinGroupsNote(p)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Cid, name, humanBytes(int64(p.Size)), p.Created.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, rm, ls)
	return cmd
}

// pinGroupsNote says which groups keep a pinned root too: " · family ·
// replica" for a copy only groups keep (", no longer shared" when it goes
// after groups.release_delay), " · also kept for family" for the
// user's pin that a group keeps as well; and " · private" for the user's
// pin not announced in the DHT.
func pinGroupsNote(p api.Pin) string {
	groups := p.Groups
	if len(groups) == 0 && p.Group != "" {
		groups = []string{p.Group}
	}
	shown := make([]string, len(groups))
	for i, g := range groups {
		shown[i] = printable(g)
	}
	private := ""
	if p.Private {
		private = " · private"
	}
	switch {
	case p.Replica && p.Releasing:
		return " · " + strings.Join(shown, ", ") + " · replica, no longer shared"
	case p.Replica:
		return " · " + strings.Join(shown, ", ") + " · replica"
	case len(shown) > 0:
		return " · also kept for " + strings.Join(shown, ", ") + private
	}
	return private
}

// pinRef pins what arg names (a CID, ticket, path, IPNS name or a pin's
// name), as kith pin add does, with progress on stderr; for a command
// (what) that starts a daemon for itself when none runs, which stop ends.
// It returns the pin and the client it used.
func (e *env) pinRef(ctx context.Context, arg, what string, opts api.PinOptions) (pin api.Pin, c *client.Client, stop func(), err error) {
	stop, err = e.daemonForRef(ctx, arg, "", what)
	if err != nil {
		return api.Pin{}, nil, func() {}, err
	}
	id, c, err := e.cidClient(arg)
	if err != nil {
		return api.Pin{}, nil, stop, err
	}
	p := e.newProgress("pinning", true)
	pin, err = c.PinAdd(ctx, id, opts, p.event)
	p.done()
	if err != nil && ctx.Err() != nil {
		return api.Pin{}, nil, stop, p.stopped(what)
	}
	return pin, c, stop, err
}
