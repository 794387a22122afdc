package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// Shell completion of what only the daemon knows: the names of pins and
// the paths inside them, groups, what a group shares, its members,
// mirrored and watched folders. The script `kith completion bash|zsh|fish`
// prints runs `kith __complete ...` at each TAB; these functions ask the
// running daemon, within completeWait, and never start one: with no daemon
// running they offer nothing (not the shell's file names, which these
// arguments never are).

// completeWait bounds what one TAB waits for the daemon.
const completeWait = 2 * time.Second

// completer lists the candidates for toComplete, the word being typed,
// after args.
type completer func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective)

// completions says which commands complete their arguments with what, by
// command path.
func (e *env) completions() map[string]cobra.CompletionFunc {
	refs := e.complete(onlyFirst(completeRef))
	groups := e.complete(onlyFirst(completeGroup))
	mirrors := e.complete(onlyFirst(completeMirror))
	watches := e.complete(onlyFirst(completeWatch))
	folders := e.complete(onlyFirst(completeFolder))
	// mirror add NAME PATH: PATH is a folder of this machine, completed
	// by the shell with or without a daemon.
	mirrorAdd := func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 1 {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
		return e.complete(completeMirrorAdd)(cmd, args, toComplete)
	}
	return map[string]cobra.CompletionFunc{
		"kith get": refs, "kith cat": refs, "kith ls": refs, "kith export": refs,
		"kith pin rm": refs, "kith unshare": refs, "kith status": refs, "kith dht findprovs": refs,
		"kith group leave": groups, "kith group members": groups, "kith group invite": groups, "kith group invites": groups,
		"kith group remove": e.complete(completeMember),
		"kith mirror rm":    mirrors, "kith mirror revert": mirrors,
		"kith mirror pause": folders, "kith mirror resume": folders, "kith mirror changes": folders,
		"kith watch pause": folders, "kith watch resume": folders, "kith watch changes": folders,
		"kith mirror add": mirrorAdd,
		"kith watch rm":   watches,
	}
}

// addCompletions sets the completion of every command completions names,
// and of every --group flag. It panics on a command path that is not in
// the tree (a command renamed without its completion).
func (e *env) addCompletions(root *cobra.Command) {
	left := e.completions()
	groups := e.complete(func(ctx context.Context, c *client.Client, _ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return completeGroup(ctx, c, nil, nil, toComplete)
	})
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if f, ok := left[cmd.CommandPath()]; ok {
			cmd.ValidArgsFunction = f
			delete(left, cmd.CommandPath())
		}
		if cmd.LocalNonPersistentFlags().Lookup("group") != nil {
			_ = cmd.RegisterFlagCompletionFunc("group", groups)
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for path := range left {
		panic("completion of " + path + ", a command that does not exist")
	}
}

// complete makes f a cobra completion: asked of the running daemon, or
// nothing when none runs or it does not answer in time.
func (e *env) complete(f completer) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		c, err := e.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), completeWait)
		defer cancel()
		out, dir := f(ctx, c, cmd, args, toComplete)
		if ctx.Err() != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return out, dir
	}
}

// onlyFirst completes the first argument with f, and nothing after it.
func onlyFirst(f completer) completer {
	return func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(ctx, c, cmd, args, toComplete)
	}
}

// candidate is one completion: what is typed, and a few words about it
// (zsh and fish show them).
type candidate struct{ word, about string }

// matching returns the candidates that start with prefix, each once, in
// order, and the directive: no space after a folder's path, which ends in
// /, so that the next TAB goes on inside it.
func matching(prefix string, cs []candidate) ([]cobra.Completion, cobra.ShellCompDirective) {
	dir := cobra.ShellCompDirectiveNoFileComp
	var out []cobra.Completion
	seen := map[string]bool{}
	for _, c := range cs {
		if !strings.HasPrefix(c.word, prefix) || seen[c.word] {
			continue
		}
		seen[c.word] = true
		if strings.HasSuffix(c.word, "/") {
			dir |= cobra.ShellCompDirectiveNoSpace
		}
		if c.about == "" {
			out = append(out, c.word)
		} else {
			out = append(out, cobra.CompletionWithDesc(c.word, c.about))
		}
	}
	return out, dir
}

// completeRef completes what get, cat, ls and the commands that take a
// CID take: the name of a pin (its CID when it has none), or with --group
// the name the group shares something as; past a /, the paths inside it.
func completeRef(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	group := ""
	if f := cmd.Flags().Lookup("group"); f != nil {
		group = f.Value.String()
	}
	if i := strings.LastIndex(toComplete, "/"); i >= 0 {
		return completePath(ctx, c, group, toComplete[:i+1], toComplete)
	}
	if group != "" {
		sts, err := groupShares(ctx, c, group)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cs := make([]candidate, len(sts))
		for i, st := range sts {
			cs[i] = candidate{st.Name, humanBytes(st.Size)}
		}
		return matching(toComplete, cs)
	}
	pins, err := c.Pins(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, 0, len(pins))
	for _, p := range pins {
		about := humanBytes(int64(p.Size))
		if p.Replica {
			about += ", kept for " + p.Group
		}
		cs = append(cs, candidate{cmp.Or(p.Name, p.Cid), about})
	}
	return matching(toComplete, cs)
}

