package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/cmd/kith/service"
	"github.com/kith-p2p/kith/web/client"
)

// serviceStartTimeout is how long install waits for the service's daemon
// to answer before saying it did not.
const serviceStartTimeout = 45 * time.Second

func serviceCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Start the daemon when you log in (install, uninstall, status)",
		Long: `Start the kith daemon when you log in, with this platform's service manager:

  Linux    a systemd user service, ~/.config/systemd/user/kith.service
           (restarted if it fails; logs: journalctl --user -u kith)
  macOS    a launchd agent, ~/Library/LaunchAgents/io.github.kith-p2p.kith.plist
           (restarted if it fails; logs: ~/Library/Logs/kith/daemon.log)
  Windows  the Run registry key of your user (no administrator needed;
           logs: daemon.log in the repo)

The service runs this kith binary, so install it where it stays (move it,
then run 'kith service install' again). It serves the repo this command
would use (--repo, KITH_PATH). --dry-run shows what would be written and
run, and changes nothing.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(serviceInstallCmd(e), serviceUninstallCmd(e), serviceStatusCmd(e))
	return cmd
}

func serviceInstallCmd(e *env) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Start the daemon now and whenever you log in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := e.serviceSpec(cmd)
			if err != nil {
				return err
			}
			d := repoDaemon{repo: spec.Repo}
			svc := service.New(d)
			if dryRun {
				p, err := svc.InstallPlan(cmd.Context(), spec)
				if err != nil {
					return err
				}
				return e.printPlan(p, true)
			}
			p, err := svc.Install(cmd.Context(), spec)
			if err != nil {
				return err
			}
			running := waitRunning(cmd.Context(), d, serviceStartTimeout)
			if e.json {
				return e.printJSON(map[string]any{"installed": true, "manager": p.Manager, "path": p.Path,
					"running": running, "repo": spec.Repo, "logs": p.Logs, "notes": p.Notes})
			}
			fmt.Fprintf(e.stdout, "installed kith as a %s: %s\n", p.Manager, p.Path)
			for _, n := range p.Notes {
				fmt.Fprintln(e.stdout, "note: "+n)
			}
			if !running {
				return fmt.Errorf("the service is installed, but its daemon did not answer within %s; its log: %s", serviceStartTimeout, p.Logs)
			}
			fmt.Fprintf(e.stdout, "the daemon is running on repo %s and starts whenever you log in\nlogs: %s\n", spec.Repo, p.Logs)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the file it would write and the commands it would run, and change nothing")
	return cmd
}

func serviceUninstallCmd(e *env) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the service's daemon and no longer start it at login",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := filepath.Abs(e.repo)
			if err != nil {
				return fmt.Errorf("repo path: %w", err)
			}
			svc := service.New(repoDaemon{repo: repo})
			run := svc.Uninstall
			if dryRun {
				run = svc.UninstallPlan
			}
			p, err := run(cmd.Context())
			switch {
			case errors.Is(err, service.ErrNotInstalled):
				if e.json {
					return e.printJSON(map[string]any{"installed": false})
				}
				fmt.Fprintln(e.stdout, "kith is not installed as a login service: nothing to remove")
				return nil
			case err != nil:
				return err
			case dryRun:
				return e.printPlan(p, false)
			case e.json:
				return e.printJSON(map[string]any{"installed": false, "removed": p.Path, "manager": p.Manager})
			}
			fmt.Fprintf(e.stdout, "removed kith's %s (%s): the daemon is stopped and no longer starts at login\n", p.Manager, p.Path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the commands it would run and the file it would remove, and change nothing")
	return cmd
}

func serviceStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether the service is installed and its daemon running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := e.serviceSpec(cmd)
			if errors.Is(err, errGoRun) {
				// Nothing to compare what is installed with.
				spec.Exe, err = "", nil
			}
			if err != nil {
				return err
			}
			d := repoDaemon{repo: spec.Repo}
			st := service.New(d).Status(cmd.Context(), spec)
			answering := d.Running(cmd.Context())
			if e.json {
				return e.printJSON(struct {
					service.Status
					Answering bool   `json:"daemon_answering"`
					Repo      string `json:"repo"`
				}{st, answering, spec.Repo})
			}
			installed := "no (`kith service install` installs it)"
			switch {
			case st.Installed && st.Current:
				installed = "yes"
			case st.Installed:
				installed = "yes, but for another kith binary, repo or settings (`kith service install` updates it)"
			}
			running := "no (" + st.State + ")"
			switch {
			case st.Running:
				running = "yes (" + st.State + ")"
			case st.State == "unknown":
				running = "unknown"
			}
			daemon := "not answering"
			if answering {
				daemon = "answering"
			}
			fmt.Fprintf(e.stdout, "service:   %s, %s\ninstalled: %s\nrunning:   %s\ndaemon:    %s on repo %s\nlogs:      %s\n",
				st.Manager, st.Path, installed, running, daemon, spec.Repo, st.Logs)
			if st.Problem != "" {
				fmt.Fprintln(e.stdout, "problem:   "+st.Problem)
			}
			return nil
		},
	}
}

// errGoRun: a service cannot run a binary `go run` deletes when it exits.
var errGoRun = errors.New("this kith is a temporary build of `go run`, which is gone once it exits: install kith first (`go install ./cmd/kith`), then run `kith service install`")

// serviceSpec is what the service runs: this binary's daemon, on the repo
// this command uses.
func (e *env) serviceSpec(cmd *cobra.Command) (service.Spec, error) {
	exe, err := os.Executable()
	if err != nil {
		return service.Spec{}, fmt.Errorf("find the kith binary: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	repo, err := filepath.Abs(e.repo)
	if err != nil {
		return service.Spec{}, fmt.Errorf("repo path: %w", err)
	}
	spec := service.Spec{Exe: exe, Args: []string{"daemon"}, Repo: repo}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return spec, errGoRun
	}
	if f := cmd.Flag("repo"); f != nil && f.Changed {
		spec.Args = append(spec.Args, "--repo", repo)
	}
	if kp := os.Getenv("KITH_PATH"); kp != "" {
		abs, err := filepath.Abs(kp)
		if err != nil {
			return service.Spec{}, fmt.Errorf("KITH_PATH: %w", err)
		}
		spec.Env = []string{"KITH_PATH=" + abs}
	}
	return spec, nil
}

// printPlan shows a dry run's plan.
func (e *env) printPlan(p *service.Plan, install bool) error {
	if e.json {
		return e.printJSON(p)
	}
	w := e.stdout
	fmt.Fprintln(w, "dry run: nothing is written, nothing is run")
	if len(p.Before) > 0 {
		fmt.Fprintln(w, "would run:")
		for _, c := range p.Before {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
	if install {
		fmt.Fprintf(w, "would write %s (%s):\n\n%s\n\n", p.Path, p.Manager, strings.TrimSuffix(p.Content, "\n"))
	} else {
		fmt.Fprintf(w, "would remove %s (%s)\n", p.Path, p.Manager)
	}
	if len(p.After) > 0 {
		fmt.Fprintln(w, "then run:")
		for _, c := range p.After {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
	if install {
		fmt.Fprintln(w, "the daemon would log to: "+p.Logs)
	}
	for _, n := range p.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if p.Problem != "" {
		fmt.Fprintln(w, "but it would fail here: "+p.Problem)
	}
	return nil
}

// repoDaemon is the daemon of a repo, reached through its API.
type repoDaemon struct{ repo string }

func (d repoDaemon) Running(ctx context.Context) bool {
	c, err := client.FromRepo(d.repo)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = c.ID(ctx)
	return err == nil
}

func (d repoDaemon) Stop(ctx context.Context) error {
	c, err := client.FromRepo(d.repo)
	if err != nil {
		return err
	}
	return c.Shutdown(ctx)
}

// waitRunning waits until d answers, for at most timeout.
func waitRunning(ctx context.Context, d service.Daemon, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !d.Running(ctx) {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
