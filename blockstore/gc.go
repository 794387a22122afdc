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

// CollectGarbage deletes every block not reachable from a pin or a hold
// (GCLocker.Hold), then asks the store to give the space back if it is a
// Reclaimer.
//
// It holds lk's GCLock for mark and sweep, so adds that hold PinLock finish
// (and pin) first, and new adds wait. Holds do not wait: those taken while
// GC runs are marked from before the next block is deleted. A nil lk is
// allowed only when nothing else writes to bs.
//
// Missing blocks do not stop GC: a pin whose DAG is partly absent (an
// interrupted fetch) still protects what is there, and the absent blocks are
// counted in GCResult.Missing (only those below pins: a held DAG is usually
// partial by design). A block whose links cannot be read (unknown codec,
// undecodable dag-pb) does stop it, before anything is deleted, because GC
// cannot know what that block keeps alive.
//
// progress, if not nil, is called every few hundred blocks and at each
// phase change.
func CollectGarbage(ctx context.Context, bs Blockstore, pins PinStore, lk *GCLocker, progress func(GCProgress)) (GCResult, error) {
	if progress == nil {
		progress = func(GCProgress) {}
	}
	var res GCResult
	pinned, kept, end, err := beginGC(ctx, bs, pins, lk, &res, progress)
	defer end()
	if err != nil {
		return res, err
	}
	if err := sweep(ctx, bs, pinned, kept, lk, &res, progress); err != nil {
		return res, err
	}
	return res, reclaim(ctx, bs, len(pinned.marked), &res, progress)
}

// reclaim asks the store to give the space of deleted blocks back, if it
// is a Reclaimer.
func reclaim(ctx context.Context, bs Blockstore, marked int, res *GCResult, progress func(GCProgress)) error {
	r, ok := bs.(Reclaimer)
	if !ok {
		return nil
	}
	progress(GCProgress{Phase: GCPhaseReclaim, Marked: marked, Missing: res.Missing, Removed: res.Removed})
	if err := r.Reclaim(ctx); err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	return nil
}

// beginGC takes lk's GCLock and starts queueing holds (end undoes both;
// call it also on error), then marks what pins reach (pinned) and what
// holds reach (kept): what no collection may delete.
func beginGC(ctx context.Context, bs Blockstore, pins PinStore, lk *GCLocker, res *GCResult, progress func(GCProgress)) (pinned, kept *marker, end func(), err error) {
	end = func() {}
	var held []cid.Cid
	if lk != nil {
		unlock := lk.GCLock()
		held = lk.holds.beginGC()
		end = func() {
			lk.holds.endGC()
			unlock()
		}
	}
	pinned = newMarker(bs)
	if err := markPinned(ctx, pinned, pins, res, progress); err != nil {
		return nil, nil, end, err
	}
	// Held DAGs are marked apart: their absent blocks are not "missing".
	kept = newMarker(bs)
	kept.lenient = true
	if _, err := kept.mark(ctx, held, nil); err != nil {
		return nil, nil, end, err
	}
	return pinned, kept, end, nil
}

// marker collects the multihashes (as strings) of reachable blocks. Keying
// by multihash matches the stores, so a DAG linked by CIDv0 protects blocks
// AllKeys reports as CIDv1.
type marker struct {
	bs     Blockstore
	marked map[string]struct{}
	// lenient treats a block whose links cannot be read as a leaf instead
	// of failing: holds may name any block the gateway serves (dag-cbor,
	// say), and keeping it is all that matters.
	lenient bool
}

func newMarker(bs Blockstore) *marker {
	return &marker{bs: bs, marked: make(map[string]struct{})}
}

func (m *marker) has(c cid.Cid) bool {
	_, ok := m.marked[string(c.Hash())]
	return ok
}