// completePath completes a path inside a pin, a CID or (group) a group's
// share: dir is what is typed up to its last /, which names the folder
// whose entries are offered.
func completePath(ctx context.Context, c *client.Client, group, dir, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	folder := strings.TrimSuffix(dir, "/")
	var ref string
	var err error
	switch _, perr := parseCID(folder); {
	case group != "":
		ref, _, _, err = groupShareRef(ctx, c, group, folder)
	case perr == nil:
		ref = folder
	default:
		var notRef notRefError
		if !errors.As(perr, &notRef) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ref, _, err = pinNamed(ctx, c, folder, notRef)
	}
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	es, err := c.Ls(ctx, ref)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, len(es))
	for i, en := range es {
		switch en.Type {
		case "dir":
			cs[i] = candidate{dir + en.Name + "/", "folder"}
		case "symlink":
			cs[i] = candidate{dir + en.Name, "link to " + en.Target}
		default:
			cs[i] = candidate{dir + en.Name, humanBytes(int64(en.Size))}
		}
	}
	return matching(toComplete, cs)
}

// groupShares lists what group (its name or ID) shares, newest first.
func groupShares(ctx context.Context, c *client.Client, group string) ([]api.GroupStatus, error) {
	gs, err := c.Groups(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(gs, func(g api.Group) bool { return g.Name == group || g.ID == group })
	if i < 0 {
		return nil, fmt.Errorf("no group %s", group)
	}
	sts, err := c.GroupStatuses(ctx)
	if err != nil {
		return nil, err
	}
	sts = slices.DeleteFunc(sts, func(st api.GroupStatus) bool { return st.Group != gs[i].Name })
	slices.SortStableFunc(sts, func(a, b api.GroupStatus) int { return b.Created.Compare(a.Created) })
	return sts, nil
}

// completeGroup completes the name of one of your groups.
func completeGroup(ctx context.Context, c *client.Client, _ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	gs, err := c.Groups(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, len(gs))
	for i, g := range gs {
		cs[i] = candidate{g.Name, fmt.Sprintf("%d member%s", g.Members, plural(g.Members))}
	}
	return matching(toComplete, cs)
}

// completeMember completes group remove GROUP MEMBER: a group, then one
// of its other members, by name, or by peer ID where the name is not
// one member's alone.
func completeMember(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return completeGroup(ctx, c, cmd, args, toComplete)
	case 1:
		ms, err := c.GroupMembers(ctx, args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		named := map[string]int{}
		for _, m := range ms {
			named[m.Name]++
		}
		var cs []candidate
		for _, m := range ms {
			switch {
			case m.Self:
			case m.Name != "" && named[m.Name] == 1:
				cs = append(cs, candidate{m.Name, m.Health})
			default: // two devices of one name (remove refuses it): its ID
				cs = append(cs, candidate{m.Peer, cmp.Or(m.Name, "no name") + ", " + m.Health})
			}
		}
		return matching(toComplete, cs)
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeMirror completes the path of a folder that follows a share.
func completeMirror(ctx context.Context, c *client.Client, _ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ms, err := c.GroupMirrors(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, len(ms))
	for i, m := range ms {
		cs[i] = candidate{m.Path, m.Name + " of " + m.Group}
	}
	return matching(toComplete, cs)
}

// completeWatch completes the path of a watched folder.
func completeWatch(ctx context.Context, c *client.Client, _ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ws, err := c.GroupWatches(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, len(ws))
	for i, w := range ws {
		cs[i] = candidate{w.Path, "shared in " + w.Group}
	}
	return matching(toComplete, cs)
}

// completeFolder completes the path of a folder that follows a group's
// share or is shared as it changes (pause, resume and changes take both).
func completeFolder(ctx context.Context, c *client.Client, _ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var cs []candidate
	if ms, err := c.GroupMirrors(ctx); err == nil {
		for _, m := range ms {
			cs = append(cs, candidate{m.Path, m.Name + " of " + m.Group})
		}
	}
	if ws, err := c.GroupWatches(ctx); err == nil {
		for _, w := range ws {
			cs = append(cs, candidate{w.Path, "shared in " + w.Group}) // a synced folder's: its mirror's first
		}
	}
	return matching(toComplete, cs)
}

// completeMirrorAdd completes the NAME of mirror add NAME PATH: what the
// group (--group, else each of yours) shares.
func completeMirrorAdd(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var sts []api.GroupStatus
	var err error
	if group := cmd.Flags().Lookup("group").Value.String(); group != "" {
		sts, err = groupShares(ctx, c, group)
	} else {
		sts, err = c.GroupStatuses(ctx)
	}
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs := make([]candidate, len(sts))
	for i, st := range sts {
		cs[i] = candidate{st.Name, "shared in " + st.Group}
	}
	return matching(toComplete, cs)
}
