package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

// printInvite prints a new invite: the token alone on stdout, what it
// allows and how to pass it on stderr.
func (e *env) printInvite(inv api.GroupInvite) {
	uses := "any number of devices"
	if inv.Invite.Uses > 0 {
		uses = fmt.Sprintf("%d device%s", inv.Invite.Uses, plural(inv.Invite.Uses))
	}
	fmt.Fprintf(e.stderr, "The token admits %s until %s (invite %s), while this device is online.\n",
		uses, inv.Invite.Expires.Local().Format("2006-01-02 15:04"), inv.Invite.ID)
	fmt.Fprintln(e.stderr, "WARNING: until then it is a password: whoever has it can join and read what the group shares.")
	fmt.Fprintln(e.stderr, "Send it privately; the other device runs 'kith group join' and pastes it when asked.")
	fmt.Fprintln(e.stdout, inv.Token)
}

// parseTTL reads an invite's lifetime: 7d, 36h, 90m.
func parseTTL(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--expires %q: give days (7d), hours (36h) or minutes (90m)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	t, err := time.ParseDuration(s)
	if err != nil || t <= 0 {
		return 0, fmt.Errorf("--expires %q: give days (7d), hours (36h) or minutes (90m)", s)
	}
	return t, nil
}

// inviteCmd is `kith group invite [NAME] [--expires 7d] [--single-use | --uses N]`.
func inviteCmd(e *env) *cobra.Command {
	var (
		expires   string
		uses      int
		singleUse bool
	)
	cmd := &cobra.Command{
		Use:   "invite [NAME]",
		Short: "Make an invite token for a group (it expires)",
		Long: `Make a new invite token for a group you are in. The token holds no group
key: the device that joins shows it to this device, which hands over the
group key while the invite is open. So this device must be online (kith
daemon running) when the token is used, and the token stops working when it
expires (7 days by default), when it was used as often as allowed, or when
you revoke it ('kith group invites NAME --revoke ID'). NAME may be left
out when this device is in one group.`,
		Example: "  kith group invite family\n  kith group invite family --single-use --expires 1d",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl, err := parseTTL(expires)
			if err != nil {
				return err
			}
			if singleUse {
				if cmd.Flags().Changed("uses") && uses != 1 {
					return fmt.Errorf("--single-use and --uses %d disagree: give one of them", uses)
				}
				uses = 1
			}
			if uses < 0 {
				return fmt.Errorf("--uses %d: give a number of devices, or 0 for any", uses)
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			name, err := groupArg(cmd, c, args)
			if err != nil {
				return err
			}
			inv, err := c.GroupInvite(cmd.Context(), name, ttl, uses)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(inv)
			}
			e.printInvite(inv)
			return nil
		},
	}
	cmd.Flags().StringVar(&expires, "expires", "7d", "how long the token works: days (7d), hours (36h) or minutes (90m); at most 365d")
	cmd.Flags().IntVar(&uses, "uses", 0, "how many devices may join with it (0: any number until it expires)")
	cmd.Flags().BoolVar(&singleUse, "single-use", false, "the token admits one device (--uses 1)")
	return cmd
}

// invitesCmd is `kith group invites [NAME] [--revoke ID|all]`.
func invitesCmd(e *env) *cobra.Command {
	var revoke string
	cmd := &cobra.Command{
		Use:   "invites [NAME]",
		Short: "List the invites this device made for a group, or revoke them",
		Long: `List the invites this device made for a group (made, expires, used, open,
revoked or expired), or revoke one by its ID (or the start of it), or every
open one with --revoke all. NAME may be left out when this device is in one
group.`,
		Example: "  kith group invites family\n  kith group invites family --revoke 3fa2\n  kith group invites family --revoke all",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			name, err := groupArg(cmd, c, args)
			if err != nil {
				return err
			}
			if revoke != "" {
				n, err := c.GroupRevokeInvites(cmd.Context(), name, revoke)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(map[string]int{"revoked": n})
				}
				fmt.Fprintf(e.stdout, "revoked %d invite%s\n", n, plural(n))
				return nil
			}
			invs, err := c.GroupInvites(cmd.Context(), name)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(invs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMADE\tEXPIRES\tUSED\tSTATE")
			for _, inv := range invs {
				used := fmt.Sprintf("%d of any", inv.Used)
				if inv.Uses > 0 {
					used = fmt.Sprintf("%d of %d", inv.Used, inv.Uses)
				}
				state := "open"
				switch {
				case inv.Revoked:
					state = "revoked"
				case !inv.Open && time.Now().After(inv.Expires):
					state = "expired"
				case !inv.Open:
					state = "used up"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", inv.ID, inv.Created.Local().Format("2006-01-02 15:04"), inv.Expires.Local().Format("2006-01-02 15:04"), used, state)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&revoke, "revoke", "", "revoke the open invite whose ID starts with this (4+ characters), or all")
	return cmd
}
