package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

type apiEvent = api.Event

func idCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Show this node's peer ID and API address",
		Args:  cobra.NoArgs,
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
			fmt.Fprintf(e.stdout, "peer id: %s\napi:     http://%s\nrepo:    %s\nversion: %s\n", id.PeerID, id.API, id.Repo, id.Version)
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
			if e.json {
				return e.printJSON(map[string]string{"version": node.Version, "go": runtime.Version()})
			}
			fmt.Fprintf(e.stdout, "kith %s (%s)\n", node.Version, runtime.Version())
			return nil
		},
	}
}

func shutdownCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "shutdown",
		Short: "Stop the running daemon",
		Args:  cobra.NoArgs,
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
