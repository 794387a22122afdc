package blockstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// dsPrefix holds the keys of the generic datastore (the DHT's provider
// records, routing table and provide schedule) beside blocks and pins, so a
// repo keeps one database and one lock.
const dsPrefix = "d"

// queryPage is how many entries a query reads per short read transaction.
// Reading in pages keeps no transaction or lock open between a caller's
// Next calls, so an abandoned query can never block Close or Reclaim.
const queryPage = 256

// Datastore returns a go-datastore view of the store, for libraries that
// keep their own state (kad-dht). Its keys live under their own prefix and
// never mix with blocks or pins; GC and Stats ignore them. Writes are not
// synced as they happen; Sync (or the store's Close) makes them durable.
// Closing the view is a no-op: the store owns the database.
func (s *BadgerStore) Datastore() ds.Batching { return &badgerDatastore{s: s} }

type badgerDatastore struct{ s *BadgerStore }

var _ ds.Batching = (*badgerDatastore)(nil)

func dsKey(k ds.Key) []byte { return append([]byte(dsPrefix), k.Bytes()...) }

func (d *badgerDatastore) view(fn func(*badger.Txn) error) error {
	d.s.dbMu.RLock()
	defer d.s.dbMu.RUnlock()
	return d.s.db.View(fn)
}

func (d *badgerDatastore) update(fn func(*badger.Txn) error) error {
	d.s.dbMu.RLock()
	defer d.s.dbMu.RUnlock()
	d.s.writeMu.RLock()
	defer d.s.writeMu.RUnlock()
	return d.s.db.Update(fn)
}

func (d *badgerDatastore) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	var out []byte
	err := d.view(func(txn *badger.Txn) error {
		item, err := txn.Get(dsKey(key))
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ds.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("datastore get %s: %w", key, err)
	}
	return out, nil
}

func (d *badgerDatastore) Has(ctx context.Context, key ds.Key) (bool, error) {
	_, err := d.GetSize(ctx, key)
	if errors.Is(err, ds.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (d *badgerDatastore) GetSize(ctx context.Context, key ds.Key) (int, error) {
	size := -1
	err := d.view(func(txn *badger.Txn) error {
		item, err := txn.Get(dsKey(key))
		if err != nil {
			return err
		}
		size = int(item.ValueSize())
		return nil
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return -1, ds.ErrNotFound
	}
	if err != nil {
		return -1, fmt.Errorf("datastore size %s: %w", key, err)
	}
	return size, nil
}

func (d *badgerDatastore) Put(ctx context.Context, key ds.Key, value []byte) error {
	v := bytes.Clone(value)
	if err := d.update(func(txn *badger.Txn) error { return txn.Set(dsKey(key), v) }); err != nil {
		return fmt.Errorf("datastore put %s: %w", key, err)
	}
	return nil
}

func (d *badgerDatastore) Delete(ctx context.Context, key ds.Key) error {
	if err := d.update(func(txn *badger.Txn) error { return txn.Delete(dsKey(key)) }); err != nil {
		return fmt.Errorf("datastore delete %s: %w", key, err)
	}
	return nil
}

func (d *badgerDatastore) Sync(ctx context.Context, prefix ds.Key) error {
	d.s.dbMu.RLock()
	defer d.s.dbMu.RUnlock()
	if err := d.s.syncAll(); err != nil {
		return fmt.Errorf("datastore sync: %w", err)
	}
	return nil
}

func (d *badgerDatastore) Close() error { return nil }

// Query pages through the keys under q.Prefix in key order; filters,
// orders, offset and limit are applied on top (go-datastore's naive
// implementations).
func (d *badgerDatastore) Query(ctx context.Context, q query.Query) (query.Results, error) {
	prefix := ds.NewKey(q.Prefix).String()
	if prefix != "/" {
		prefix += "/"
	}
	start := []byte(dsPrefix + prefix)
	if q.Prefix == "" || prefix == "/" {
		start = []byte(dsPrefix + "/")
	}
	var page []query.Entry
	var cursor []byte // the last key read, to resume after
	done := false
	next := func() (query.Result, bool) {
		if len(page) == 0 && !done {
			var err error
			page, cursor, done, err = d.readPage(start, cursor, q.KeysOnly)
			if err != nil {
				done = true
				return query.Result{Error: err}, true
			}
		}
		if len(page) == 0 {
			return query.Result{}, false
		}
		e := page[0]
		page = page[1:]
		return query.Result{Entry: e}, true
	}
	// The prefix is applied while reading; hand the rest to the naive
	// helpers without it.
	rest := q
	rest.Prefix = ""
	res := query.ResultsFromIterator(q, query.Iterator{Next: next})
	return query.NaiveQueryApply(rest, res), nil
}

// readPage reads up to queryPage entries with keys starting with prefix,
// after the key after (or from the start when after is nil).
func (d *badgerDatastore) readPage(prefix, after []byte, keysOnly bool) (entries []query.Entry, last []byte, done bool, err error) {
	err = d.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchValues = !keysOnly
		it := txn.NewIterator(opts)
		defer it.Close()
		seek := prefix
		if after != nil {
			seek = after
		}
		for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.KeyCopy(nil)
			if after != nil && bytes.Equal(k, after) {
				continue
			}
			if len(entries) == queryPage {
				return nil
			}
			e := query.Entry{Key: string(k[len(dsPrefix):]), Size: int(item.ValueSize())}
			if !keysOnly {
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				e.Value = v
			}
			entries = append(entries, e)
			last = k
		}
		done = true
		return nil
	})
	if err != nil {
		return nil, nil, true, fmt.Errorf("datastore query: %w", err)
	}
	return entries, last, done, nil
}

// Batch collects writes and applies them in one Badger write batch.
func (d *badgerDatastore) Batch(ctx context.Context) (ds.Batch, error) {
	return &badgerDSBatch{d: d}, nil
}

type badgerDSBatch struct {
	d   *badgerDatastore
	ops []dsOp
}

type dsOp struct {
	key    []byte
	value  []byte
	delete bool
}

func (b *badgerDSBatch) Put(ctx context.Context, key ds.Key, value []byte) error {
	b.ops = append(b.ops, dsOp{key: dsKey(key), value: bytes.Clone(value)})
	return nil
}

func (b *badgerDSBatch) Delete(ctx context.Context, key ds.Key) error {
	b.ops = append(b.ops, dsOp{key: dsKey(key), delete: true})
	return nil
}

func (b *badgerDSBatch) Commit(ctx context.Context) error {
	s := b.d.s
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, op := range b.ops {
		var err error
		if op.delete {
			err = wb.Delete(op.key)
		} else {
			err = wb.Set(op.key, op.value)
		}
		if err != nil {
			return fmt.Errorf("datastore batch: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("datastore batch: %w", err)
	}
	b.ops = nil
	return nil
}
