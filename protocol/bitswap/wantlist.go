package bitswap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/fetch"
)

const (
	// maxEntries bounds the wantlist entries of one message (~50 KiB).
	maxEntries = 1024
	// writeTimeout bounds writing one message of wants.
	writeTimeout = 30 * time.Second
)

// remote is a peer this node wants blocks from. One stream carries the
// wants and cancels of all its wantlists in order, so that a cancel for
// one fetch never overtakes another fetch's want of the same block (the
// peer keeps one wantlist per peer, not per fetch). Fields are guarded by
// Exchange.mu.
type remote struct {
	id    peer.ID
	lists map[*wantlist]struct{}
	refs  map[string]int // CID key: how many open wantlists want it
	queue []entry        // to send, in order
	prio  int32          // the next want's priority: earlier wants first
	wake  chan struct{}
	err   error // set once the remote failed
}

// entry is one wantlist entry to send: a want-block or a cancel.
type entry struct {
	c      cid.Cid
	prio   int32
	cancel bool
}

func (rm *remote) signal() {
	select {
	case rm.wake <- struct{}{}:
	default:
	}
}

// answer hands a block or DONT_HAVE for c to every open wantlist of rm that
// wants it, appending to out. Called with Exchange.mu held.
func (rm *remote) answer(out []reply, c cid.Cid, data []byte, dontHave bool) []reply {
	k := c.KeyString()
	if rm.refs[k] == 0 {
		return out
	}
	for wl := range rm.lists {
		if _, ok := wl.wants[k]; !ok {
			continue
		}
		delete(wl.wants, k)
		rm.unref(k)
		wl.active++
		out = append(out, reply{wl: wl, c: c, data: data, dontHave: dontHave})
	}
	return out
}

// unref drops one wantlist's interest in key k and reports whether it was
// the last.
func (rm *remote) unref(k string) bool {
	rm.refs[k]--
	if rm.refs[k] > 0 {
		return false
	}
	delete(rm.refs, k)
	return true
}

// wantlist is one fetch's wants on one remote; it implements
// fetch.Wantlist. Fields are guarded by Exchange.mu.
type wantlist struct {
	e      *Exchange
	rm     *remote
	r      fetch.Replies
	wants  map[string]entry // open wants by CID key, with their priority
	active int              // replies being passed on to r
	closed bool
}

// Open starts a wantlist on p. The stream to p is opened by the remote's
// sender; if that fails, r is told the peer is gone.
func (e *Exchange) Open(ctx context.Context, p peer.ID, r fetch.Replies) (fetch.Wantlist, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rm := e.remotes[p]
	if rm == nil {
		rm = &remote{id: p, lists: make(map[*wantlist]struct{}), refs: make(map[string]int),
			prio: math.MaxInt32, wake: make(chan struct{}, 1)}
		e.remotes[p] = rm
		e.senders.Go(func() { e.send(rm) })
	}
	wl := &wantlist{e: e, rm: rm, r: r, wants: make(map[string]entry)}
	rm.lists[wl] = struct{}{}
	return wl, nil
}

// Want queues want-blocks for cs, in order of priority. The empty block
// is not asked for (see isEmptyBlock): Want answers it before returning.
func (wl *wantlist) Want(cs []cid.Cid) error {
	e, rm := wl.e, wl.rm
	e.mu.Lock()
	switch {
	case wl.closed:
		e.mu.Unlock()
		return errors.New("bitswap: wantlist closed")
	case rm.err != nil:
		e.mu.Unlock()
		return rm.err
	}
	var local []reply
	for _, c := range cs {
		k := c.KeyString()
		if _, ok := wl.wants[k]; ok {
			continue
		}
		if isEmptyBlock(c) {
			wl.active++
			local = append(local, reply{wl: wl, c: c, data: []byte{}})
			continue
		}
		en := entry{c: c, prio: rm.prio}
		wl.wants[k] = en
		rm.refs[k]++
		rm.queue = append(rm.queue, en)
		if rm.prio > 1 {
			rm.prio--
		}
	}
	e.mu.Unlock()
	rm.signal()
	e.pass(local)
	return nil
}

// Rewant sends every open want of this wantlist again (see
// fetch.Wantlist.Rewant), in the order of their first asking.
func (wl *wantlist) Rewant() {
	e, rm := wl.e, wl.rm
	e.mu.Lock()
	if wl.closed || rm.err != nil || len(wl.wants) == 0 {
		e.mu.Unlock()
		return
	}
	again := make([]entry, 0, len(wl.wants))
	for _, en := range wl.wants {
		again = append(again, en)
	}
	slices.SortFunc(again, func(a, b entry) int { return cmp.Compare(b.prio, a.prio) })
	rm.queue = append(rm.queue, again...)
	e.mu.Unlock()
	rm.signal()
}

