package node

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/web/api"
)

// jobWatch records every state a node's jobs report.
type jobWatch struct {
	mu   sync.Mutex
	seen []api.Job
	ch   chan struct{}
}

func watchJobs(t *testing.T, n *Node) *jobWatch {
	w := &jobWatch{ch: make(chan struct{}, 1)}
	stop := n.WatchJobs(func(j api.Job) {
		w.mu.Lock()
		w.seen = append(w.seen, j)
		w.mu.Unlock()
		select {
		case w.ch <- struct{}{}:
		default:
		}
	})
	t.Cleanup(stop)
	return w
}

// wait returns the first reported state of job id that ok accepts.
func (w *jobWatch) wait(t *testing.T, id string, ok func(api.Job) bool) api.Job {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		w.mu.Lock()
		for _, j := range w.seen {
			if j.ID == id && ok(j) {
				w.mu.Unlock()
				return j
			}
		}
		w.mu.Unlock()
		select {
		case <-w.ch:
		case <-deadline:
			t.Fatalf("job %s never reached the expected state; saw %+v", id, w.seen)
		}
	}
}

func TestJobFetchesInBackgroundWithProgress(t *testing.T) {
	// The seeder is capped so the transfer reports progress along the way.
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 8 << 20 })
	b := newLocalNode(t)
	data := randomData(12 << 20)
	root := addData(t, a, data)
	connect(t, b, a.Host())
	w := watchJobs(t, b)

	j, err := b.StartFetch(root, "twelve.bin")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != api.JobRunning || j.Cid != root.String() {
		t.Fatalf("started job %+v", j)
	}
	// A second start of the same CID is the same job.
	if again, _ := b.StartFetch(root, "twelve.bin"); again.ID != j.ID {
		t.Fatalf("second start made job %s, want %s", again.ID, j.ID)
	}
	mid := w.wait(t, j.ID, func(j api.Job) bool { return j.State == api.JobRunning && j.Bytes > 0 && j.Total > 0 })
	if mid.Phase != "fetching" || mid.Bytes > mid.Total {
		t.Fatalf("progress %+v", mid)
	}
	done := w.wait(t, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
	if done.State != api.JobDone || done.Size != uint64(len(data)) || done.Bytes != done.Total || done.Finished == nil {
		t.Fatalf("finished job %+v", done)
	}
	pins, _ := b.Pins(context.Background())
	if len(pins) != 1 || pins[0].Cid != root.String() || pins[0].Name != "twelve.bin" {
		t.Fatalf("pins after the job: %+v", pins)
	}
	got, _ := getBytes(t, b, root)
	if !bytes.Equal(got, data) {
		t.Fatal("fetched bytes differ")
	}
	if list := b.Jobs(); len(list) != 1 || list[0].State != api.JobDone {
		t.Fatalf("jobs list %+v", list)
	}
}

func TestJobCancel(t *testing.T) {
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 1 << 20 })
	b := newLocalNode(t)
	root := addData(t, a, randomData(32<<20))
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.Bytes > 0 })
	if _, err := b.CancelJob(j.ID); err != nil {
		t.Fatal(err)
	}
	end := w.wait(t, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
	if end.State != api.JobCanceled {
		t.Fatalf("cancelled job ended %+v", end)
	}
	if _, err := b.CancelJob("no-such-job"); err == nil || classifyKind(err) != api.KindNotFound {
		t.Fatalf("cancel of an unknown job: %v", err)
	}
}

func TestJobFailureSaysWhy(t *testing.T) {
	sum, _ := multihash.Sum([]byte("content nobody has"), multihash.SHA2_256, -1)
	missing := cid.NewCidV1(cid.Raw, sum)
	tests := []struct {
		name    string
		connect bool
		want    string
	}{
		{"alone", false, "No providers found: this node is not connected to any peer"},
		{"peers lack it", true, "No providers found: none of the 1 connected peers has this content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newLocalNode(t)
			if tt.connect {
				connect(t, b, newLocalNode(t).Host())
			}
			w := watchJobs(t, b)
			j, err := b.StartFetch(missing, "")
			if err != nil {
				t.Fatal(err)
			}
			end := w.wait(t, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
			if end.State != api.JobFailed || !strings.HasPrefix(end.Reason, tt.want) {
				t.Fatalf("failed job %+v, want reason %q", end, tt.want)
			}
			if !strings.Contains(end.Error, "no peer could provide it") || end.Providers != 0 {
				t.Fatalf("failed job %+v", end)
			}
		})
	}
}

// newLocalNodeWith is newLocalNode with a config adjustment.
func newLocalNodeWith(t *testing.T, configure func(*Config)) *Node {
	t.Helper()
	return newNodeAt(t, t.TempDir(), configure)
}
