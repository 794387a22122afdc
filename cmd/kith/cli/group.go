package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
)

// groupCmd is `kith group`: create, join, ls, members, leave.
func groupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Groups of devices that keep copies of what you share",
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
		Short: "Join a group with an invite token",
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
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d (%s)\t%s\n", printable(g.Name), g.ID, g.Members, g.Intents, g.Replicas, humanBytes(g.ReplicaBytes), offered(g.Budget))
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
		Short: "List a group's members: health, last seen, space",
		Long: `List a group's members as this device sees them: name, health, when it
last heard from each, the space each offers the group and uses for it. NAME
may be left out when this device is in one group.

HEALTH is what each member's heartbeats say:
  alive    heard within the last few heartbeats
  offline  its daemon stopped and said so; its copies still count
  suspect  silent for a while (asleep, or on a bad network); its copies
           still count
  gone     silent past the group's grace period (groups.grace): others
           take its copies`,
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Peer, name, m.Health, ago(m.LastSeen), offered(m.Budget), humanBytes(m.Used))
			}
			return tw.Flush()
		},
	}
	leave := &cobra.Command{
		Use:   "leave NAME",
		Short: "Leave a group (your copies of others' content go at the next gc)",
		Long: `Leave a group: this device stops keeping copies for it (they go at the
next gc, unless pinned as yours) and stops hearing from it. The folders
that followed or synced with its shares, and those shared with --watch
in it, stop doing so and stay as they are (leave names them). What you
added stays pinned here. The other members see one member fewer; to take
a lost device out, use 'kith group remove' on one that stays.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			// The folders that stop following the group, named before
			// they are gone from the lists.
			var stopped, paths []string
			g := printable(args[0])
			if ms, err := c.GroupMirrors(cmd.Context()); err == nil {
				for _, m := range ms {
					if m.Group != args[0] {
						continue
					}
					how := "follows"
					if m.Sync {
						how = "syncs with"
					}
					paths = append(paths, m.Path)
					stopped = append(stopped, fmt.Sprintf("%s no longer %s %s's %s: it stays as it is", printable(m.Path), how, g, printable(m.Name)))
				}
			}
			if ws, err := c.GroupWatches(cmd.Context()); err == nil {
				for _, w := range ws {
					if w.Group == args[0] && !slices.Contains(paths, w.Path) { // a synced folder is watched too
						stopped = append(stopped, fmt.Sprintf("%s is no longer shared in %s as it changes: it stays as it is", printable(w.Path), g))
					}
				}
			}
			if err := c.GroupLeave(cmd.Context(), args[0]); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"group": args[0]})
			}
			fmt.Fprintf(e.stdout, "left group %s\n", g)
			for _, l := range stopped {
				fmt.Fprintln(e.stdout, l)
			}
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
		Short: "Remove another device from a group (a lost laptop)",
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
		Short: "Choose the name this device goes by in your groups",
		Long: `Choose the name other members see for this device, instead of its hostname
("vm", "laptop"...), so that status and member lists tell your devices apart.
Without --group it applies to every group you are in and to those you join
later.`,
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
	return agoText(time.Since(t))
}

// agoText says how long ago d was, as precisely as a person needs it:
// "just now", "40s ago", "12 min ago", "5 h ago", "3 days ago".
func agoText(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
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
		Short: "Show what your groups share and how many copies each has",
		Long: `Show what your groups share, one row each: its name, the group, the
copies kept of those asked for, its state, when it was shared and its CID
(the versions of a name together, newest first); why a share is in its
state is said under the table, once for the shares it is about (checking,
fetching, under-replicated...). Of one CID (or ticket):
which members hold it, and why copies are missing.`,
		Args: cobra.MaximumNArgs(1),
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

// reasonLines says why shares are in their states, one line per reason
// with the names of the shares it is about: a reason is a sentence, said
// under the table rather than in it, so that the table stays narrow.
func reasonLines(sts []api.GroupStatus) []string {
	var lines []string
	about := map[string][]string{}
	for _, st := range sts {
		if st.Reason == "" {
			continue
		}
		r := st.State + ": " + printable(st.Reason)
		name := printable(st.Name)
		if name == "" {
			name = "(no name)"
		}
		if _, ok := about[r]; !ok {
			lines = append(lines, r)
		}
		if !slices.Contains(about[r], name) {
			about[r] = append(about[r], name)
		}
	}
	for i, r := range lines {
		lines[i] = r + " (" + strings.Join(about[r], ", ") + ")"
	}
	return lines
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
	// The versions of one name (a folder shared again, or followed with
	// --keep) together, newest first: SHARED tells them apart.
	slices.SortStableFunc(sts, func(a, b api.GroupStatus) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Name, b.Name), b.Created.Compare(a.Created))
	})
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tGROUP\tCOPIES\tSTATE\tSHARED\tCID")
	for _, st := range sts {
		held := 0
		for _, h := range st.Holders {
			if h.State == "held" {
				held++
			}
		}
		name := printable(st.Name)
		if name == "" {
			name = "(no name)"
		}
		state := st.State
		shared := "-"
		if !st.Created.IsZero() { // an older daemon does not say
			shared = ago(st.Created)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%s\t%s\t%s\n", name, printable(st.Group), held, st.Copies, state, shared, st.Cid)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range reasonLines(sts) {
		fmt.Fprintln(e.stdout, l)
	}
	// A followed folder gone or failing leaves its share as it was: say so
	// here too, where people look at their shares.
	ws, err := c.GroupWatches(ctx)
	if err != nil {
		return nil // the table is the answer; kith watch ls says more
	}
	for _, w := range ws {
		if w.Error != "" {
			fmt.Fprintf(e.stdout, "note: %s: %s ('kith watch ls' lists followed folders)\n", printable(w.Group), printable(w.Error))
		}
	}
	// So does a folder that follows a share (get --follow).
	ms, err := c.GroupMirrors(ctx)
	if err != nil {
		return nil
	}
	for _, m := range ms {
		if m.Error != "" {
			fmt.Fprintf(e.stdout, "note: %s: %s ('kith mirror ls' lists the folders that follow a share)\n", printable(m.Group), printable(m.Error))
		}
	}
	return nil
}

// offered is the space a member offers its groups, "none" for a device
// that keeps no copies (groups.budget_percent 0).
func offered(budget int64) string {
	if budget <= 0 {
		return "none"
	}
	return humanBytes(budget)
}
