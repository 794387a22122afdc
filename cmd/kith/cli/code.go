package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/code"
)

// isCode reports whether arg is a short code, or a path inside one
// (CODE/day-1/beach.jpg), as `kith send` prints them.
func isCode(arg string) bool {
	root, _, err := dag.SplitPath(arg)
	if err != nil {
		return false
	}
	_, ok := code.Parse(root)
	return ok
}

// codeTicket is arg with its short code replaced by the ticket its sender
// gives, found through the daemon (ok false: arg is no code). It says on
// stderr that it looks, which may take up to a minute.
func (e *env) codeTicket(ctx context.Context, arg string) (string, bool, error) {
	if !isCode(arg) {
		return arg, false, nil
	}
	root, names, _ := dag.SplitPath(arg)
	root, _ = code.Parse(root) // as the sender printed it
	c, err := e.client()
	if err != nil {
		return "", true, err
	}
	if !e.json {
		fmt.Fprintf(e.stderr, "looking for the sender of %s (up to a minute)...\n", root)
	}
	t, err := c.ResolveCode(ctx, root)
	if err != nil {
		return "", true, err
	}
	return strings.Join(append([]string{t}, names...), "/"), true, nil
}
