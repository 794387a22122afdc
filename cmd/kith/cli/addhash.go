package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// hashed is what `kith add --only-hash` prints of one path.
type hashed struct {
	Cid  string `json:"cid"`
	Name string `json:"name"`
	Size uint64 `json:"size"`
}

// hashOnly prints the CID each path (or, with opts.Wrap, all of them as
// one folder) would have if added, reading them here and storing nothing
// (Kubo's add --only-hash): no daemon is needed. What an add leaves out
// (opts.Exclude, a folder's .kithignore, the repo, special files, and with
// opts.SkipUnreadable what may not be read) is left out too, so the CID is
// the one add would print.
func (e *env) hashOnly(ctx context.Context, paths []string, recursive bool, opts api.AddOptions, quiet bool) error {
	exclude, err := dag.NewExclusion(opts.Exclude)
	if err != nil {
		return err
	}
	if repo, err := filepath.Abs(e.repo); err == nil {
		exclude = exclude.WithoutFolder(repo)
	}
	var groups [][]string
	if opts.Wrap != "" {
		groups = [][]string{paths}
	} else {
		for _, p := range paths {
			groups = append(groups, []string{p})
		}
	}
	for _, group := range groups {
		var node files.Node
		var unread dag.Unread
		name := opts.Name
		if len(group) == 1 && group[0] == "-" {
			node, name = files.NewReaderFile(e.stdin), stdinName(opts.Name)
		} else {
			for _, p := range group {
				if err := client.CheckAddPath(p, recursive); err != nil {
					return err
				}
			}
			var opened string
			x := exclude
			if opts.SkipUnreadable {
				x = x.LeavingUnreadable(&unread)
			}
			if node, opened, err = dag.OpenAdd(absPaths(group), opts.Wrap, x); err != nil {
				return fmt.Errorf("add %s: %w", opened, err)
			}
			if name == "" {
				name = opened
			}
		}
		total, _ := node.Size()
		p := e.newProgress("hashing", true)
		res, err := dag.Hash(ctx, node, func(n int64) { p.event(api.Event{Type: "progress", Bytes: n, Total: total}) })
		node.Close()
		p.done()
		if err != nil {
			return skipAdvice(fmt.Errorf("hash %s: %w", name, api.Unreadable(err, "")))
		}
		h := hashed{Cid: res.Root.String(), Name: name, Size: res.Size}
		switch {
		case e.json:
			if err := e.printJSON(h); err != nil {
				return err
			}
		case quiet:
			fmt.Fprintln(e.stdout, h.Cid)
		default:
			fmt.Fprintf(e.stdout, "%s %s (%s): not added (--only-hash)\n", h.Cid, printable(h.Name), humanBytes(int64(h.Size)))
		}
		if !e.json {
			var left api.AddResult
			left.Unreadable, left.UnreadableCount = api.UnreadOf(&unread)
			e.printUnreadable(left, unreadOne, unreadMany)
		}
	}
	return nil
}

// absPaths is paths made absolute (as an add sends them to the daemon);
// a path that cannot be is left as it is, for the open to say why.
func absPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		out[i] = p
	}
	return out
}
