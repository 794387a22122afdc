package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// groupCmd is `kith group`: create, join, ls, members, leave.
func groupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Groups of devices that keep copies of what you share (create, invite, join, ls, members, remove, leave)",
		Long: `A group is a set of devices (yours, or a team's) that keep N copies of
whatever a member shares with 'kith share --group NAME --copies N', with no
server and no coordinator. Each member offers part of its free disk.`,
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a group and print its invite token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			inv, err := c.GroupCreate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(inv)
			}
			fmt.Fprintf(e.stderr, "created group %s (%s). Invite others with the token below.\n", printable(inv.Name), inv.ID)
			e.printInvite(inv)
			return nil
		},
	}
	join := &cobra.Command{
		Use:   "join [TOKEN]",
		Short: "Join a group with an invite token (asked for, unechoed, when not given)",
		Long: `Join a group with the invite token a member gave you (kith group create
prints it). Without TOKEN, or with -, the token is read from stdin: on a
terminal kith asks for it and does not echo it. Prefer that: a token given
as an argument is visible to other users of this machine and stays in your
shell history.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok := "-"
			if len(args) == 1 {
				tok = args[0]
			}
			if tok != "-" {
				// Too late to hide it now, but say so: the token is the
				// group's password, and any local user can read argv.
				fmt.Fprintln(e.stderr, "warning: a token given as an argument is visible to other users of this machine (ps) and stays in your shell history; next time run 'kith group join' and paste it when asked")
			}
			if tok == "-" {
				line, err := e.readSecret("Paste the invite token (it is not shown), then Enter: ")
				if err != nil {
					return err
				}
				if strings.TrimSpace(line) == "" {
					return fmt.Errorf("no invite token given: paste the token that 'kith group create' printed")
				}
				tok = line
			}
			tok = strings.TrimSpace(tok)
			c, err := e.client()
			if err != nil {
				return err
			}
			g, err := c.GroupJoin(cmd.Context(), tok)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(g)
			}
			fmt.Fprintf(e.stdout, "joined group %s (%s): %d members\n", printable(g.Name), g.ID, g.Members)
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List your groups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			gs, err := c.Groups(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(gs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			var removed []api.Group
			header := false
			for _, g := range gs {
				if g.Removed != "" {
					removed = append(removed, g)
					continue
				}
				if !header {
					fmt.Fprintln(tw, "NAME\tID\tMEMBERS\tSHARED\tREPLICAS\tOFFERED")
					header = true
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d (%s)\t%s\n", printable(g.Name), g.ID, g.Members, g.Intents, g.Replicas, humanBytes(g.ReplicaBytes), humanBytes(g.Budget))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(gs) == 0 {
				fmt.Fprintln(e.stdout, "you are in no group: 'kith group create NAME' makes one, 'kith group join' joins one")
			}
			for _, g := range removed {
				fmt.Fprintf(e.stdout, "this device was %s (kith group leave %s clears this)\n", printable(g.Removed), printable(g.Name))
			}
			return nil
		},
	}
	members := &cobra.Command{
		Use:   "members [NAME]",
		Short: "List a group's members: name, health, last seen, space offered and used",
		Long: `List a group's members as this device sees them: name, health, when it
last heard from each, the space each offers the group and uses for it. NAME
may be left out when this device is in one group.

HEALTH is what each member's heartbeats say:
  alive    heard within the last few heartbeats
  offline  its daemon stopped and said so; its copies still count
  suspect  silent for a while (asleep, or on a bad network); its copies still count
  gone     silent past the group's grace period (groups.grace): others take its copies`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			name, err := groupArg(cmd, c, args)
			if err != nil {
				return err
			}
			ms, err := c.GroupMembers(cmd.Context(), name)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ms)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tNAME\tHEALTH\tLAST SEEN\tOFFERED\tUSED")
			for _, m := range ms {
				name := printable(m.Name)
				if m.Self {
					name += " (this device)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Peer, name, m.Health, ago(m.LastSeen), humanBytes(m.Budget), humanBytes(m.Used))
			}
			return tw.Flush()
		},
	}
	leave := &cobra.Command{
		Use:   "leave NAME",
		Short: "Leave a group (your copies of others' content go at the next gc)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if err := c.GroupLeave(cmd.Context(), args[0]); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"group": args[0]})
			}
			fmt.Fprintf(e.stdout, "left group %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, join, ls, members, leave, renameMeCmd(e), removeCmd(e), inviteCmd(e), invitesCmd(e))
	return cmd
}

