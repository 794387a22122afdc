package cli

import (
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
)

func uiCmd(e *env) *cobra.Command {
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the web UI in a browser, signed in",
		Long: `Open the daemon's web UI in your browser, signed in.

The UI needs credentials like every other API client, but the API token
never goes into a web page. Instead this command (which can read the
repo's token file) asks the daemon for a one-time sign-in link that works
once, for two minutes; the browser that opens it gets a session cookie
scripts cannot read. Use --no-open to only print the link.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			lc, err := c.LoginURL(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(lc)
			}
			fmt.Fprintf(e.stdout, "web UI sign-in link (works once, for 2 minutes):\n  %s\n", lc.URL)
			if noOpen {
				return nil
			}
			if err := openBrowser(lc.URL); err != nil {
				fmt.Fprintf(e.stderr, "could not open a browser (%v): open the link above yourself\n", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the link without opening a browser")
	return cmd
}

// openBrowser hands url to the desktop's opener and does not wait for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
