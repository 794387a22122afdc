package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
	"github.com/kith-p2p/kith/web/ui"
)

// browserEnv names a program that opens the sign-in page instead of the
// desktop's default browser; it gets the page's file:// URL as its one
// argument.
const browserEnv = "KITH_BROWSER"

func uiCmd(e *env) *cobra.Command {
	var noOpen, revoke bool
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the web UI in a browser, signed in",
		Long: `Open the daemon's web UI in your browser, signed in.

The UI needs credentials like every other API client, but the API token
never goes into a web page. Instead this command (which can read the
repo's token file) asks the daemon for a one-time sign-in code that works
once, for two minutes, and writes it into a private file (mode 0600, in a
temporary folder) that it has the browser open, so the code never appears
in any process's command line. The page trades the code for a session of
its own, kept in the tab (sessionStorage) and sent only to this daemon's
address. The file is removed as soon as the browser has signed in, or the
code has expired. A session ends after 12 hours without use, 7 days after
sign-in, when the daemon restarts, or with --revoke.

Set KITH_BROWSER to a program to open the page with instead of the
desktop's default browser. With --no-open, the link itself is printed
(on standard output) for you to open in a browser on this computer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if revoke {
				return e.revokeUI(cmd.Context(), c)
			}
			lc, err := c.LoginURL(cmd.Context())
			if err != nil {
				return err
			}
			if noOpen {
				if e.json {
					return e.printJSON(lc)
				}
				fmt.Fprintf(e.stdout, "Open this link in a browser on this computer to sign in (it works once, within 2 minutes):\n  %s\n", lc.URL)
				return nil
			}
			return e.openUI(cmd.Context(), c, lc)
		},
	}
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the sign-in link instead of opening a browser")
	cmd.Flags().BoolVar(&revoke, "revoke", false, "sign every browser out of the web UI")
	cmd.MarkFlagsMutuallyExclusive("no-open", "revoke")
	return cmd
}

// uiOpened is what `kith --json ui` prints once the browser signed in.
type uiOpened struct {
	UI    string `json:"ui"`
	State string `json:"state"`
}

// openUI has a browser open a private file that sends it on to the
// sign-in link, waits until the link is used or expires, and removes the
// file.
func (e *env) openUI(ctx context.Context, c *client.Client, lc api.LoginCode) error {
	dir, err := os.MkdirTemp("", "kith-ui-")
	if err != nil {
		return fmt.Errorf("make a private folder for the sign-in page: %w", err)
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "signin.html")
	if err := writePrivate(page, ui.SignInPage(lc.URL)); err != nil {
		return fmt.Errorf("write the sign-in page: %w", err)
	}
	if err := openBrowser(fileURL(page)); err != nil {
		return fmt.Errorf("could not start a browser (%v): run `kith ui --no-open` and open the link it prints", err)
	}
	if !e.json {
		fmt.Fprintln(e.stdout, "Opening the web UI in your browser…")
	}
	state, err := c.WaitLogin(ctx, lc.ID)
	if ctx.Err() != nil {
		return errors.New("interrupted before the browser signed in")
	}
	if err != nil {
		return err
	}
	if state != api.LoginSignedIn {
		return errors.New("the browser did not sign in within 2 minutes: run `kith ui --no-open` and open the link it prints yourself")
	}
	base, _, _ := strings.Cut(lc.URL, "#")
	if e.json {
		return e.printJSON(uiOpened{UI: base, State: state})
	}
	fmt.Fprintf(e.stdout, "Signed in to the web UI at %s\n", base)
	return nil
}

func (e *env) revokeUI(ctx context.Context, c *client.Client) error {
	n, err := c.RevokeSessions(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(api.Revoked{Sessions: n})
	}
	fmt.Fprintf(e.stdout, "Signed every browser out of the web UI (%d session%s ended).\n", n, plural(n))
	return nil
}

// writePrivate creates path, readable by its owner only, with data.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fileURL is the file:// URL of an absolute path.
func fileURL(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/Users/... on Windows
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// openBrowser hands target to $KITH_BROWSER or the desktop's opener and
// does not wait for it.
func openBrowser(target string) error {
	var cmd *exec.Cmd
	switch prog := os.Getenv(browserEnv); {
	case prog != "":
		cmd = exec.Command(prog, target)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", target)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", target)
	default:
		cmd = exec.Command("xdg-open", target)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