// removeCmd is `kith group remove GROUP MEMBER`.
func removeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove GROUP MEMBER",
		Short: "Remove another device from a group (a lost laptop, someone who left for good)",
		Long: `Remove another member from a group: MEMBER is its name, if only one member
has it, or its peer ID (or the end of it) from 'kith group members'.

The removal is signed by this device and reaches every member: the removed
device stops being counted for copies (what it kept is placed on other
members), current members stop talking to it, and it cannot come back with
an old invite token. It is told at its next sync with any member, drops its
copies of the group's content and shows the group as removed.

The group also moves to a new key, which members hand only to each other:
the removed device cannot read what is shared after the removal. Content
shared before it stays readable to it where it already has a copy. To go
yourself, use 'kith group leave'.`,
		Example: "  kith group remove family \"old laptop\"\n  kith group remove family 12D3KooWQm",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			m, err := c.GroupRemove(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(m)
			}
			fmt.Fprintf(e.stdout, "removed %s from group %s; its copies will be placed on other members\n", printable(node.MemberLabel(m.Name, m.Peer)), printable(args[0]))
			return nil
		},
	}
}

// renameMeCmd is `kith group rename-me NAME [--group G]`.
func renameMeCmd(e *env) *cobra.Command {
	var groupName string
	cmd := &cobra.Command{
		Use:   "rename-me NAME",
		Short: "Choose the name this device goes by in your groups (default: its hostname)",
		Long: `Choose the name other members see for this device, instead of its hostname
("vm", "laptop"...), so that status and member lists tell your devices apart.
Without --group it applies to every group you are in and to those you join later.`,
		Example: "  kith group rename-me \"anna's laptop\"\n  kith group rename-me nas --group family",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			res, err := c.GroupRenameMe(cmd.Context(), args[0], groupName)
			if e.json && err == nil {
				return e.printJSON(res)
			}
			if len(res.Groups) > 0 {
				fmt.Fprintf(e.stdout, "this device is now %q in %s\n", res.Name, strings.Join(res.Groups, ", "))
			} else if err == nil {
				fmt.Fprintf(e.stdout, "this device will be %q in the groups it joins\n", res.Name)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&groupName, "group", "", "rename in this group only")
	return cmd
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

// shareCmd is `kith share PATH --group NAME --copies N`: add, then share.
func shareCmd(e *env) *cobra.Command {
	var (
		groupName string
		copies    int
		recursive bool
		replace   bool
		exclude   []string
	)
	cmd := &cobra.Command{
		Use:   "share PATH",
		Short: "Add a file or folder and keep N copies of it in a group",
		Long: `Add a file or a folder (a folder always whole, with everything in it,
hidden files included, except what --exclude names) and share it in a
group: the group keeps N copies of it among its members.

Sharing a folder again after it changed shares the new version beside the
old one (each keeps its own CID); --replace has the group stop keeping the
earlier versions of the same name. Your own pins of them stay.`,
		Example: "  kith share ./photos --group family --copies 3\n  kith share ./photos --group family --replace   # after photos changed",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if groupName == "" {
				if groupName, err = onlyGroup(cmd.Context(), c, "--group NAME"); err != nil {
					return err
				}
			}
			p := e.newProgress("adding", true)
			res, err := c.AddPath(cmd.Context(), args[0], true, api.AddOptions{Exclude: exclude}, p.event)
			p.done()
			if err != nil {
				return err
			}
			in, err := c.GroupShare(cmd.Context(), groupName, res.Cid, api.ShareOptions{Copies: copies, Replace: replace})
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(in)
			}
			fmt.Fprintf(e.stdout, "shared %s %s (%s) in %s: %s\n", in.Cid, printable(in.Name), humanBytes(in.Size), printable(in.Group), copiesText(in.Copies))
			if in.Members > 0 && in.Members < in.Copies {
				copies := "copies"
				if in.Members == 1 {
					copies = "copy"
				}
				fmt.Fprintf(e.stdout, "note: %s has %d member%s, so it keeps %d %s until more join\n",
					printable(in.Group), in.Members, plural(in.Members), in.Members, copies)
			}
			e.printVersions(cmd.Context(), c, in)
			return nil
		},
	}
	cmd.Flags().StringVar(&groupName, "group", "", "the group to share in (may be left out when you are in one group)")
	cmd.Flags().IntVar(&copies, "copies", 2, "how many members keep a copy")
	cmd.Flags().BoolVar(&replace, "replace", false, "stop keeping the group's earlier shares of the same name (the older versions of a folder shared again)")
	excludeFlag(cmd, &exclude)
	// Folders are always shared whole; -r stays accepted for scripts
	// written when it was needed.
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "(no longer needed: a folder is always shared whole)")
	_ = cmd.Flags().MarkHidden("recursive")
	return cmd
}

