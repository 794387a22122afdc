package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/cmd/kith/service"
	"github.com/kith-p2p/kith/node"
)

// logFileMax is the size past which --log-file starts afresh (the old log
// kept as FILE.old), so that a daemon started at every login does not
// fill the disk.
const logFileMax = 10 << 20

func daemonCmd(e *env) *cobra.Command {
	var apiAddr, profile, logLevel, logFile string
	var noConsole, untilStdin bool
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the kith daemon (creates the repo on first run)",
		Long: `Run the kith daemon in the foreground.

On first run it creates the repo: an identity key, a config file with every
default written out, the API token and the block store. It serves the local
API on 127.0.0.1 only and joins the network: a libp2p host (TCP and QUIC on
port 4101), the public IPFS DHT (Amino), mDNS on the LAN, a relay and a hole
punch when behind a NAT. 'kith doctor' says how that went. Stop it with
Ctrl-C, SIGTERM or 'kith shutdown'; 'kith service install' starts it
whenever you log in.

The repo is the --repo folder, else ` + node.RepoPathHelp + `

It logs to stderr (or to --log-file) and to logs/daemon.log in the repo
('kith log' prints it; 10 MiB, then it moves to daemon.log.1). libp2p's
own logs go to that file only, unless GOLOG_LOG_LEVEL is set (for example
GOLOG_LOG_LEVEL="error,p2p-holepunch=debug"), which shows them on stderr
too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: use debug, info, warn or error", logLevel)
			}
			if noConsole {
				service.HideConsole()
			}
			console := e.stderr
			if logFile != "" {
				f, err := openLog(logFile)
				if err != nil {
					return err
				}
				defer f.Close()
				console = f
			}
			dl, err := node.OpenDaemonLog(e.repo, level, console)
			if err != nil {
				return err
			}
			defer dl.Close()
			// Why the daemon did not start or stopped: in the repo's log,
			// and in --log-file, which stands for a terminal nobody sees
			// (the Windows service); on a terminal, main prints it.
			failed := func(what string, err error) {
				dl.Failed(what, userMessage(err))
				if logFile != "" {
					slog.New(slog.NewTextHandler(console, nil)).Error("daemon " + what + ": " + userMessage(err))
				}
			}
			log := dl.Logger
			n, err := node.New(node.Options{Repo: e.repo, Profile: profile, APIAddress: apiAddr, Logger: log, LogFile: dl.Path(), FreePorts: untilStdin})
			if err != nil {
				failed("did not start", err)
				return err
			}
			if err := n.Start(cmd.Context()); err != nil {
				n.Close()
				failed("did not start", err)
				return err
			}
			if !e.json {
				id, _ := n.ID(cmd.Context())
				fmt.Fprintf(e.stdout, "kith daemon ready\npeer id: %s\napi:     http://%s\nrepo:    %s\nlog:     %s\n", id.PeerID, n.APIAddr(), id.Repo, dl.Path())
			}
			var serveErr error
			stdinClosed := make(chan struct{})
			if untilStdin {
				go func() {
					_, _ = io.Copy(io.Discard, e.stdin)
					close(stdinClosed)
				}()
			}
			select {
			case <-cmd.Context().Done():
				log.Info("signal received, shutting down (a second Ctrl-C stops it at once)")
			case <-stdinClosed:
				// Another command that found it running (a second get, in
				// another terminal) may still use it: with a request under
				// way, it stops once the API has been idle for a moment.
				if n.APIIdle() == 0 {
					log.Info("the command this daemon was started for ended; another still uses it: stopping once it is done")
					waitIdle(cmd.Context(), n)
				}
				log.Info("the command this daemon was started for ended: shutting down")
			case <-n.Stopped():
				log.Info("shutdown requested through the API")
			case serveErr = <-n.ServeErr():
			}
			if err := n.Close(); err != nil {
				failed("stopped", err)
				return err
			}
			if serveErr != nil {
				err := fmt.Errorf("API server stopped: %w", serveErr)
				failed("stopped", err)
				return err
			}
			log.Info("daemon stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&apiAddr, "api", "", "API address host:port (default from the config, "+node.DefaultAPIAddress+")")
	cmd.Flags().StringVar(&profile, "profile", "", "config preset for a new repo: default (a laptop on the internet: all interfaces, mDNS, UPnP, the public DHT) or local (127.0.0.1 only, no mDNS, UPnP or public peers: for tests and several daemons on one machine); on an existing repo, local keeps this run on 127.0.0.1 without changing config.json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "what the daemon logs: debug, info, warn or error (libp2p's own logs follow GOLOG_LOG_LEVEL, and reach stderr only when it is set)")
	cmd.Flags().StringVar(&logFile, "log-file", "", "append the daemon's log to this file instead of stderr (started afresh past 10 MiB, the old one kept as FILE.old)")
	cmd.Flags().BoolVar(&noConsole, "no-console", false, "Windows: hide the console window the daemon was given (kith service install uses it at login)")
	if runtime.GOOS != "windows" {
		_ = cmd.Flags().MarkHidden("no-console")
	}
	// What a command that starts a daemon for itself (kith get, when none
	// runs) gives it: it stops when the command does (ephemeral.go).
	cmd.Flags().BoolVar(&untilStdin, untilStdinFlag, false, "run until standard input closes")
	_ = cmd.Flags().MarkHidden(untilStdinFlag)
	return cmd
}

// openLog opens the log file for appending, starting afresh when it has
// grown past logFileMax.
func openLog(path string) (io.WriteCloser, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the log's folder: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > logFileMax {
		if err := os.Rename(path, path+".old"); err != nil {
			return nil, fmt.Errorf("set the old log aside: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the log file: %w", err)
	}
	return f, nil
}

// untilStdinLinger is how long the API of a daemon started for a command
// must have been idle, once that command ended, before it stops: the
// requests of one command come milliseconds apart.
const untilStdinLinger = time.Second

// waitIdle waits until n's API has been idle for untilStdinLinger, or n
// or ctx stops.
func waitIdle(ctx context.Context, n *node.Node) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for n.APIIdle() < untilStdinLinger {
		select {
		case <-ctx.Done():
			return
		case <-n.Stopped():
			return
		case <-t.C:
		}
	}
}
