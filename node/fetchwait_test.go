package node

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// progressLog records a long operation's progress events, for a test to
// wait on.
type progressLog struct {
	mu      sync.Mutex
	evs     []api.Progress
	changed chan struct{}
}

func newProgressLog() *progressLog { return &progressLog{changed: make(chan struct{}, 1)} }

func (l *progressLog) add(p api.Progress) {
	l.mu.Lock()
	l.evs = append(l.evs, p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *progressLog) all() []api.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]api.Progress(nil), l.evs...)
}

// await waits for an event that ok accepts and returns it.
func (l *progressLog) await(t *testing.T, what string, ok func(api.Progress) bool) api.Progress {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		for _, p := range l.all() {
			if ok(p) {
				return p
			}
		}
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %+v", what, l.all())
		}
	}
}

type getOutcome struct {
	res api.GetResult
	err error
}

// startGet runs n.Get of root into a temp folder in the background.
func startGet(t *testing.T, n *Node, root cid.Cid, log *progressLog) (out string, done chan getOutcome) {
	out = filepath.Join(t.TempDir(), "out")
	done = make(chan getOutcome, 1)
	go func() {
		res, err := n.Get(context.Background(), root.String(), out, nil, log.add)
		done <- getOutcome{res, err}
	}()
	return out, done
}

func awaitGet(t *testing.T, done chan getOutcome) getOutcome {
	t.Helper()
	select {
	case o := <-done:
		return o
	case <-time.After(2 * time.Minute):
		t.Fatal("the get did not end")
	}
	return getOutcome{}
}

// dropMidGet adds data on a provider with the repo provRepo (uploads
// capped at 4 MiB/s), starts a get of it on b, and closes the provider
// once 4 MiB came.
func dropMidGet(t *testing.T, provRepo string, b *Node, data []byte) (out string, log *progressLog, done chan getOutcome) {
	t.Helper()
	a := newNodeAt(t, provRepo, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	root := addData(t, a, data)
	connect(t, b, a.Host())
	log = newProgressLog()
	out, done = startGet(t, b, root, log)
	log.await(t, "4 MiB fetched", func(p api.Progress) bool { return p.Phase == "fetch" && p.Bytes >= 4<<20 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return out, log, done
}

// TestGetWaitsForPeersThatWentAway stops the only provider in the middle
// of a get: the get does not fail, it says it waits (until when, with how
// much is here), lets gc run meanwhile without losing what came, and
// finishes once the provider is back, fetching only the rest, as one
// transfer (no "resuming" in its progress).
func TestGetWaitsForPeersThatWentAway(t *testing.T) {
	provRepo := t.TempDir()
	data := randomData(24 << 20) // 24 leaves of 1 MiB and a root
	b := newLocalNode(t)
	out, log, done := dropMidGet(t, provRepo, b, data)
	w := log.await(t, "a waiting event", func(p api.Progress) bool { return p.Phase == "waiting" })
	if w.Bytes < 4<<20 || w.Total < int64(len(data)) || w.Peers != 0 ||
		w.Until.Before(time.Now().Add(defaultDropWait-time.Minute)) || w.Until.After(time.Now().Add(defaultDropWait)) {
		t.Fatalf("waiting event %+v, want what is here, the total, and a deadline %v from now", w, defaultDropWait)
	}
	select {
	case o := <-done:
		t.Fatalf("the get ended while it should wait: %+v", o)
	default:
	}
	// A gc does not wait for the provider to come back, and keeps what
	// the waiting get fetched.
	if _, err := b.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	a := newNodeAt(t, provRepo, nil) // the provider is back
	connect(t, b, a.Host())
	o := awaitGet(t, done)
	if o.err != nil {
		t.Fatalf("the get failed after the provider came back: %v", o.err)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the get wrote other bytes (%v)", err)
	}
	if o.res.Fetched.Bytes < int64(len(data)) || o.res.Fetched.Blocks != 25 {
		t.Fatalf("fetch stats %+v, want the 25 blocks counted once over both tries", o.res.Fetched)
	}
	servedTheRest(t, a)
	for _, p := range log.all() {
		if p.Phase == "fetch" && p.Have != 0 {
			t.Fatalf("progress said %d bytes were here before the get: %+v", p.Have, p)
		}
	}
}

// TestGetGivesUpWhenPeersStayAway: when no peer that has the rest comes
// back in time, the get fails saying so (not "nobody has it"), with how
// much is here and that the same command fetches only the rest.
func TestGetGivesUpWhenPeersStayAway(t *testing.T) {
	b := newLocalNode(t)
	b.dropWait = 2 * time.Second
	out, log, done := dropMidGet(t, t.TempDir(), b, randomData(24<<20))
	o := awaitGet(t, done)
	if o.err == nil {
		t.Fatal("the get succeeded with its only provider gone")
	}
	msg := api.Sentence(o.err)
	if !errors.Is(o.err, blockstore.ErrNotFound) || !strings.Contains(msg, "went away") ||
		!strings.Contains(msg, "of 24 MiB is here") || !strings.Contains(msg, "only the rest is fetched") {
		t.Fatalf("error %q (%v), want it to say the peers went away, what is here, and that running it again fetches the rest", msg, o.err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the failed get left %s behind: %v", out, err)
	}
	if w := log.await(t, "a waiting event", func(p api.Progress) bool { return p.Phase == "waiting" }); w.Bytes < 4<<20 {
		t.Fatalf("waiting event %+v", w)
	}
}
