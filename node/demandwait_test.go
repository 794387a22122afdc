package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

type catOutcome struct {
	got []byte
	err error
}

// dropMidCat adds data on a provider with the repo provRepo (uploads
// capped at 4 MiB/s), starts a cat of it on b, and closes the provider
// once 4 MiB were read.
func dropMidCat(t *testing.T, provRepo string, b *Node, data []byte) chan catOutcome {
	t.Helper()
	a := newNodeAt(t, provRepo, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	root := addData(t, a, data)
	connect(t, b, a.Host())
	r, err := b.Cat(context.Background(), root, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	done := make(chan catOutcome, 1)
	go func() {
		defer r.Close()
		var got bytes.Buffer
		_, err := io.Copy(&got, io.TeeReader(r, writerFunc(func(p []byte) { read.Add(int64(len(p))) })))
		done <- catOutcome{got.Bytes(), err}
	}()
	waitFor(t, time.Minute, "4 MiB read", func() bool { return read.Load() >= 4<<20 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return done
}

// writerFunc is a function as an io.Writer.
type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func awaitCat(t *testing.T, done chan catOutcome) catOutcome {
	t.Helper()
	select {
	case o := <-done:
		return o
	case <-time.After(2 * time.Minute):
		t.Fatal("the cat did not end")
	}
	return catOutcome{}
}

// TestCatWaitsForPeersThatWentAway stops the only provider in the middle
// of a cat: the stream pauses rather than fails, and goes on once the
// provider is back, whole.
func TestCatWaitsForPeersThatWentAway(t *testing.T) {
	provRepo := t.TempDir()
	data := randomData(24 << 20)
	b := newLocalNode(t)
	done := dropMidCat(t, provRepo, b, data)
	// Longer than a block nobody has takes to be a miss (no peer at all
	// here: at once), and than the first pause.
	select {
	case o := <-done:
		t.Fatalf("the cat ended while it should wait: read %d bytes, %v", len(o.got), o.err)
	case <-time.After(3 * waitRetryFirst):
	}
	a := newNodeAt(t, provRepo, nil) // the provider is back
	connect(t, b, a.Host())
	o := awaitCat(t, done)
	if o.err != nil || !bytes.Equal(o.got, data) {
		t.Fatalf("the cat read %d bytes (%v), want the %d shared", len(o.got), o.err, len(data))
	}
}

// TestCatGivesUpWhenPeersStayAway: when no peer that has the rest comes
// back in time, the cat's stream ends in an error (not cut short as if
// whole).
func TestCatGivesUpWhenPeersStayAway(t *testing.T) {
	b := newLocalNode(t)
	b.dropWait = 2 * time.Second
	start := time.Now()
	o := awaitCat(t, dropMidCat(t, t.TempDir(), b, randomData(24<<20)))
	if !errors.Is(o.err, blockstore.ErrNotFound) || len(o.got) >= 24<<20 {
		t.Fatalf("the cat read %d bytes, %v; want it to fail with a miss", len(o.got), o.err)
	}
	if waited := time.Since(start); waited < b.dropWait {
		t.Fatalf("the cat gave up after %v, before its wait of %v", waited, b.dropWait)
	}
}

// TestCatOfABlockNobodyHadFails: a cat that no peer gave anything (a
// block of this repo lost, that nobody else ever had) fails as before,
// not waiting for a peer that went away (the wait here is an hour: the
// test's deadline is two minutes).
func TestCatOfABlockNobodyHadFails(t *testing.T) {
	b := newLocalNode(t)
	b.dropWait = time.Hour
	ctx := context.Background()
	root := addData(t, b, randomData(3<<20))
	var second cid.Cid
	if err := dag.FileLeaves(ctx, b.store, root, func(leaf cid.Cid, off int64, _ int) error {
		if off == 1<<20 {
			second = leaf
		}
		return nil
	}); err != nil || !second.Defined() {
		t.Fatalf("the file's second leaf: %v", err)
	}
	if err := b.store.Delete(ctx, second); err != nil {
		t.Fatal(err)
	}
	r, err := b.Cat(ctx, root, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan catOutcome, 1)
	go func() {
		defer r.Close()
		got, err := io.ReadAll(r)
		done <- catOutcome{got, err}
	}()
	if o := awaitCat(t, done); !errors.Is(o.err, blockstore.ErrNotFound) || len(o.got) > 1<<20 {
		t.Fatalf("the cat read %d bytes, %v; want the first MiB, then a miss", len(o.got), o.err)
	}
}

// TestGatewayWaitsForPeersThatWentAway: a browser's stream from the
// gateway (a video) whose only peer went away in the middle pauses, and
// goes on, whole, once the peer is back.
func TestGatewayWaitsForPeersThatWentAway(t *testing.T) {
	provRepo := t.TempDir()
	viewer := newLocalNode(t)
	a := newNodeAt(t, provRepo, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	data := randomData(24 << 20)
	root := addData(t, a, data)
	connect(t, viewer, a.Host())
	resp := streamGet(t, viewer, "/ipfs/"+root.String()+"?filename=film.bin", "")
	defer resp.Body.Close()
	head := make([]byte, 4<<20)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rest := make(chan catOutcome, 1)
	go func() {
		got, err := io.ReadAll(resp.Body)
		rest <- catOutcome{got, err}
	}()
	select {
	case o := <-rest:
		t.Fatalf("the stream ended while it should wait: %d more bytes, %v", len(o.got), o.err)
	case <-time.After(3 * waitRetryFirst):
	}
	a = newNodeAt(t, provRepo, nil) // the peer is back
	connect(t, viewer, a.Host())
	o := awaitCat(t, rest)
	if got := append(head, o.got...); o.err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the stream read %d bytes (%v), want the %d shared", len(got), o.err, len(data))
	}
}
