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
		{"alone", false, "No peers at all: this node is not connected to any peer"},
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
			// The error says the same in one line, naming the CID at most once.
			if !strings.Contains(end.Error, tt.want) || strings.Count(end.Error, missing.String()) > 1 || end.Providers != 0 {
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

// TestJobResumesAfterRestart starts a get from a slow provider, stops the
// daemon halfway, stops the provider too, and starts the daemon again on
// the same repo: the job is listed under the same ID, waits for a peer
// that has the content, and completes once the provider is back, fetching
// only what it lacked. The journal is empty once the job is done.
func TestJobResumesAfterRestart(t *testing.T) {
	repo, provRepo := t.TempDir(), t.TempDir()
	a := newNodeAt(t, provRepo, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	data := randomData(24 << 20) // 24 leaves of 1 MiB and a root
	root := addData(t, a, data)
	b := newNodeAt(t, repo, nil)
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "resumed.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, repo); len(got) != 1 || got[0].ID != j.ID || got[0].Cid != root.String() || got[0].Name != "resumed.bin" {
		t.Fatalf("journal of a running job: %+v", got)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.Phase == "fetching" && j.Bytes >= 4<<20 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, repo); len(got) != 1 || got[0].ID != j.ID || !got[0].Started.Equal(j.Started) {
		t.Fatalf("journal after the daemon stopped mid-transfer: %+v, want job %s", got, j.ID)
	}
	if err := a.Close(); err != nil { // the provider goes away too
		t.Fatal(err)
	}

	b = newNodeAt(t, repo, nil)
	w = watchJobs(t, b)
	listed := b.Jobs()
	if len(listed) != 1 || listed[0].ID != j.ID || listed[0].State != api.JobRunning || listed[0].Name != "resumed.bin" {
		t.Fatalf("jobs after the restart: %+v, want job %s running", listed, j.ID)
	}
	// With no peer around it waits rather than failing.
	awaitJob(t, b, w, j.ID, func(j api.Job) bool { return j.Phase == "waiting" })

	a = newNodeAt(t, provRepo, nil) // the provider is back
	connect(t, b, a.Host())
	done := awaitJob(t, b, w, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
	if done.State != api.JobDone || done.Size != uint64(len(data)) {
		t.Fatalf("resumed job ended %+v", done)
	}
	got, _ := getBytes(t, b, root)
	if !bytes.Equal(got, data) {
		t.Fatal("the resumed job stored different bytes")
	}
	pins, _ := b.Pins(context.Background())
	if len(pins) != 1 || pins[0].Cid != root.String() || pins[0].Name != "resumed.bin" {
		t.Fatalf("pins after the resumed job: %+v", pins)
	}
	servedTheRest(t, a) // at least 4 of the 25 blocks came before the restart
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, repo); len(got) != 0 {
		t.Fatalf("journal after the job finished: %+v", got)
	}
}

// TestJobWaitsForPeersThatWentAway: a background fetch whose only
// provider goes away in the middle says it waits, keeping the bytes it
// counted, and finishes once the provider is back.
func TestJobWaitsForPeersThatWentAway(t *testing.T) {
	provRepo := t.TempDir()
	a := newNodeAt(t, provRepo, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	data := randomData(16 << 20)
	root := addData(t, a, data)
	b := newLocalNode(t)
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "away.bin")
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.Phase == "fetching" && j.Bytes >= 4<<20 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waiting := w.wait(t, j.ID, func(j api.Job) bool { return j.Phase == "waiting" })
	if waiting.State != api.JobRunning || waiting.Bytes < 4<<20 || waiting.Peers != 0 {
		t.Fatalf("waiting job %+v, want running with what it fetched", waiting)
	}
	a = newNodeAt(t, provRepo, nil)
	connect(t, b, a.Host())
	done := awaitJob(t, b, w, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
	if done.State != api.JobDone || done.Size != uint64(len(data)) {
		t.Fatalf("job ended %+v", done)
	}
}

// TestJobJournalDropsEndedJobs checks that a failed and a cancelled job
// leave the journal, so a restart does not start them again.
func TestJobJournalDropsEndedJobs(t *testing.T) {
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 1 << 20 })
	root := addData(t, a, randomData(16<<20))
	sum, _ := multihash.Sum([]byte("content nobody has"), multihash.SHA2_256, -1)
	missing := cid.NewCidV1(cid.Raw, sum)
	b := newLocalNode(t)
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	canceled, err := b.StartFetch(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, b.RepoDir()); len(got) != 1 || got[0].ID != canceled.ID {
		t.Fatalf("journal of a running job: %+v", got)
	}
	failing, err := b.StartFetch(missing, "")
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, canceled.ID, func(j api.Job) bool { return j.Bytes > 0 })
	if _, err := b.CancelJob(canceled.ID); err != nil {
		t.Fatal(err)
	}
	w.wait(t, canceled.ID, func(j api.Job) bool { return j.State == api.JobCanceled })
	w.wait(t, failing.ID, func(j api.Job) bool { return j.State == api.JobFailed })
	// Close waits for the jobs' last journal writes.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, b.RepoDir()); len(got) != 0 {
		t.Fatalf("journal after a failed and a cancelled job: %+v", got)
	}
}

// awaitJob is jobWatch.wait for states that may have been reported before
// the watch began: it looks at the node's list first.
func awaitJob(t *testing.T, n *Node, w *jobWatch, id string, ok func(api.Job) bool) api.Job {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		for _, j := range n.Jobs() {
			if j.ID == id && ok(j) {
				return j
			}
		}
		select {
		case <-w.ch:
		case <-deadline:
			t.Fatalf("job %s never reached the expected state; it is %+v", id, n.Jobs())
		}
	}
}

func readJournal(t *testing.T, repo string) []journalEntry {
	t.Helper()
	entries, err := newJobJournal(repo).load()
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// blocksServed reads n's count of blocks sent to peers over kith's
// protocol.
func blocksServed(t *testing.T, n *Node) float64 {
	t.Helper()
	return metricValue(t, n, "kith_fetch_blocks_served_total")
}

// servedTheRest checks that a provider back after a restart served the
// rest of 25 blocks of which at least 4 had come before: at least one
// block, and at most 21 over each protocol it speaks (kith's, and
// Bitswap, which a getter whose Bitswap still wanted them can ask too).
func servedTheRest(t *testing.T, a *Node) {
	t.Helper()
	kith, bs := blocksServed(t, a), metricValue(t, a, "kith_bitswap_blocks_served_total")
	if kith+bs == 0 || kith > 21 || bs > 21 {
		t.Fatalf("the provider served %v blocks over kith's protocol and %v over Bitswap after it came back, want 1 to 21", kith, bs)
	}
}

// metricValue reads n's counter name.
func metricValue(tb testing.TB, n *Node, name string) float64 {
	tb.Helper()
	families, err := n.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	tb.Fatalf("no %s metric", name)
	return 0
}
