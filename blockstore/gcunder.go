package blockstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// CollectUnder deletes the stored blocks under roots that no pin and no
// hold reaches: a gc of those DAGs only (what one finished download
// fetched, say), which leaves every other unpinned block alone (a download
// cut short keeps what it has). The locking, the holds and the store's
// reclaim are CollectGarbage's; progress reports the same phases.
func CollectUnder(ctx context.Context, bs Blockstore, pins PinStore, lk *GCLocker, roots []cid.Cid, progress func(GCProgress)) (GCResult, error) {
	if progress == nil {
		progress = func(GCProgress) {}
	}
	var res GCResult
	pinned, kept, end, err := beginGC(ctx, bs, pins, lk, &res, progress)
	defer end()
	if err != nil {
		return res, err
	}
	under, err := storedUnder(ctx, bs, roots)
	if err != nil {
		return res, err
	}
	doomed := under[:0]
	for _, c := range under {
		if pinned.has(c) || kept.has(c) {
			res.Kept++
		} else {
			doomed = append(doomed, c)
		}
	}
	if err := deleteDoomed(ctx, bs, len(pinned.marked), kept, lk, doomed, &res, progress); err != nil || res.Removed == 0 {
		return res, err
	}
	return res, reclaim(ctx, bs, len(pinned.marked), &res, progress)
}

// storedUnder lists the blocks of the DAGs under roots, each once: those
// the store holds, and raw leaves (not read to be listed; one not stored
// is skipped when deleted). A block whose links cannot be read ends its
// branch: what is below it is not known to be this DAG's.
func storedUnder(ctx context.Context, bs Blockstore, roots []cid.Cid) ([]cid.Cid, error) {
	seen := map[string]bool{}
	var out []cid.Cid
	stack := append([]cid.Cid(nil), roots...)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Prefix().MhType == multihash.IDENTITY || seen[string(c.Hash())] {
			continue
		}
		seen[string(c.Hash())] = true
		if c.Type() == cid.Raw {
			out = append(out, c)
			continue
		}
		b, err := bs.Get(ctx, c)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gc: list %s: %w", c, err)
		}
		out = append(out, c)
		if links, err := Links(b); err == nil {
			stack = append(stack, links...)
		}
	}
	return out, nil
}