// unshareCmd is `kith unshare CID --group NAME`.
func unshareCmd(e *env) *cobra.Command {
	var groupName string
	cmd := &cobra.Command{
		Use:   "unshare CID",
		Short: "Stop keeping copies of content in a group (your own pin stays)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			if groupName == "" {
				if groupName, err = sharingGroup(cmd.Context(), c, id); err != nil {
					return err
				}
			}
			if err := c.GroupUnshare(cmd.Context(), groupName, id); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"group": groupName, "cid": id})
			}
			fmt.Fprintf(e.stdout, "unshared %s in %s: your own pin stays; the other members drop their copies once the group's release delay has passed (groups.release_delay)\n", id, groupName)
			return nil
		},
	}
	cmd.Flags().StringVar(&groupName, "group", "", "the group to unshare in (may be left out when one group shares it)")
	return cmd
}

// groupArg is the group cmd names as its argument, or when it names none
// (args is empty) the one group this device is in.
func groupArg(cmd *cobra.Command, c *client.Client, args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	return onlyGroup(cmd.Context(), c, "`"+cmd.CommandPath()+" NAME`")
}

// onlyGroup is the group meant when none was named: the one group this
// device is in. how says how to name one (a flag or an argument).
func onlyGroup(ctx context.Context, c *client.Client, how string) (string, error) {
	gs, err := c.Groups(ctx)
	if err != nil {
		return "", err
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = printable(g.Name)
	}
	switch len(gs) {
	case 0:
		return "", errors.New("this device is in no group yet: create one with `kith group create NAME`, or join one with `kith group join`")
	case 1:
		return gs[0].Name, nil
	}
	return "", fmt.Errorf("say which group with %s: this device is in %s", how, strings.Join(names, ", "))
}

// sharingGroup is the group to unshare in when none was named: the one
// group that shares id.
func sharingGroup(ctx context.Context, c *client.Client, id string) (string, error) {
	sts, err := c.GroupStatus(ctx, id)
	if err != nil {
		return "", err
	}
	names := make([]string, len(sts))
	for i, st := range sts {
		names[i] = printable(st.Group)
	}
	switch len(sts) {
	case 0: // the daemon says so in an error; this is for an older one
		return "", fmt.Errorf("%s is not shared in any of your groups (`kith status` lists what is)", id)
	case 1:
		return sts[0].Group, nil
	}
	return "", fmt.Errorf("%s is shared in %s: say which with --group NAME", id, strings.Join(names, ", "))
}