// Cancel withdraws wants; the peer is told unless another wantlist still
// wants the block.
func (wl *wantlist) Cancel(cs []cid.Cid) {
	e, rm := wl.e, wl.rm
	e.mu.Lock()
	if wl.closed {
		e.mu.Unlock()
		return
	}
	for _, c := range cs {
		wl.withdrawLocked(c.KeyString())
	}
	e.mu.Unlock()
	rm.signal()
}

func (wl *wantlist) withdrawLocked(k string) {
	en, ok := wl.wants[k]
	if !ok {
		return
	}
	delete(wl.wants, k)
	if wl.rm.unref(k) && wl.rm.err == nil {
		wl.rm.queue = append(wl.rm.queue, entry{c: en.c, cancel: true})
	}
}

// Close withdraws every open want and waits until no reply is being
// passed on to the fetch.
func (wl *wantlist) Close() {
	e, rm := wl.e, wl.rm
	e.mu.Lock()
	if wl.closed {
		e.mu.Unlock()
		return
	}
	wl.closed = true
	for k := range wl.wants {
		wl.withdrawLocked(k)
	}
	delete(rm.lists, wl)
	for wl.active > 0 {
		e.idle.Wait()
	}
	e.mu.Unlock()
	rm.signal()
}

// send is rm's sender: it opens a stream to the peer and writes what is
// queued, until the remote fails, or has no wantlist and nothing queued.
func (e *Exchange) send(rm *remote) {
	var s network.Stream
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	for {
		e.mu.Lock()
		for len(rm.queue) == 0 && len(rm.lists) > 0 && rm.err == nil {
			e.mu.Unlock()
			select {
			case <-rm.wake:
			case <-e.ctx.Done():
			}
			e.mu.Lock()
			if e.ctx.Err() != nil && rm.err == nil {
				rm.err = errClosed
			}
		}
		if rm.err != nil || len(rm.queue) == 0 {
			if e.remotes[rm.id] == rm {
				delete(e.remotes, rm.id) // idle: the next Open starts afresh
			}
			e.mu.Unlock()
			return
		}
		n := min(len(rm.queue), maxEntries)
		batch := rm.queue[:n:n]
		rm.queue = rm.queue[n:]
		e.mu.Unlock()
		var err error
		if s == nil {
			s, err = e.openStream(rm.id)
		}
		if err == nil {
			err = writeEntries(s, batch)
		}
		if err != nil {
			if s != nil {
				_ = s.Reset()
				s = nil
			}
			e.fail(rm, err)
			return
		}
	}
}

func (e *Exchange) openStream(p peer.ID) (network.Stream, error) {
	ctx, cancel := context.WithTimeout(e.ctx, writeTimeout)
	defer cancel()
	s, err := e.h.NewStream(ctx, p, Protocols...)
	if err != nil {
		return nil, fmt.Errorf("open Bitswap stream: %w", err)
	}
	return s, nil
}

// writeEntries writes wants and cancels in the wire format of the protocol
// the stream negotiated: one message, or more when a CID comes twice (a
// message holds one entry per CID, and a cancel followed by a new want of
// the same block must reach the peer as two entries, in order).
func writeEntries(s network.Stream, es []entry) error {
	_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
	defer func() { _ = s.SetWriteDeadline(time.Time{}) }()
	msg := bsmsg.New(false)
	inMsg := make(map[string]struct{}, len(es))
	for i, en := range es {
		if _, dup := inMsg[en.c.KeyString()]; dup {
			if err := writeMessage(s, msg); err != nil {
				return err
			}
			msg = bsmsg.New(false)
			clear(inMsg)
		}
		inMsg[en.c.KeyString()] = struct{}{}
		if en.cancel {
			msg.Cancel(en.c)
		} else {
			msg.AddEntry(en.c, en.prio, pb.Message_Wantlist_Block, true)
		}
		if i == len(es)-1 {
			return writeMessage(s, msg)
		}
	}
	return nil
}

func writeMessage(s network.Stream, msg bsmsg.BitSwapMessage) error {
	var err error
	switch s.Protocol() {
	case bsnet.ProtocolBitswap, bsnet.ProtocolBitswapOneOne:
		err = msg.ToNetV1(s)
	default:
		err = msg.ToNetV0(s)
	}
	if err != nil {
		return fmt.Errorf("send Bitswap wants: %w", err)
	}
	return nil
}
