package blockstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// gcProgressEvery throttles CollectGarbage's progress callback: often enough
// for a progress bar, rare enough to cost nothing.
const gcProgressEvery = 256

// GC phases reported in GCProgress.Phase.
const (
	GCPhaseMark    = "mark"    // walking pinned DAGs
	GCPhaseSweep   = "sweep"   // deleting unmarked blocks
	GCPhaseReclaim = "reclaim" // giving disk space back (Reclaimer only)
)

// GCProgress is a periodic report from CollectGarbage.
type GCProgress struct {
	Phase   string // GCPhaseMark, GCPhaseSweep or GCPhaseReclaim
	Marked  int    // blocks found reachable from pins so far
	Missing int    // pinned blocks not in the store so far
	Removed int    // blocks deleted so far
}

// GCResult summarises a CollectGarbage run.
type GCResult struct {
	Removed      int   // blocks deleted
	RemovedBytes int64 // bytes of the deleted blocks
	Kept         int   // stored blocks reachable from a pin
	Missing      int   // blocks reachable from a pin but not stored
}

// CollectGarbage deletes every block not reachable from a pin, then asks the
// store to give the space back if it is a Reclaimer.
//
// It holds lk's GCLock for mark and sweep, so adds that hold PinLock finish
// (and pin) first, and new adds wait. A nil lk is allowed only when nothing
// else writes to bs.
//
// Missing blocks do not stop GC: a pin whose DAG is partly absent (an
// interrupted fetch) still protects what is there, and the absent blocks are
// counted in GCResult.Missing. A block whose links cannot be read (unknown
// codec, undecodable dag-pb) does stop it, before anything is deleted,
// because GC cannot know what that block keeps alive.
//
// progress, if not nil, is called every few hundred blocks and at each
// phase change.
func CollectGarbage(ctx context.Context, bs Blockstore, pins PinStore, lk *GCLocker, progress func(GCProgress)) (GCResult, error) {
	if progress == nil {
		progress = func(GCProgress) {}
	}
	var res GCResult
	if lk != nil {
		unlock := lk.GCLock()
		defer unlock()
	}

	marked, err := markPinned(ctx, bs, pins, &res, progress)
	if err != nil {
		return res, err
	}
	if err := sweep(ctx, bs, marked, &res, progress); err != nil {
		return res, err
	}

	if r, ok := bs.(Reclaimer); ok {
		progress(GCProgress{Phase: GCPhaseReclaim, Marked: len(marked), Missing: res.Missing, Removed: res.Removed})
		if err := r.Reclaim(ctx); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
	}
	return res, nil
}

// markPinned returns the multihashes (as strings) of every block reachable
// from a pin. Keying by multihash matches the stores, so a DAG linked by
// CIDv0 protects blocks AllKeys reports as CIDv1.
func markPinned(ctx context.Context, bs Blockstore, pins PinStore, res *GCResult, progress func(GCProgress)) (map[string]struct{}, error) {
	ps, err := pins.Pins(ctx)
	if err != nil {
		return nil, fmt.Errorf("gc: list pins: %w", err)
	}
	marked := make(map[string]struct{})
	report := func() {
		progress(GCProgress{Phase: GCPhaseMark, Marked: len(marked), Missing: res.Missing})
	}
	report()
	stack := make([]cid.Cid, 0, len(ps))
	for _, p := range ps {
		stack = append(stack, p.Cid)
	}
	// Depth-first with an explicit stack: DAGs of large files are wide, not
	// deep, but recursion depth should not depend on user data.
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Prefix().MhType == multihash.IDENTITY {
			continue // the data is inside the CID; nothing is stored for it
		}
		k := string(c.Hash())
		if _, ok := marked[k]; ok {
			continue
		}
		marked[k] = struct{}{}
		if len(marked)%gcProgressEvery == 0 {
			report()
		}
		if c.Type() == cid.Raw {
			continue // leaves: no need to read a 1 MiB block to learn it has no links
		}
		b, err := bs.Get(ctx, c)
		if errors.Is(err, ErrNotFound) {
			res.Missing++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gc: mark: %w", err)
		}
		links, err := Links(b)
		if err != nil {
			return nil, fmt.Errorf("gc: mark: %w", err)
		}
		stack = append(stack, links...)
	}
	report()
	return marked, nil
}

// sweep deletes every stored block that is not marked. Keys are collected
// first and deleted afterwards because AllKeys' callback must not write.
// Raw leaves were marked without being read, so a missing raw leaf is
// noticed here: marked but never seen in the store.
func sweep(ctx context.Context, bs Blockstore, marked map[string]struct{}, res *GCResult, progress func(GCProgress)) error {
	var doomed []cid.Cid
	seen := 0
	err := bs.AllKeys(ctx, func(c cid.Cid) error {
		if _, ok := marked[string(c.Hash())]; ok {
			seen++
			return nil
		}
		doomed = append(doomed, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("gc: list blocks: %w", err)
	}
	res.Kept = seen
	// Marked entries that are not stored are missing blocks; the non-raw
	// ones were already counted when Get missed during mark.
	res.Missing = len(marked) - seen

	report := func() {
		progress(GCProgress{Phase: GCPhaseSweep, Marked: len(marked), Missing: res.Missing, Removed: res.Removed})
	}
	report()
	for _, c := range doomed {
		size, err := bs.GetSize(ctx, c)
		if errors.Is(err, ErrNotFound) {
			continue // already gone; nothing to free
		}
		if err != nil {
			return fmt.Errorf("gc: sweep: %w", err)
		}
		if err := bs.Delete(ctx, c); err != nil {
			return fmt.Errorf("gc: sweep: %w", err)
		}
		res.Removed++
		res.RemovedBytes += int64(size)
		if res.Removed%gcProgressEvery == 0 {
			report()
		}
	}
	report()
	return nil
}
