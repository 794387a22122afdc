package blockstore

import (
	"encoding/json"
	"time"

	"github.com/dgraph-io/badger/v4"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// SetGCContendedHook lets the external tests observe that GCLock found the
// lock held and is about to wait (see GCLocker.contended).
func SetGCContendedHook(l *GCLocker, f func()) { l.contended = f }

// WithPackSize makes pack files roll over at n bytes, so that tests see
// several packs without writing gigabytes.
func WithPackSize(n int64) BadgerOption {
	return func(c *badgerConfig) { c.packSize = n }
}

// WithBufferedPacks makes pack writes go through the page cache even where
// they could bypass it, so tests cover both ways.
func WithBufferedPacks() BadgerOption {
	return func(c *badgerConfig) { c.buffered = true }
}

// PacksDirect reports whether s's pack writes bypass the page cache.
func PacksDirect(s *BadgerStore) bool {
	s.packs.mu.Lock()
	defer s.packs.mu.Unlock()
	return s.packs.direct
}

// PackThreshold is the smallest block kept in a pack file.
const PackThreshold = packThreshold

// PutInBadger stores b the way stores before pack files did, its bytes in
// Badger whatever its size, so tests can check such repos stay readable.
func PutInBadger(s *BadgerStore, b blocks.Block) error {
	meta := codecMeta(b.Cid().Type())
	v := b.RawData()
	if meta == metaPrefixed {
		v = encodeBlockValue(b)
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(blockKey(b.Cid()), v).WithMeta(meta))
	})
}

// SetAfterLookupHook makes f run in every read of a packed block between
// the lookup of its record and the read of its bytes.
func SetAfterLookupHook(s *BadgerStore, f func()) { s.afterLookup = f }

// PutLegacyPin writes p the way kith wrote pins before they had owners:
// one record per CID, keyed by the CID alone, without an owner field.
func PutLegacyPin(s *BadgerStore, p Pin) error {
	v, err := json.Marshal(struct {
		Cid     cid.Cid   `json:"cid"`
		Name    string    `json:"name,omitempty"`
		Size    uint64    `json:"size"`
		Created time.Time `json:"created"`
		Private bool      `json:"private,omitempty"`
	}{p.Cid, p.Name, p.Size, p.Created, p.Private})
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte("p/"), p.Cid.Bytes()...), v)
	})
}
