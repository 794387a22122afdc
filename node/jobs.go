package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

const (
	// keepFinished is how long a finished job stays listed, so a page
	// reloaded after a transfer ended still shows how it ended.
	keepFinished = time.Hour
	// maxFinished bounds the finished jobs kept, whatever their age.
	maxFinished = 100
	// jobNotifyInterval bounds progress notifications per job: enough for a
	// live bar, few enough that watchers are not flooded.
	jobNotifyInterval = 200 * time.Millisecond
	// resumeWait is how long a job resumed after a restart keeps waiting
	// for a peer that has its content: the network is only starting, and
	// the provider may come back later (a laptop waking up).
	resumeWait = time.Hour
)

// jobRegistry runs fetch-and-pin jobs in the background, on the node's
// context rather than a request's, and remembers how they went. Its
// goroutines are the node's background work, so Close cancels and waits
// for them. A running job can be paused (its run is cancelled, the job
// stays) and resumed (a new run, which fetches only what is missing).
// Unfinished jobs, paused ones included, are also kept in a journal in the
// repo, and resume starts them again (or lists them paused) when the
// daemon starts.
type jobRegistry struct {
	n *Node

	mu       sync.Mutex
	jobs     map[string]*job
	watchers map[int]func(api.Job)
	nextW    int
	// journal is nil until resume has read it: writing before then would
	// lose the jobs it holds.
	journal *jobJournal
}

// job is one entry of the registry; its fields are guarded by the
// registry's mutex.
type job struct {
	api.Job
	root       cid.Cid
	cancel     context.CancelFunc
	canceled   bool // by CancelJob, as opposed to the daemon stopping
	lastNotify time.Time
	// unfinished puts the job in the journal: true while it runs or is
	// paused, and still true when the daemon stopped before it ended, so
	// that the next start resumes it (or lists it paused).
	unfinished bool
	// gen counts the job's runs: a resume starts a new one, and what an
	// older run reports once it is stopped is ignored.
	gen int
	// done is closed when the latest run has returned (nil before the
	// first run: a job listed paused from the journal).
	done chan struct{}
	// release ends the job's hold on its root (GCLocker.Hold): while a job
	// runs or is unfinished, a gc keeps what it fetched, so that a paused
	// transfer resumes where it stopped, as the UI promises.
	release func()
}

func newJobRegistry(n *Node) *jobRegistry {
	return &jobRegistry{n: n, jobs: map[string]*job{}, watchers: map[int]func(api.Job){}}
}

// The node runs background jobs for the API.
var _ api.Jobs = (*Node)(nil)

// StartFetch starts fetching and pinning c in the background.
func (n *Node) StartFetch(c cid.Cid, name string) (api.Job, error) { return n.jobs.start(c, name) }

// Jobs lists running and recently finished jobs, newest first.
func (n *Node) Jobs() []api.Job { return n.jobs.list() }

// CancelJob stops a running or paused job.
func (n *Node) CancelJob(id string) (api.Job, error) { return n.jobs.cancelJob(id) }

// PauseJob stops a running job's fetch and keeps what it fetched.
func (n *Node) PauseJob(id string) (api.Job, error) { return n.jobs.pauseJob(id) }

// ResumeJob starts a paused job's fetch again.
func (n *Node) ResumeJob(id string) (api.Job, error) { return n.jobs.resumeJob(id) }

// WatchJobs calls fn whenever a job changes, until stop is called.
func (n *Node) WatchJobs(fn func(api.Job)) (stop func()) { return n.jobs.watch(fn) }

func (r *jobRegistry) start(c cid.Cid, name string) (api.Job, error) {
	if err := r.n.ctx.Err(); err != nil {
		return api.Job{}, fmt.Errorf("start fetch of %s: the daemon is stopping: %w", c, api.ErrUnavailable)
	}
	snap, changed := r.add(c, name, nil)
	if changed {
		r.persist()
	}
	return snap, nil
}

