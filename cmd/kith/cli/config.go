package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
)

// restartNote is what `config set` adds when a daemon has the repo open:
// it reads config.json only when it starts.
const restartNote = "the daemon is running: restart it (kith shutdown, then kith daemon) for this to take effect"

func configCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or change the repo's settings (config.json)",
		Long: `Show or change the settings in the repo's config.json, by key.

A key is the setting's path in config.json, with dots: api.address,
network.listen_addrs, dht.announce, groups.grace... ('kith config show'
prints them all with their values). Values are checked before the file is
written: addresses must parse, durations take units (90s, 30m, 22h, 7d),
lists are a JSON array or items separated by commas, byte counts may say
10MiB. The daemon reads config.json when it starts; a running one takes
fetch.upload_limit, fetch.download_limit, fetch.cache_max and the space
offered to groups (groups.budget_percent, groups.budget_max) at once, and
the rest after a restart. Works whether or not the daemon runs.`,
		Example: `  kith config show
  kith config get api.address
  kith config set api.address 127.0.0.1:5092
  kith config set network.listen_addrs /ip4/0.0.0.0/tcp/4102,/ip6/::/tcp/4102
  kith config set fetch.upload_limit 2MiB
  kith config unset fetch.upload_limit`,
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the whole config as the daemon reads it (defaults filled in)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := node.ReadConfig(e.repo)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(cfg)
			}
			b, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				return err
			}
			e.printLines(string(b))
			return nil
		},
	}
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one setting (or a whole section, such as network)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := node.ReadConfig(e.repo)
			if err != nil {
				return err
			}
			v, err := cfg.Lookup(args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(v)
			}
			e.printLines(v.Text()) // a list or section: indented JSON
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change one setting, checking the value first",
		Long: `Change one setting, checking the value first (an address must parse, a
duration take a unit such as 30m, a byte count may say 10MiB). A key is
SECTION.NAME (fetch.upload_limit), one of:

` + keyList() + `

'kith config show' prints them with their values.`,
		Example: `  kith config set fetch.download_limit 5MiB
  kith config set groups.grace 2h`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := node.SetConfig(e.repo, args[0], args[1])
			if err != nil {
				return err
			}
			return e.configChanged(cmd.Context(), v)
		},
	}
	unset := &cobra.Command{
		Use:   "unset KEY",
		Short: "Set one setting back to its default",
		Long: `Set one setting back to its default: what a new repo of the default
profile has.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := node.UnsetConfig(e.repo, args[0])
			if err != nil {
				return err
			}
			return e.configChanged(cmd.Context(), v)
		},
	}
	for _, c := range []*cobra.Command{get, set, unset} {
		c.ValidArgsFunction = completeKey
	}
	cmd.AddCommand(show, get, set, unset)
	return cmd
}

// keyList lists the keys that can be set, by section ("fetch:
// upload_limit, ..."), wrapped for a terminal.
func keyList() string {
	var b strings.Builder
	section, line := "", 0
	for _, k := range node.ConfigKeys() {
		if node.ConfigReadOnly(k) {
			continue
		}
		s, name, _ := strings.Cut(k, ".")
		switch {
		case s != section:
			if section != "" {
				b.WriteString("\n")
			}
			section = s
			b.WriteString("  " + s + ": " + name)
			line = 4 + len(s) + len(name)
		case line+2+len(name) > 76:
			b.WriteString(",\n    " + name)
			line = 4 + len(name)
		default:
			b.WriteString(", " + name)
			line += 2 + len(name)
		}
	}
	return b.String()
}

// completeKey completes the KEY argument from the settings kith knows.
func completeKey(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, k := range node.ConfigKeys() {
		if strings.HasPrefix(k, toComplete) {
			out = append(out, k)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// configChanged reports a changed setting. A running daemon is asked to
// take it now (the caps, the cache bound and the space offered to groups
// change live); for any other
// setting it goes on with the old value until restarted.
func (e *env) configChanged(ctx context.Context, v node.ConfigValue) error {
	running, err := node.RepoInUse(e.repo)
	if err != nil {
		return err
	}
	applied := false
	if running {
		if c, err := e.client(); err == nil {
			res, err := c.ApplyConfig(ctx, v.Key)
			applied = err == nil && res.Applied
		}
	}
	if e.json {
		return e.printJSON(struct {
			node.ConfigValue
			Applied       bool `json:"applied"`
			RestartNeeded bool `json:"restart_needed"`
		}{v, applied, running && !applied})
	}
	text := v.Text()
	if strings.Contains(text, "\n") {
		text = string(v.Value) // a list, on one line
	}
	fmt.Fprintf(e.stdout, "%s = %s\n", v.Key, printable(text))
	switch {
	case applied:
		fmt.Fprintln(e.stdout, "the running daemon uses it now")
	case running:
		fmt.Fprintln(e.stdout, restartNote)
	}
	return nil
}

// printLines prints text line by line, each made printable.
func (e *env) printLines(text string) {
	for l := range strings.SplitSeq(text, "\n") {
		fmt.Fprintln(e.stdout, printable(l))
	}
}
