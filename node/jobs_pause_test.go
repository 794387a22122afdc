package node

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/web/api"
)

// TestJobPauseResumeAcrossRestart pauses a get halfway: the provider stops
// sending (its upload rate to us falls to 0) and the job keeps its bytes,
// a gc too; the daemon restarts and lists the job paused, as it was (a gc
// still takes none of its bytes); resumed, the
// job starts from what is here (have), completes with the right bytes,
// and the provider sent only what was missing.
func TestJobPauseResumeAcrossRestart(t *testing.T) {
	repo := t.TempDir()
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 4 << 20 })
	data := randomData(24 << 20) // 24 leaves of 1 MiB and a root
	root := addData(t, a, data)
	b := newNodeAt(t, repo, nil)
	bID := b.Host().ID()
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "paused.bin")
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.Bytes >= 4<<20 })
	paused, err := b.PauseJob(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if paused.State != api.JobPaused || paused.Bytes < 4<<20 || paused.Bytes >= paused.Total || paused.Finished != nil {
		t.Fatalf("paused job %+v", paused)
	}
	// The fetch has stopped: nothing reached A's upload to us for a whole
	// rate window, and the job's bytes did not move.
	stopped := waitUpload(t, a, bID, func(u api.Upload) bool { return u.Rate == 0 })
	if now := jobByID(t, b, j.ID); now.State != api.JobPaused || now.Bytes != paused.Bytes || now.Rate != 0 {
		t.Fatalf("job after the pause %+v, want it paused at %d bytes", now, paused.Bytes)
	}
	if _, err := b.PauseJob(j.ID); classifyKind(err) != api.KindConflict || !strings.Contains(err.Error(), `"paused.bin" is paused: only a running transfer can be paused`) {
		t.Fatalf("pause of a paused job: %v", err)
	}
	// What a paused transfer fetched is kept from gc: the UI says it
	// resumes where it stopped.
	keptByGC := func() {
		t.Helper()
		if res, err := b.GC(context.Background(), nil); err != nil || res.Removed != 0 {
			t.Fatalf("gc with a paused job: %+v, %v; want nothing removed", res, err)
		}
	}
	keptByGC()

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, repo); len(got) != 1 || !got[0].Paused || got[0].ID != j.ID || got[0].Bytes != paused.Bytes {
		t.Fatalf("journal of a paused job: %+v", got)
	}
	b = newNodeAt(t, repo, nil)
	if listed := b.Jobs(); len(listed) != 1 || listed[0].ID != j.ID || listed[0].State != api.JobPaused ||
		listed[0].Bytes != paused.Bytes || listed[0].Total != paused.Total || listed[0].Name != "paused.bin" {
		t.Fatalf("jobs after the restart: %+v, want job %s paused at %d bytes", listed, j.ID, paused.Bytes)
	}
	keptByGC()

	connect(t, b, a.Host())
	w = watchJobs(t, b)
	resumed, err := b.ResumeJob(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.State != api.JobRunning || resumed.ID != j.ID {
		t.Fatalf("resumed job %+v", resumed)
	}
	// Its progress starts from what is here.
	first := w.wait(t, j.ID, func(j api.Job) bool { return j.State == api.JobRunning && j.Have > 0 })
	if first.Have < paused.Bytes || first.Bytes < first.Have {
		t.Fatalf("resumed job's progress %+v, want have >= %d", first, paused.Bytes)
	}
	done := awaitJob(t, b, w, j.ID, func(j api.Job) bool { return j.State != api.JobRunning })
	if done.State != api.JobDone || done.Size != uint64(len(data)) {
		t.Fatalf("resumed job ended %+v", done)
	}
	got, _ := getBytes(t, b, root)
	if !bytes.Equal(got, data) {
		t.Fatal("the resumed job stored different bytes")
	}
	// After the resume A sent what was missing, give or take the blocks
	// that were on their way at the pause (at most a few of 1 MiB): B may
	// have stored them after the job's count stopped (A then sends less),
	// or dropped them (A sends them again).
	final := waitUpload(t, a, bID, func(u api.Upload) bool { return u.Bytes >= int64(len(data)) })
	if after, lacked := final.Bytes-stopped.Bytes, int64(len(data))-paused.Bytes; after < lacked-4<<20 || after > lacked+4<<20 {
		t.Fatalf("A sent %d bytes after the resume; B lacked %d", after, lacked)
	}
	if _, err := b.ResumeJob(j.ID); classifyKind(err) != api.KindConflict || !strings.Contains(err.Error(), "has finished: only a paused transfer can be resumed") {
		t.Fatalf("resume of a finished job: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(t, repo); len(got) != 0 {
		t.Fatalf("journal after the job finished: %+v", got)
	}
}

// TestJobPausedThenGetAgainOrCancel: getting a paused job's CID again
// resumes that job rather than starting a second; a paused job can be
// cancelled, which ends it and takes it out of the journal, and a
// cancelled job cannot be resumed.
func TestJobPausedThenGetAgainOrCancel(t *testing.T) {
	a := newLocalNodeWith(t, func(c *Config) { c.Fetch.UploadLimit = 1 << 20 })
	root := addData(t, a, randomData(16<<20))
	b := newLocalNode(t)
	connect(t, b, a.Host())
	w := watchJobs(t, b)
	j, err := b.StartFetch(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, j.ID, func(j api.Job) bool { return j.Bytes > 0 })
	if p, err := b.PauseJob(j.ID); err != nil || p.State != api.JobPaused {
		t.Fatalf("pause: %+v, %v", p, err)
	}
	again, err := b.StartFetch(root, "")
	if err != nil || again.ID != j.ID || again.State != api.JobRunning {
		t.Fatalf("getting a paused job's CID again: %+v, %v; want job %s running", again, err, j.ID)
	}
	if n := len(b.Jobs()); n != 1 {
		t.Fatalf("%d jobs, want the one", n)
	}
	if p, err := b.PauseJob(j.ID); err != nil || p.State != api.JobPaused {
		t.Fatalf("second pause: %+v, %v", p, err)
	}
	if res, err := b.GC(context.Background(), nil); err != nil || res.Removed != 0 {
		t.Fatalf("gc with a paused job: %+v, %v; want nothing removed", res, err)
	}
	c, err := b.CancelJob(j.ID)
	if err != nil || c.State != api.JobCanceled || c.Finished == nil {
		t.Fatalf("cancel of a paused job: %+v, %v", c, err)
	}
	// Cancelled, what it fetched is gc's to take.
	if res, err := b.GC(context.Background(), nil); err != nil || res.Removed == 0 {
		t.Fatalf("gc after the paused job was cancelled: %+v, %v; want its blocks removed", res, err)
	}
	if got := readJournal(t, b.RepoDir()); len(got) != 0 {
		t.Fatalf("journal after a paused job was cancelled: %+v", got)
	}
	_, err = b.ResumeJob(j.ID)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Kind != api.KindConflict || !strings.HasSuffix(ae.Message, "was cancelled: only a paused transfer can be resumed (get it again to start over)") {
		t.Fatalf("resume of a cancelled job: %v", err)
	}
	if _, err := b.PauseJob("no-such-job"); classifyKind(err) != api.KindNotFound {
		t.Fatalf("pause of an unknown job: %v", err)
	}
}

func jobByID(t *testing.T, n *Node, id string) api.Job {
	t.Helper()
	for _, j := range n.Jobs() {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("no job %s", id)
	return api.Job{}
}

// waitUpload waits until n's uploads to p include one ok accepts, and
// returns it.
func waitUpload(t *testing.T, n *Node, p peer.ID, ok func(api.Upload) bool) api.Upload {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last []api.Upload
	for {
		list, err := n.Uploads(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list {
			if u.Peer == p.String() && ok(u) {
				return u
			}
		}
		last = list
		if time.Now().After(deadline) {
			t.Fatalf("no upload to %s as expected; uploads %+v", p, last)
		}
		time.Sleep(50 * time.Millisecond) // polling pace, not synchronisation
	}
}
