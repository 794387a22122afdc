package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/code"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// groupShareRef resolves arg, NAME or NAME/PATH, where NAME is what the
// group (by name or ID) shares something as, to the content path to fetch
// (CID or CID/PATH) and the name to save it under: what a device that lost
// its copy types, knowing the folder's name and not its CID. Of a name the
// group shares several versions of (a followed folder whose earlier
// versions are kept, a folder shared again), the newest is taken, and note
// lists the others.
func groupShareRef(ctx context.Context, c *client.Client, group, arg string) (ref, name, note string, err error) {
	gs, err := c.Groups(ctx)
	if err != nil {
		return "", "", "", err
	}
	var g *api.Group
	for i := range gs {
		if gs[i].Name == group || gs[i].ID == group {
			g = &gs[i]
			break
		}
	}
	if g == nil {
		return "", "", "", fmt.Errorf("you are in no group called %s ('kith group ls' lists yours)", printable(group))
	}
	share, rest, _ := strings.Cut(strings.Trim(arg, "/"), "/")
	sts, err := c.GroupStatuses(ctx)
	if err != nil {
		return "", "", "", err
	}
	var found []api.GroupStatus
	for _, st := range sts {
		if st.Group == g.Name && st.Name == share {
			found = append(found, st)
		}
	}
	if len(found) == 0 {
		return "", "", "", noShareNamed(g.Name, share, sts)
	}
	slices.SortStableFunc(found, func(a, b api.GroupStatus) int { return b.Created.Compare(a.Created) }) // newest first
	if len(found) > 1 {
		others := make([]string, len(found)-1)
		for i, st := range found[1:] {
			others[i] = fmt.Sprintf("%s (%s, %s)", st.Cid, humanBytes(st.Size), ago(st.Created))
		}
		note = fmt.Sprintf("%s keeps %d versions of %s: this is the newest, shared %s; the others, newest first: %s ('kith get CID' gets one)",
			printable(g.Name), len(found), printable(share), ago(found[0].Created), strings.Join(others, ", "))
	}
	ref, name = found[0].Cid, share
	if rest != "" {
		ref += "/" + rest
		name = refName(ref)
	}
	return ref, name, note, nil
}

// noShareNamed is the error for a name group does not share (sts: every
// share this device knows of): a name that differs only in case is
// offered, and a share made a moment ago on another device may not have
// reached this one yet.
func noShareNamed(group, share string, sts []api.GroupStatus) error {
	var like []string
	for _, st := range sts {
		if st.Group == group && strings.EqualFold(st.Name, share) && !slices.Contains(like, st.Name) {
			like = append(like, st.Name)
		}
	}
	if len(like) > 0 {
		return fmt.Errorf("%s shares nothing named %s; did you mean %s?", printable(group), printable(share), printable(strings.Join(like, " or ")))
	}
	return fmt.Errorf("%s shares nothing named %s that this device has heard of (a share made a moment ago on another device reaches it within seconds; 'kith status' lists what your groups share)", printable(group), printable(share))
}

// refClient reads a content argument for get, ls and cat: with group "",
// a CID, ticket or path (checked before the daemon is asked), or a short
// code (its sender found through the daemon: the ticket it gives), else a name
// group shares something as, and a path in it (groupShareRef). It returns
// the reference, the name its content is saved under, and the client.
func (e *env) refClient(ctx context.Context, arg, group string) (ref, name string, c *client.Client, err error) {
	var notRef notRefError
	if group == "" {
		// A short code (kith send's): its sender gives the ticket.
		if t, ok, err := e.codeTicket(ctx, arg); err != nil {
			return "", "", nil, err
		} else if ok {
			arg = t
		}
	}
	if group == "" {
		if ref, err = parseCID(arg); errors.As(err, &notRef) {
			// Perhaps a pin's name: the daemon knows.
		} else if err != nil {
			return "", "", nil, err
		}
		name = refName(ref)
		e.sayLookup(ref)
	}
	if c, err = e.client(); err != nil {
		if notRef != "" {
			return "", "", nil, notRef // no daemon to ask for a pin of that name
		}
		return "", "", nil, err
	}
	if notRef != "" {
		if ref, name, err = pinNamed(ctx, c, arg, notRef); err != nil {
			return "", "", nil, err
		}
	}
	if group != "" {
		var note string
		if ref, name, note, err = groupShareRef(ctx, c, group, arg); err != nil {
			return "", "", nil, err
		}
		if note != "" {
			fmt.Fprintf(e.stderr, "note: %s\n", note)
		}
	}
	return ref, name, c, nil
}

// pinNamed reads arg (NAME or NAME/PATH), which is no CID or ticket
// (notRef says so), as the name of a pin of this repo (kith pin ls): the
// one named so, else the one named so but for case. It returns the
// reference and the name its content is saved under.
func pinNamed(ctx context.Context, c *client.Client, arg string, notRef notRefError) (ref, name string, err error) {
	root, names, err := dag.SplitPath(arg)
	if err != nil {
		return "", "", notRef
	}
	pins, err := c.Pins(ctx)
	if err != nil {
		return "", "", err
	}
	var match []api.Pin
	for _, fold := range []bool{false, true} {
		for _, p := range pins {
			if p.Name == root || fold && strings.EqualFold(p.Name, root) {
				match = append(match, p)
			}
		}
		if len(match) > 0 {
			break
		}
	}
	switch len(match) {
	case 0:
		if why, ok := code.Mistyped(root); ok {
			return "", "", fmt.Errorf("%q is no code kith send prints: %s", string(notRef), why)
		}
		return "", "", fmt.Errorf("%q is neither a CID, a kith ticket, a code nor the name of a pin of yours ('kith pin ls' lists them)", string(notRef))
	case 1:
	default:
		return "", "", fmt.Errorf("%d pins are named %s ('kith pin ls' lists them): give the CID of the one you mean", len(match), printable(root))
	}
	ref = strings.Join(append([]string{match[0].Cid}, names...), "/")
	// Saved as a ticket's name is: the name may be another member's.
	if name = ticket.CleanName(match[0].Name); name == "" || len(names) > 0 {
		name = refName(ref)
	}
	return ref, name, nil
}

// groupFlag is the --group flag of get, ls and cat.
func groupFlag(cmd *cobra.Command, group *string) {
	cmd.Flags().StringVar(group, "group", "", "read the argument as the name a group of yours shares something as (NAME or NAME/PATH; 'kith status' lists them)")
}
