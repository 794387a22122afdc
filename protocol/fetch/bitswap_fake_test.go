package fetch

import (
	"context"
	"errors"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
)

// fakeBitswap is an in-memory Bitswap: each seeder answers wants from its
// store in a goroutine of its own, with no libp2p streams at all, so the
// scheduler's handling of Bitswap peers is tested on its own.
type fakeBitswap struct {
	mu      sync.Mutex
	seeders map[peer.ID]*fakeSeeder
}

func newFakeBitswap() *fakeBitswap {
	return &fakeBitswap{seeders: make(map[peer.ID]*fakeSeeder)}
}

// fakeSeeder is how one fake Bitswap peer behaves, and what it saw.
type fakeSeeder struct {
	bs blockstore.Blockstore
	// rate paces blocks (bytes per second, 0: as fast as asked).
	rate int64
	// lie flips a bit in every raw block it sends.
	lie bool
	// stallAfter stops answering (without a word) after this many blocks;
	// goneAfter reports the wantlist gone once it sent this many. 0: never.
	stallAfter, goneAfter int
	// lose drops the blocks of these wants (counted from 0 in the order
	// the seeder takes them up) without a word, as a server does whose
	// message for them was lost; the want is forgotten until asked again.
	lose map[int]bool

	mu         sync.Mutex
	wanted     int // CIDs asked for, over all wantlists
	cancelled  int // CIDs withdrawn while still open
	maxOpen    int // most CIDs open at once on one wantlist
	sent       int // blocks sent
	lists      int
	closedList int
	rewants    int           // Rewant calls
	taken      int           // wants taken up
	asked      chan struct{} // closed at the first want
	askedOnce  sync.Once
	stalled    chan struct{} // closed when it first withholds a block
	stallOnce  sync.Once
}

func (f *fakeBitswap) add(id peer.ID, s *fakeSeeder) *fakeSeeder {
	s.asked = make(chan struct{})
	s.stalled = make(chan struct{})
	f.mu.Lock()
	f.seeders[id] = s
	f.mu.Unlock()
	return s
}

func (f *fakeBitswap) Speaks(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seeders[p] != nil
}

