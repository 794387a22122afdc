package cli

import (
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
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

// TestArgsMatchUsage: what each command's usage line says it takes (NAME
// needed, [NAME] optional, NAME... one or more) is what it accepts, and
// too few or too many arguments are refused with a sentence naming the
// usage, not cobra's "accepts 1 arg(s)".
func TestArgsMatchUsage(t *testing.T) {
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	args := func(n int) []string { return strings.Fields(strings.Repeat("x ", n)) }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Args == nil || c.HasSubCommands() {
			return
		}
		words := strings.Fields(c.Use)[1:]
		needed, most := 0, len(words)
		for _, w := range words {
			if !strings.HasPrefix(w, "[") {
				needed++
			}
			if strings.HasSuffix(w, "...") {
				most = 100
			}
		}
		path := c.CommandPath()
		if err := c.Args(c, args(needed)); err != nil {
			t.Errorf("%s: its usage says %d arguments do, but they are refused: %v", path, needed, err)
		}
		if most < 100 {
			if err := c.Args(c, args(most)); err != nil {
				t.Errorf("%s: its usage says %d arguments do, but they are refused: %v", path, most, err)
			}
		}
		refused := map[int]string{most + 1: "too many"}
		if needed > 0 {
			refused[needed-1] = "too few"
		}
		for n, what := range refused {
			if n > 100 {
				continue
			}
			err := c.Args(c, args(n))
			if err == nil {
				t.Errorf("%s: %d arguments (%s by its usage line %q) are accepted", path, n, what, c.Use)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || strings.Contains(msg, "arg(s)") || !strings.Contains(msg, "--help") {
				t.Errorf("%s with %d arguments: %q does not name the command and its help in kith's words", path, n, msg)
			}
			if len(words) > 0 && !strings.Contains(msg, c.Use) {
				t.Errorf("%s with %d arguments: %q does not give its usage %q", path, n, msg, c.Use)
			}
		}
	}
	walk(root)
}

func TestArgsError(t *testing.T) {
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"cat"}, "`kith cat` needs 1 argument, and was given 0: kith cat CID|NAME (`kith cat --help` says more)"},
		{[]string{"cat", "my", "file"}, "`kith cat` takes 1 argument, and was given 2 (a name with spaces needs quotes): kith cat CID|NAME"},
		{[]string{"mirror", "add", "Music"}, "`kith mirror add` needs 2 arguments, and was given 1: kith mirror add NAME PATH"},
		{[]string{"add"}, "`kith add` needs at least 1 argument, and was given 0: kith add PATH..."},
		{[]string{"group", "join", "a", "b"}, "`kith group join` takes at most 1 argument, and was given 2"},
		{[]string{"gc", "now"}, "`kith gc` takes no arguments, and was given \"now\" (`kith gc --help` says more)"},
	} {
		c, rest, err := root.Find(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Args(c, rest)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("kith %s: %v, want %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestConfigSetHelpListsKeys: `kith config set --help` names every key
// that can be set, each once, and none that cannot.
func TestConfigSetHelpListsKeys(t *testing.T) {
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	set, _, err := root.Find([]string{"config", "set"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(set.Long, keyList()) {
		t.Fatal("kith config set --help does not hold the key list")
	}
	listed := map[string]int{}
	section := ""
	for _, line := range strings.Split(keyList(), "\n") {
		names := line
		if s, rest, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "    ") {
			section, names = strings.TrimSpace(s), rest
		}
		for _, n := range strings.Split(strings.TrimSpace(names), ",") {
			if n = strings.TrimSpace(n); n != "" {
				listed[section+"."+n]++
			}
		}
	}
	want := map[string]int{}
	for _, k := range node.ConfigKeys() {
		if !node.ConfigReadOnly(k) {
			want[k] = 1
		}
	}
	if !maps.Equal(listed, want) {
		t.Errorf("listed %v\nwant %v", listed, want)
	}
}