// add registers a job for c and runs it, unless one for c is running
// already (then it returns that one and false) or paused (then it resumes
// that one). from, when not nil, is the journal's entry of a job the
// daemon ran before it restarted: the job keeps its ID and start time, and
// waits for peers that have c.
func (r *jobRegistry) add(c cid.Cid, name string, from *journalEntry) (api.Job, bool) {
	r.mu.Lock()
	for _, j := range r.jobs {
		if j.Cid != c.String() {
			continue
		}
		switch j.State {
		case api.JobRunning:
			snap := j.Job
			r.mu.Unlock()
			return snap, false
		case api.JobPaused:
			launch := r.resumeLocked(j)
			snap := j.Job
			r.mu.Unlock()
			r.notify(snap)
			launch()
			return snap, true
		}
	}
	j := r.newJobLocked(c, name, from)
	j.State, j.Phase = api.JobRunning, "searching"
	launch := r.launchLocked(j, from != nil)
	snap := j.Job
	r.mu.Unlock()
	// Announce the job before it can finish, so watchers never see it
	// running after it ended.
	r.notify(snap)
	launch()
	return snap, true
}

// newJobLocked registers a job for c, under the ID of from when the
// journal gave one and it is free.
func (r *jobRegistry) newJobLocked(c cid.Cid, name string, from *journalEntry) *job {
	j := &job{root: c, unfinished: true, Job: api.Job{Cid: c.String(), Name: name, Started: time.Now().UTC()}}
	j.release = r.n.gcl.Hold(c)
	if from != nil {
		j.ID, j.Started = from.ID, from.Started
	}
	if _, taken := r.jobs[j.ID]; j.ID == "" || taken {
		var id [8]byte
		_, _ = rand.Read(id[:])
		j.ID = hex.EncodeToString(id[:])
	}
	r.jobs[j.ID] = j
	r.pruneLocked()
	return j
}

// launchLocked prepares a new run of j and returns the func that starts
// it, to call once the registry's lock is released and watchers were told.
// The run waits for the job's previous run to return, so that two never
// fetch at once. waitForPeers is for jobs resumed after a restart.
func (r *jobRegistry) launchLocked(j *job, waitForPeers bool) func() {
	// The run's context hangs off the node's, not the request's: it ends
	// when the job is cancelled or paused, or the daemon stops.
	ctx, cancel := context.WithCancel(r.n.ctx)
	j.cancel = cancel
	j.gen++
	gen, prev, done := j.gen, j.done, make(chan struct{})
	j.done = done
	return func() {
		r.n.background(func(context.Context) {
			defer close(done)
			defer cancel()
			if prev != nil {
				select {
				case <-prev:
				case <-ctx.Done():
				}
			}
			r.run(ctx, j, gen, waitForPeers)
		})
	}
}

// run fetches and pins, then records the outcome. A job resumed after a
// restart waits for peers that have its content instead of failing at once.
func (r *jobRegistry) run(ctx context.Context, j *job, gen int, waitForPeers bool) {
	c, name := j.root, j.Name // fixed for the job's life
	progress := func(p api.Progress) { r.progress(j, gen, p) }
	var pin api.Pin
	var err error
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("fetch %s: %w", c, ctx.Err())
	case waitForPeers:
		pin, err = r.n.pinAdd(ctx, c, api.PinOptions{Name: name}, patience{wait: resumeWait, fromStart: true}, progress)
	default:
		pin, err = r.n.pinAdd(ctx, c, api.PinOptions{Name: name}, patience{wait: jobDropWait}, progress)
	}
	var explained missReason
	var miss *missError
	if errors.As(err, &miss) {
		explained = miss.reason
	} else if err != nil && errors.Is(err, blockstore.ErrNotFound) && ctx.Err() == nil {
		explained = r.n.explainMiss(ctx, c)
	}
	r.mu.Lock()
	if j.gen != gen || j.State == api.JobCanceled {
		// A newer run reports, or the job was cancelled while paused.
		r.mu.Unlock()
		return
	}
	now := time.Now().UTC()
	j.Rate, j.Peers, j.Phase = 0, 0, ""
	switch {
	case err == nil: // even if a pause came as it ended: it is all here
		j.State = api.JobDone
		j.Finished = &now
		j.Size = pin.Size
		if j.Total == 0 {
			j.Total = int64(pin.Size)
		}
		j.Bytes = j.Total
	case j.State == api.JobPaused:
		// Paused: what it fetched stays, and so does the job.
	case j.canceled:
		j.State = api.JobCanceled
		j.Finished = &now
	default:
		j.State = api.JobFailed
		j.Finished = &now
		j.Error = err.Error()
		j.Reason = explained.text
		j.Connected, j.Providers = explained.connected, explained.providers
		if ctx.Err() != nil {
			j.Reason = "The daemon stopped before the transfer finished."
		}
	}
	// A paused job stays in the journal, and so does one the daemon's
	// stopping cut short.
	j.unfinished = j.State == api.JobPaused || (err != nil && !j.canceled && ctx.Err() != nil)
	j.releaseIfEnded()
	snap := j.Job
	r.mu.Unlock()
	r.notify(snap)
	r.persist()
}