// copiesText is "1 copy", "2 copies".
func copiesText(n int) string {
	if n == 1 {
		return "1 copy"
	}
	return fmt.Sprintf("%d copies", n)
}

// statusCmd is `kith status CID`: who holds it in each group, and why not.
func statusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status [CID]",
		Short: "Show what your groups share and how many copies each has (one CID: who holds it, and why copies are missing)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return statusAll(cmd.Context(), e)
			}
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			sts, err := c.GroupStatus(cmd.Context(), id)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(sts)
			}
			for _, st := range sts {
				fmt.Fprintf(e.stdout, "%s in %s: %s, %s wanted", st.Cid, st.Group, st.State, copiesText(st.Copies))
				if st.Reason != "" {
					fmt.Fprintf(e.stdout, " (%s)", printable(st.Reason))
				}
				fmt.Fprintln(e.stdout)
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				for _, h := range st.Holders {
					name := printable(h.Name)
					if h.Self {
						name += " (this device)"
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s", h.Peer, name, h.State)
					if h.Reason != "" { // no empty last cell: tabwriter would pad it with spaces
						fmt.Fprintf(tw, "\t%s", printable(h.Reason))
					}
					fmt.Fprintln(tw)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// statusAll is `kith status` with no CID: every share of every group, one
// line each, with the copies held against those wanted.
func statusAll(ctx context.Context, e *env) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	sts, err := c.GroupStatuses(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(sts)
	}
	if len(sts) == 0 {
		fmt.Fprintln(e.stdout, "nothing is shared in your groups yet: 'kith share PATH --group NAME --copies N' shares a file or folder")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tGROUP\tCOPIES\tSTATE\tCID")
	for _, st := range sts {
		held := 0
		for _, h := range st.Holders {
			if h.State == "held" {
				held++
			}
		}
		state := st.State
		if st.Reason != "" {
			state += " (" + printable(st.Reason) + ")"
		}
		name := printable(st.Name)
		if name == "" {
			name = "(no name)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%s\t%s\n", name, printable(st.Group), held, st.Copies, state, st.Cid)
	}
	return tw.Flush()
}

// printVersions says what a share did to the group's other shares of the
// same name: withdrawn (--replace), or kept beside it, and how to stop
// keeping them.
func (e *env) printVersions(ctx context.Context, c *client.Client, in api.GroupIntent) {
	line := func(v api.SharedVersion) string {
		return fmt.Sprintf("  %s  %s  shared %s\n", v.Cid, humanBytes(v.Size), ago(v.Created))
	}
	name, group := printable(in.Name), printable(in.Group)
	if len(in.Replaced) > 0 {
		fmt.Fprintf(e.stdout, "%s no longer keeps the earlier %s (its members release their copies):\n", group, name)
		var mine []string
		pinned := map[string]bool{}
		if pins, err := c.Pins(ctx); err == nil {
			for _, p := range pins {
				pinned[p.Cid] = !p.Replica
			}
		}
		for _, v := range in.Replaced {
			fmt.Fprint(e.stdout, line(v))
			if pinned[v.Cid] {
				mine = append(mine, v.Cid)
			}
		}
		if len(mine) > 0 {
			fmt.Fprintln(e.stdout, "your own pin stays on this device; to free the space:")
			for _, c := range mine {
				fmt.Fprintf(e.stdout, "  kith pin rm %s\n", c)
			}
		}
	}
	if len(in.Earlier) > 0 {
		versions := "an earlier version"
		if len(in.Earlier) > 1 {
			versions = fmt.Sprintf("%d earlier versions", len(in.Earlier))
		}
		fmt.Fprintf(e.stdout, "note: %s also keeps %s of %s:\n", group, versions, name)
		for _, v := range in.Earlier {
			fmt.Fprint(e.stdout, line(v))
		}
		fmt.Fprintf(e.stdout, "to keep only this one, share it again with --replace (or 'kith unshare CID --group %s')\n", group)
	}
}
