package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

type apiEvent = api.Event

func idCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Show this node's peer ID, addresses and reachability",
		Long: `Show this node's peer ID, its addresses (those a friend on the internet
can dial, and those on this network) and whether it is publicly
reachable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			id, err := c.ID(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(id)
			}
			fmt.Fprintf(e.stdout, "peer id:      %s\nipns name:    /ipns/%s ('kith name publish CID' points it)\nreachability: %s\ndht peers:    %d\napi:          http://%s\nrepo:         %s\nversion:      %s\n",
				id.PeerID, id.IPNSName, reachabilityText(id.Reachability), id.DHTPeers, id.API, id.Repo, id.Version)
			fmt.Fprintln(e.stdout, "listening on:")
			for _, a := range id.Listen {
				fmt.Fprintln(e.stdout, "  "+a)
			}
			switch {
			case len(id.Share) > 0:
				fmt.Fprintln(e.stdout, "addresses a friend can dial (`kith connect ADDRESS`):")
				for _, a := range id.Share {
					fmt.Fprintln(e.stdout, "  "+a)
				}
			case id.Reachability == "public", id.Reachability == "local":
			default:
				fmt.Fprintln(e.stdout, "addresses a friend can dial: none yet (no public address confirmed, no relay reservation); `kith doctor` says why")
			}
			if len(id.LAN) > 0 {
				fmt.Fprintln(e.stdout, "on your local network only:")
				for _, a := range id.LAN {
					fmt.Fprintln(e.stdout, "  "+a)
				}
			}
			if len(id.Share) == 0 && len(id.LAN) == 0 {
				fmt.Fprintln(e.stdout, "announced addresses (this machine only):")
				for _, a := range id.Addresses {
					fmt.Fprintf(e.stdout, "  %s/p2p/%s\n", a, id.PeerID)
				}
			}
			return nil
		},
	}
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kith's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			commit, dirty := buildCommit()
			if e.json {
				return e.printJSON(map[string]any{"version": node.BuildVersion(), "go": runtime.Version(),
					"os": runtime.GOOS + "/" + runtime.GOARCH, "commit": commit, "modified": dirty})
			}
			from := ""
			if commit != "" {
				from = ", commit " + commit
				if dirty {
					from += " with local changes"
				}
			}
			fmt.Fprintf(e.stdout, "kith %s (%s, %s/%s%s)\n", node.BuildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, from)
			return nil
		},
	}
}

func shutdownCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "shutdown",
		Short: "Stop the running daemon",
		// "kith stop" is what people try first.
		SuggestFor: []string{"stop", "quit", "exit", "kill"},
		Args:       cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if err := c.Shutdown(cmd.Context()); err != nil {
				return err
			}
			if !e.json {
				fmt.Fprintln(e.stdout, "daemon is shutting down")
			}
			return nil
		},
	}
}

func reachabilityText(r string) string {
	switch r {
	case "public":
		return "public (peers can dial this node)"
	case "private":
		return "private (behind a NAT or firewall: peers on the internet reach it only through a relay)"
	case "local":
		return "this machine only (--profile local: daemons here reach it by address or ticket)"
	}
	return "unknown (not yet determined by AutoNAT)"
}

// buildCommit is the VCS revision Go stamped into the binary ("" when it
// was built outside a checkout, or by go run) and whether the tree had
// local changes.
func buildCommit() (commit string, modified bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return commit, modified
}