func (f *fakeBitswap) Open(ctx context.Context, p peer.ID, r Replies) (Wantlist, error) {
	f.mu.Lock()
	s := f.seeders[p]
	f.mu.Unlock()
	if s == nil {
		return nil, errors.New("fake: not a Bitswap peer")
	}
	s.mu.Lock()
	s.lists++
	s.mu.Unlock()
	wl := &fakeWantlist{s: s, r: r, open: make(map[string]bool), asked: make(map[string]cid.Cid), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go wl.serve()
	return wl, nil
}

type fakeWantlist struct {
	s *fakeSeeder
	r Replies

	mu     sync.Mutex
	queue  []cid.Cid
	open   map[string]bool    // on the seeder's wantlist
	asked  map[string]cid.Cid // asked and not answered nor cancelled
	closed bool
	gone   bool
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func (wl *fakeWantlist) Want(cs []cid.Cid) error {
	wl.mu.Lock()
	if wl.gone {
		wl.mu.Unlock()
		return errors.New("fake: connection closed") // the same departure Gone reports
	}
	for _, c := range cs {
		wl.open[c.KeyString()] = true
		wl.asked[c.KeyString()] = c
	}
	wl.queue = append(wl.queue, cs...)
	n := len(wl.open)
	wl.mu.Unlock()
	wl.s.askedOnce.Do(func() { close(wl.s.asked) })
	wl.s.mu.Lock()
	wl.s.wanted += len(cs)
	wl.s.maxOpen = max(wl.s.maxOpen, n)
	wl.s.mu.Unlock()
	select {
	case wl.wake <- struct{}{}:
	default:
	}
	return nil
}

func (wl *fakeWantlist) Cancel(cs []cid.Cid) {
	wl.mu.Lock()
	n := 0
	for _, c := range cs {
		delete(wl.asked, c.KeyString())
		if wl.open[c.KeyString()] {
			delete(wl.open, c.KeyString())
			n++
		}
	}
	wl.mu.Unlock()
	wl.s.mu.Lock()
	wl.s.cancelled += n
	wl.s.mu.Unlock()
}

func (wl *fakeWantlist) Rewant() {
	wl.mu.Lock()
	for k, c := range wl.asked {
		if !wl.open[k] {
			wl.open[k] = true
			wl.queue = append(wl.queue, c)
		}
	}
	wl.mu.Unlock()
	wl.s.mu.Lock()
	wl.s.rewants++
	wl.s.mu.Unlock()
	select {
	case wl.wake <- struct{}{}:
	default:
	}
}

// answered records that c was answered (block or DONT_HAVE).
func (wl *fakeWantlist) answered(c cid.Cid) {
	wl.mu.Lock()
	delete(wl.asked, c.KeyString())
	wl.mu.Unlock()
}

func (wl *fakeWantlist) Close() {
	wl.mu.Lock()
	if wl.closed {
		wl.mu.Unlock()
		return
	}
	wl.closed = true
	wl.mu.Unlock()
	close(wl.stop)
	<-wl.done
	wl.s.mu.Lock()
	wl.s.closedList++
	wl.s.mu.Unlock()
}

// next pops the next want that is still open.
func (wl *fakeWantlist) next() (cid.Cid, bool) {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for len(wl.queue) > 0 {
		c := wl.queue[0]
		wl.queue = wl.queue[1:]
		if wl.open[c.KeyString()] {
			delete(wl.open, c.KeyString())
			return c, true
		}
	}
	return cid.Undef, false
}

func (wl *fakeWantlist) serve() {
	defer close(wl.done)
	s := wl.s
	for {
		c, ok := wl.next()
		if !ok {
			select {
			case <-wl.wake:
				continue
			case <-wl.stop:
				return
			}
		}
		s.mu.Lock()
		sent := s.sent
		s.mu.Unlock()
		if s.stallAfter > 0 && sent >= s.stallAfter {
			s.stallOnce.Do(func() { close(s.stalled) })
			<-wl.stop
			return
		}
		if s.goneAfter > 0 && sent >= s.goneAfter {
			wl.gone1()
			return
		}
		s.mu.Lock()
		lose := s.lose[s.taken]
		s.taken++
		s.mu.Unlock()
		if lose {
			continue
		}
		blk, err := s.bs.Get(context.Background(), c)
		if err != nil {
			wl.answered(c)
			wl.r.DontHave(c)
			continue
		}
		data := blk.RawData()
		if s.rate > 0 {
			select {
			case <-time.After(time.Duration(float64(len(data)) / float64(s.rate) * float64(time.Second))):
			case <-wl.stop:
				return
			}
		}
		if s.lie && c.Type() == cid.Raw && len(data) > 0 {
			data = append([]byte(nil), data...)
			data[len(data)/2] ^= 1
		}
		s.mu.Lock()
		s.sent++
		sent = s.sent
		s.mu.Unlock()
		wl.answered(c)
		wl.r.Block(c, data)
		if s.goneAfter > 0 && sent >= s.goneAfter {
			// Closed right after its last block, whether or not more
			// is asked of it (the fetch may need no more from it).
			wl.gone1()
			return
		}
	}
}

// gone1 reports the wantlist's connection closed, and waits for its end.
func (wl *fakeWantlist) gone1() {
	wl.mu.Lock()
	wl.gone = true
	wl.mu.Unlock()
	wl.r.Gone(errors.New("fake: connection closed"))
	<-wl.stop
}

func (s *fakeSeeder) stats() (wanted, cancelled, maxOpen, sent, lists, closed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wanted, s.cancelled, s.maxOpen, s.sent, s.lists, s.closedList
}

// countingStore counts how often each block is put, to show that no block
// is stored twice.
type countingStore struct {
	blockstore.Blockstore
	mu   sync.Mutex
	puts map[string]int
}

func newCountingStore() *countingStore {
	return &countingStore{Blockstore: blockstore.NewMemStore(), puts: make(map[string]int)}
}

func (s *countingStore) Put(ctx context.Context, b blocks.Block) error {
	return s.PutMany(ctx, []blocks.Block{b})
}

func (s *countingStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	s.mu.Lock()
	for _, b := range bs {
		s.puts[b.Cid().KeyString()]++
	}
	s.mu.Unlock()
	return s.Blockstore.PutMany(ctx, bs)
}

// maxPuts is the most times one block was put.
func (s *countingStore) maxPuts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.puts {
		n = max(n, v)
	}
	return n
}
