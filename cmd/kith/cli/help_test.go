package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpFitsATerminal: every command's --help text is wrapped to fit an
// 80-column terminal (a line edited without re-wrapping runs off it).
func TestHelpFitsATerminal(t *testing.T) {
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for i, line := range strings.Split(c.Long+"\n"+c.Example, "\n") {
			if n := len([]rune(line)); n > 80 {
				t.Errorf("%s --help, line %d is %d columns wide:\n%s", c.CommandPath(), i+1, n, line)
			}
		}
		if n := len([]rune(c.Short)); n > 66 {
			t.Errorf("%s: its one-line summary is %d columns wide (with the name before it, past 80):\n%s", c.CommandPath(), n, c.Short)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