// progress records a run's progress; a paused job's, or an older run's,
// is ignored: what it says after the pause is not the job's any more.
func (r *jobRegistry) progress(j *job, gen int, p api.Progress) {
	if p.Phase != "fetch" && p.Phase != "waiting" {
		return
	}
	now := time.Now()
	r.mu.Lock()
	if j.gen != gen || j.State != api.JobRunning {
		r.mu.Unlock()
		return
	}
	switch {
	case p.Phase == "waiting":
		// No peer has the rest now: what is here stays as counted.
		j.Phase, j.Peers, j.Rate = "waiting", 0, 0
		j.lastNotify = time.Time{} // told at once
	default:
		j.Bytes, j.Total, j.Peers, j.Rate, j.Have = p.Bytes, p.Total, p.Peers, p.Rate, p.Have
		// Waiting ends when a peer serves again (a new try counts on from
		// the blocks of the last).
		if j.Phase == "waiting" && p.Peers > 0 || j.Phase != "waiting" && p.Count > 0 {
			j.Phase = "fetching"
		}
	}
	if now.Sub(j.lastNotify) < jobNotifyInterval {
		r.mu.Unlock()
		return
	}
	j.lastNotify = now
	snap := j.Job
	r.mu.Unlock()
	r.notify(snap)
}

func (r *jobRegistry) list() []api.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked()
	out := make([]api.Job, 0, len(r.jobs))
	for _, j := range r.jobs {
		out = append(out, j.Job)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Started.After(out[b].Started) })
	return out
}

// releaseIfEnded ends the job's hold on what it fetched once it has ended
// for good (done: pinned; failed or cancelled: a gc may take it); called
// with the registry's lock held.
func (j *job) releaseIfEnded() {
	if j.unfinished || j.release == nil {
		return
	}
	j.release()
	j.release = nil
}

// pruneLocked forgets finished jobs that are too old or too many.
func (r *jobRegistry) pruneLocked() {
	var finished []*job
	for id, j := range r.jobs {
		if j.Finished == nil || j.unfinished {
			continue
		}
		if time.Since(*j.Finished) > keepFinished {
			delete(r.jobs, id)
			continue
		}
		finished = append(finished, j)
	}
	if len(finished) <= maxFinished {
		return
	}
	sort.Slice(finished, func(a, b int) bool { return finished[a].Finished.After(*finished[b].Finished) })
	for _, j := range finished[maxFinished:] {
		delete(r.jobs, j.ID)
	}
}

func (r *jobRegistry) watch(fn func(api.Job)) (stop func()) {
	r.mu.Lock()
	id := r.nextW
	r.nextW++
	r.watchers[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watchers, id)
		r.mu.Unlock()
	}
}

// notify hands a job's state to every watcher, outside the lock so a
// watcher cannot stall the registry for long.
func (r *jobRegistry) notify(j api.Job) {
	r.mu.Lock()
	fns := make([]func(api.Job), 0, len(r.watchers))
	for _, fn := range r.watchers {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(j)
	}
}
