package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
)

func daemonCmd(e *env) *cobra.Command {
	var apiAddr, profile, logLevel string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the kith daemon (creates the repo on first run)",
		Long: `Run the kith daemon in the foreground.

On first run it creates the repo ($KITH_PATH or ~/.kith): an identity key, a
config file with every default written out, the API token and the block
store. It serves the local API on 127.0.0.1 only and joins the network: a
libp2p host (TCP and QUIC on port 4101), the public IPFS DHT (Amino), mDNS
on the LAN, a relay and a hole punch when behind a NAT. 'kith doctor' says
how that went. Stop it with Ctrl-C, SIGTERM or 'kith shutdown'.

It logs to stderr and to logs/daemon.log in the repo ('kith log' prints
it; 10 MiB, then it moves to daemon.log.1). libp2p's own logs go to that
file only, unless GOLOG_LOG_LEVEL is set (for example
GOLOG_LOG_LEVEL="error,p2p-holepunch=debug"), which shows them on stderr
too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: use debug, info, warn or error", logLevel)
			}
			dl, err := node.OpenDaemonLog(e.repo, level, e.stderr)
			if err != nil {
				return err
			}
			defer dl.Close()
			log := dl.Logger
			n, err := node.New(node.Options{Repo: e.repo, Profile: profile, APIAddress: apiAddr, Logger: log, LogFile: dl.Path()})
			if err != nil {
				dl.Failed("did not start", userMessage(err))
				return err
			}
			if err := n.Start(cmd.Context()); err != nil {
				n.Close()
				dl.Failed("did not start", userMessage(err))
				return err
			}
			if !e.json {
				id, _ := n.ID(cmd.Context())
				fmt.Fprintf(e.stdout, "kith daemon ready\npeer id: %s\napi:     http://%s\nrepo:    %s\nlog:     %s\n", id.PeerID, n.APIAddr(), id.Repo, dl.Path())
			}
			var serveErr error
			select {
			case <-cmd.Context().Done():
				log.Info("signal received, shutting down")
			case <-n.Stopped():
				log.Info("shutdown requested through the API")
			case serveErr = <-n.ServeErr():
			}
			if err := n.Close(); err != nil {
				dl.Failed("stopped", userMessage(err))
				return err
			}
			if serveErr != nil {
				err := fmt.Errorf("API server stopped: %w", serveErr)
				dl.Failed("stopped", userMessage(err))
				return err
			}
			log.Info("daemon stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&apiAddr, "api", "", "API address host:port (default from the config, "+node.DefaultAPIAddress+")")
	cmd.Flags().StringVar(&profile, "profile", "", "config preset for a new repo: default (a laptop on the internet: all interfaces, mDNS, UPnP, the public DHT) or local (127.0.0.1 only, no mDNS, UPnP or public peers: for tests and several daemons on one machine); on an existing repo, local keeps this run on 127.0.0.1 without changing config.json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "what the daemon logs: debug, info, warn or error (libp2p's own logs follow GOLOG_LOG_LEVEL, and reach stderr only when it is set)")
	return cmd
}
