package blockstore

import (
	"context"
	"fmt"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// MemStore is an in-memory Blockstore and PinStore. It exists so tests of
// the layers above (GC, DAG import, the daemon) run fast without a disk, and
// it is held to the same conformance suite as BadgerStore so the two behave
// alike. It is safe for concurrent use.
//
// Blocks are keyed by multihash (like BadgerStore), so a CIDv0 and a CIDv1
// of the same bytes name one block. Pins are keyed by the exact CID and
// their owner.
type MemStore struct {
	mu     sync.RWMutex
	blocks map[string]memBlock       // key: string(multihash)
	pins   map[cid.Cid]map[Owner]Pin // CID -> owner -> record
}

// memBlock keeps the codec next to the bytes because the key (a multihash)
// has lost it, and AllKeys must hand GC CIDs whose codec says whether the
// block has links.
type memBlock struct {
	codec uint64
	data  []byte
}

var (
	_ Blockstore = (*MemStore)(nil)
	_ PinStore   = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		blocks: make(map[string]memBlock),
		pins:   make(map[cid.Cid]map[Owner]Pin),
	}
}

// Get returns a copy of the block stored under c, labelled with c itself.
func (m *MemStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem get %s: %w", c, err)
	}
	m.mu.RLock()
	mb, ok := m.blocks[string(c.Hash())]
	m.mu.RUnlock()
	if !ok {
		return nil, NotFound(c)
	}
	// Copy so a caller that scribbles on the returned bytes cannot corrupt
	// the store, which a disk-backed store would never allow either.
	return blocks.NewBlockWithCid(append([]byte(nil), mb.data...), c)
}

// ReadBlock copies the bytes stored under c into alloc(n) (see BlockReader).
func (m *MemStore) ReadBlock(ctx context.Context, c cid.Cid, alloc func(n int) []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem get %s: %w", c, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	mb, ok := m.blocks[string(c.Hash())]
	if !ok {
		return nil, NotFound(c)
	}
	buf := alloc(len(mb.data))
	copy(buf, mb.data)
	return buf, nil
}

// Put stores a copy of b. A block already present (by multihash) is kept
// as it is.
func (m *MemStore) Put(ctx context.Context, b blocks.Block) error {
	return m.PutMany(ctx, []blocks.Block{b})
}

// PutMany stores copies of every block in bs under one lock acquisition.
func (m *MemStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem put %d blocks: %w", len(bs), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range bs {
		k := string(b.Cid().Hash())
		if _, ok := m.blocks[k]; ok {
			continue
		}
		// Copy: the caller may reuse its buffer after Put returns.
		m.blocks[k] = memBlock{codec: b.Cid().Type(), data: append([]byte(nil), b.RawData()...)}
	}
	return nil
}

// Has reports whether c is stored.
func (m *MemStore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("mem has %s: %w", c, err)
	}
	m.mu.RLock()
	_, ok := m.blocks[string(c.Hash())]
	m.mu.RUnlock()
	return ok, nil
}

// Delete removes c; removing an absent block is not an error.
func (m *MemStore) Delete(ctx context.Context, c cid.Cid) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem delete %s: %w", c, err)
	}
	m.mu.Lock()
	delete(m.blocks, string(c.Hash()))
	m.mu.Unlock()
	return nil
}

// GetSize returns the size of the block stored under c.
func (m *MemStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("mem size %s: %w", c, err)
	}
	m.mu.RLock()
	mb, ok := m.blocks[string(c.Hash())]
	m.mu.RUnlock()
	if !ok {
		return 0, NotFound(c)
	}
	return len(mb.data), nil
}

// AllKeys calls fn with a CIDv1 (stored codec + multihash) for every block.
//
// The keys are snapshotted first and fn runs without the lock held, so fn
// may read the store (GC and Verify do) without deadlocking against a
// waiting writer.
func (m *MemStore) AllKeys(ctx context.Context, fn func(cid.Cid) error) error {
	m.mu.RLock()
	keys := make([]cid.Cid, 0, len(m.blocks))
	for k, mb := range m.blocks {
		keys = append(keys, cid.NewCidV1(mb.codec, []byte(k)))
	}
	m.mu.RUnlock()
	for _, c := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem all keys: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// AddPin stores p as its owner's record, replacing only that owner's
// record on the CID.
func (m *MemStore) AddPin(ctx context.Context, p Pin) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem add pin %s: %w", p.Cid, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	owners := m.pins[p.Cid]
	if owners == nil {
		owners = map[Owner]Pin{}
		m.pins[p.Cid] = owners
	}
	owners[p.Owner] = p
	return nil
}

// RemovePin removes owner's record on c; a missing record is a
// NotFoundError.
func (m *MemStore) RemovePin(ctx context.Context, c cid.Cid, owner Owner) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem remove pin %s: %w", c, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	owners := m.pins[c]
	if _, ok := owners[owner]; !ok {
		return NotFound(c)
	}
	delete(owners, owner)
	if len(owners) == 0 {
		delete(m.pins, c)
	}
	return nil
}

// GetPin returns owner's record on c.
func (m *MemStore) GetPin(ctx context.Context, c cid.Cid, owner Owner) (Pin, error) {
	if err := ctx.Err(); err != nil {
		return Pin{}, fmt.Errorf("mem get pin %s: %w", c, err)
	}
	m.mu.RLock()
	p, ok := m.pins[c][owner]
	m.mu.RUnlock()
	if !ok {
		return Pin{}, NotFound(c)
	}
	return p, nil
}

// PinsOf returns every owner's record on c, the user's first.
func (m *MemStore) PinsOf(ctx context.Context, c cid.Cid) ([]Pin, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem pins of %s: %w", c, err)
	}
	m.mu.RLock()
	var out []Pin
	for _, p := range m.pins[c] {
		out = append(out, p)
	}
	m.mu.RUnlock()
	sortOwners(out)
	return out, nil
}

// Pins returns every record, oldest first.
func (m *MemStore) Pins(ctx context.Context) ([]Pin, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem pins: %w", err)
	}
	m.mu.RLock()
	out := make([]Pin, 0, len(m.pins))
	for _, owners := range m.pins {
		for _, p := range owners {
			out = append(out, p)
		}
	}
	m.mu.RUnlock()
	sortPins(out)
	return out, nil
}