// mark walks the stored DAGs under roots, marking every block it reaches,
// and returns how many non-raw blocks it found missing. every, if not nil,
// is called each gcProgressEvery newly marked blocks.
func (m *marker) mark(ctx context.Context, roots []cid.Cid, every func()) (missing int, err error) {
	// Depth-first with an explicit stack: DAGs of large files are wide, not
	// deep, but recursion depth should not depend on user data.
	stack := append([]cid.Cid(nil), roots...)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Prefix().MhType == multihash.IDENTITY {
			continue // the data is inside the CID; nothing is stored for it
		}
		k := string(c.Hash())
		if _, ok := m.marked[k]; ok {
			continue
		}
		m.marked[k] = struct{}{}
		if every != nil && len(m.marked)%gcProgressEvery == 0 {
			every()
		}
		if c.Type() == cid.Raw {
			continue // leaves: no need to read a 1 MiB block to learn it has no links
		}
		b, err := m.bs.Get(ctx, c)
		if errors.Is(err, ErrNotFound) {
			missing++
			continue
		}
		if err != nil {
			return missing, fmt.Errorf("gc: mark: %w", err)
		}
		links, err := Links(b)
		if err != nil && !m.lenient {
			return missing, fmt.Errorf("gc: mark: %w", err)
		}
		stack = append(stack, links...)
	}
	return missing, nil
}

// markPinned marks every block reachable from a pin of any owner.
func markPinned(ctx context.Context, m *marker, pins PinStore, res *GCResult, progress func(GCProgress)) error {
	ps, err := pins.Pins(ctx)
	if err != nil {
		return fmt.Errorf("gc: list pins: %w", err)
	}
	report := func() {
		progress(GCProgress{Phase: GCPhaseMark, Marked: len(m.marked), Missing: res.Missing})
	}
	report()
	// A root several owners keep is marked once: a block is garbage only
	// when no owner remains.
	roots := PinnedRoots(ps)
	for _, p := range ps {
		if p.Meta.Defined() {
			roots = append(roots, p.Meta)
		}
	}
	res.Missing, err = m.mark(ctx, roots, report)
	if err != nil {
		return err
	}
	report()
	return nil
}

// sweep deletes every stored block that is marked neither by a pin nor by
// a hold. Keys are collected first and deleted afterwards because AllKeys'
// callback must not write. Raw leaves were marked without being read, so a
// missing raw leaf below a pin is noticed here: marked but never seen in
// the store. Before each deletion it marks from holds taken since the last
// one, under the lock that orders holds with deletions.
func sweep(ctx context.Context, bs Blockstore, pinned, kept *marker, lk *GCLocker, res *GCResult, progress func(GCProgress)) error {
	var doomed []cid.Cid
	seenPinned, seenKept := 0, 0
	err := bs.AllKeys(ctx, func(c cid.Cid) error {
		switch {
		case pinned.has(c):
			seenPinned++
		case kept.has(c):
			seenKept++
		default:
			doomed = append(doomed, c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gc: list blocks: %w", err)
	}
	res.Kept = seenPinned + seenKept
	// Marked entries that are not stored are missing blocks; the non-raw
	// ones were already counted when Get missed during mark.
	res.Missing = len(pinned.marked) - seenPinned
	return deleteDoomed(ctx, bs, len(pinned.marked), kept, lk, doomed, res, progress)
}

// deleteDoomed deletes the doomed blocks (sweepOne: not those a hold
// taken meanwhile reaches), counting them in res and reporting the sweep.
func deleteDoomed(ctx context.Context, bs Blockstore, marked int, kept *marker, lk *GCLocker, doomed []cid.Cid, res *GCResult, progress func(GCProgress)) error {
	report := func() {
		progress(GCProgress{Phase: GCPhaseSweep, Marked: marked, Missing: res.Missing, Removed: res.Removed})
	}
	report()
	for _, c := range doomed {
		removed, size, err := sweepOne(ctx, bs, kept, lk, c)
		if err != nil {
			return err
		}
		if !removed {
			continue
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

// sweepOne deletes c unless a hold taken during the sweep reaches it.
func sweepOne(ctx context.Context, bs Blockstore, kept *marker, lk *GCLocker, c cid.Cid) (bool, int, error) {
	if lk != nil {
		fresh, unlock := lk.holds.lockFresh()
		defer unlock()
		if _, err := kept.mark(ctx, fresh, nil); err != nil {
			return false, 0, err
		}
		if kept.has(c) {
			return false, 0, nil
		}
	}
	size, err := bs.GetSize(ctx, c)
	switch {
	case errors.Is(err, ErrFileChanged):
		size, err = 0, nil // kept as where it was in a file that changed: its record goes
	case errors.Is(err, ErrNotFound):
		return false, 0, nil // already gone; nothing to free
	}
	if err != nil {
		return false, 0, fmt.Errorf("gc: sweep: %w", err)
	}
	if err := bs.Delete(ctx, c); err != nil {
		return false, 0, fmt.Errorf("gc: sweep: %w", err)
	}
	return true, size, nil
}
