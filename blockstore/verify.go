package blockstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
)

// verifyProgressEvery throttles Verify's progress callback.
const verifyProgressEvery = 256

// Verify re-hashes every stored block and returns the CIDs of those whose
// bytes no longer match (bit rot, a bad disk, a bug upstream of Put, which
// trusts its caller), and of those kept as references to files that
// changed since (see FileBlock). progress, if not nil, is called
// periodically with the number of blocks checked so far, and once at the
// end.
func Verify(ctx context.Context, bs Blockstore, progress func(checked int)) (bad, changed []cid.Cid, err error) {
	checked := 0
	err = bs.AllKeys(ctx, func(c cid.Cid) error {
		b, err := bs.Get(ctx, c)
		if errors.Is(err, ErrFileChanged) {
			changed = append(changed, c)
			checked++
			return nil
		}
		if errors.Is(err, ErrNotFound) {
			return nil // deleted since AllKeys listed it: nothing to verify
		}
		if err != nil {
			return err
		}
		// Prefix().Sum hashes with the CID's own function and length, so
		// any multihash kith stores can be checked.
		want, err := c.Prefix().Sum(b.RawData())
		if err != nil {
			return fmt.Errorf("hash %s: %w", c, err)
		}
		if !want.Equals(c) {
			bad = append(bad, c)
		}
		checked++
		if progress != nil && checked%verifyProgressEvery == 0 {
			progress(checked)
		}
		return nil
	})
	if err != nil {
		return bad, changed, fmt.Errorf("verify: %w", err)
	}
	if progress != nil {
		progress(checked)
	}
	return bad, changed, nil
}
